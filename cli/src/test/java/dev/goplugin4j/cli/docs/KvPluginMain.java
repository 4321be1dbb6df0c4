package dev.goplugin4j.cli.docs;

import com.google.protobuf.ByteString;
import dev.goplugin4j.interop.proto.kv.Empty;
import dev.goplugin4j.interop.proto.kv.GetRequest;
import dev.goplugin4j.interop.proto.kv.GetResponse;
import dev.goplugin4j.interop.proto.kv.KVGrpc;
import dev.goplugin4j.interop.proto.kv.PutRequest;
import dev.goplugin4j.server.PluginServer;
import dev.goplugin4j.server.ServeConfig;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * A KV plugin in Java that go-plugin's own Go host (examples/grpc) loads unchanged. Like the Go
 * plugin there, it keeps each value in a file {@code kv_<key>} in its working directory: that host
 * runs {@code put} and {@code get} as two processes, each starting the plugin anew.
 */
public final class KvPluginMain {
  private KvPluginMain() {}

  /** The service: go-plugin's kv.proto, one file per key, as the Go example plugin does. */
  static final class KvService extends KVGrpc.KVImplBase {
    @Override
    public void put(PutRequest request, StreamObserver<Empty> response) {
      Path file = Path.of("kv_" + request.getKey());
      ByteString note = ByteString.copyFromUtf8("\n\nWritten from plugin-java-grpc");
      try {
        Files.write(file, request.getValue().concat(note).toByteArray());
      } catch (IOException e) {
        response.onError(Status.INTERNAL.withDescription("cannot write " + file + ": " + e)
            .asRuntimeException());
        return;
      }
      response.onNext(Empty.getDefaultInstance());
      response.onCompleted();
    }

    @Override
    public void get(GetRequest request, StreamObserver<GetResponse> response) {
      Path file = Path.of("kv_" + request.getKey());
      try {
        response.onNext(GetResponse.newBuilder()
            .setValue(ByteString.copyFrom(Files.readAllBytes(file))).build());
        response.onCompleted();
      } catch (NoSuchFileException e) {
        response.onError(Status.NOT_FOUND.withDescription("no value for " + request.getKey())
            .asRuntimeException());
      } catch (IOException e) {
        response.onError(Status.INTERNAL.withDescription("cannot read " + file + ": " + e)
            .asRuntimeException());
      }
    }
  }

  /** Started by a host, never by hand: it refuses to run without the magic cookie. */
  public static void main(String[] args) {
    PluginServer.serveAndExit(ServeConfig.builder()
        .handshake(1, "BASIC_PLUGIN", "hello")
        .plugin("kv", (services, broker) -> services.addService(new KvService()))
        .build());
  }
}
