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
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** docs/plugin-sdk.md's plugin: its "Getting started" and "Logging" show excerpts of this file. */
public final class KvPlugin extends KVGrpc.KVImplBase {
  private static final Logger log = LoggerFactory.getLogger(KvPlugin.class);

  public static void main(String[] args) {
    PluginServer.serveAndExit(ServeConfig.builder()
        .handshake(1, "BASIC_PLUGIN", "hello")              // must match the host's HandshakeConfig
        .plugin("kv", (services, broker) -> services.addService(new KvPlugin()))
        .build());
  }

  @Override
  public void put(PutRequest request, StreamObserver<Empty> responses) {
    try {
      Files.write(Path.of("kv_" + request.getKey()), request.getValue().toByteArray());
    } catch (IOException e) {
      responses.onError(Status.INTERNAL.withDescription(e.toString()).asRuntimeException());
      return;
    }
    log.atInfo().addKeyValue("key", request.getKey()).addKeyValue("bytes", request.getValue().size())
        .log("stored a value");
    responses.onNext(Empty.getDefaultInstance());
    responses.onCompleted();
  }

  @Override
  public void get(GetRequest request, StreamObserver<GetResponse> responses) {
    try {
      byte[] value = Files.readAllBytes(Path.of("kv_" + request.getKey()));
      responses.onNext(GetResponse.newBuilder().setValue(ByteString.copyFrom(value)).build());
      responses.onCompleted();
    } catch (IOException e) {
      responses.onError(Status.NOT_FOUND.withDescription(e.toString()).asRuntimeException());
    }
  }
}
