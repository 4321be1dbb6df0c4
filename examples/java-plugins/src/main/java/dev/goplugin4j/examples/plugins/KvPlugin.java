package dev.goplugin4j.examples.plugins;

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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The KV plugin of go-plugin's {@code examples/grpc}, in Java: {@code Put} writes the value to the
 * file {@code kv_<key>} in the working directory (followed by a note, as the Go plugin does),
 * {@code Get} reads it back. Serves the {@code proto.KV} service, which the example host
 * dispenses as {@code kv_grpc}.
 *
 * <pre>{@code
 * KV_PLUGIN="exec .../bin/kv-plugin" KV_PROTO=grpc ./examples-grpc-host put hello world
 * }</pre>
 */
public final class KvPlugin extends KVGrpc.KVImplBase {
  private static final Logger log = LoggerFactory.getLogger(KvPlugin.class);

  /** What the Go example appends to every value, with "go" replaced by "java". */
  static final String NOTE = "\n\nWritten from plugin-java-grpc";

  private final Path dir;

  /**
   * A KV store in a directory.
   *
   * @param dir where the {@code kv_} files go
   */
  public KvPlugin(Path dir) {
    this.dir = dir;
  }

  /**
   * Serves the plugin; exits when the host is done with it.
   *
   * @param args ignored
   */
  public static void main(String[] args) {
    KvPlugin kv = new KvPlugin(Path.of(""));
    PluginServer.serveAndExit(
        ServeConfig.builder()
            .handshake(ExampleHandshake.PROTOCOL_VERSION, ExampleHandshake.MAGIC_COOKIE_KEY,
                ExampleHandshake.MAGIC_COOKIE_VALUE)
            .plugin("kv", (services, broker) -> services.addService(kv))
            .build());
  }

  @Override
  public void put(PutRequest request, StreamObserver<Empty> responses) {
    Path file = dir.resolve("kv_" + request.getKey());
    try {
      Files.write(file, request.getValue().concat(ByteString.copyFromUtf8(NOTE)).toByteArray());
    } catch (IOException e) {
      responses.onError(Status.INTERNAL.withDescription("cannot write " + file + ": " + e).asRuntimeException());
      return;
    }
    log.atInfo().addKeyValue("key", request.getKey()).addKeyValue("bytes", request.getValue().size())
        .log("stored a value");
    // stdout is not the protocol any more: this reaches the host over plugin.GRPCStdio
    System.out.println("kv-plugin: put " + request.getKey());
    responses.onNext(Empty.getDefaultInstance());
    responses.onCompleted();
  }

  @Override
  public void get(GetRequest request, StreamObserver<GetResponse> responses) {
    Path file = dir.resolve("kv_" + request.getKey());
    try {
      byte[] value = Files.readAllBytes(file);
      log.debug("read {} ({} bytes)", file, value.length);
      responses.onNext(GetResponse.newBuilder().setValue(ByteString.copyFrom(value)).build());
      responses.onCompleted();
    } catch (NoSuchFileException e) {
      responses.onError(Status.NOT_FOUND.withDescription("open kv_" + request.getKey()
          + ": no such file or directory").asRuntimeException());
    } catch (IOException e) {
      responses.onError(Status.INTERNAL.withDescription("cannot read " + file + ": " + e).asRuntimeException());
    }
  }

  /** The value a {@code Get} returns for a {@code Put} of {@code value}. */
  static String stored(String value) {
    return value + NOTE;
  }
}
