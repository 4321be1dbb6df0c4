package dev.goplugin4j.examples.plugins;

import com.google.protobuf.ByteString;
import dev.goplugin4j.interop.proto.kv.Empty;
import dev.goplugin4j.interop.proto.kv.GetRequest;
import dev.goplugin4j.interop.proto.kv.GetResponse;
import dev.goplugin4j.interop.proto.kv.KVGrpc;
import dev.goplugin4j.interop.proto.kv.PutRequest;
import dev.goplugin4j.server.PluginServer;
import dev.goplugin4j.server.ServeConfig;
import io.grpc.Context;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A test plugin serving the examples/grpc KV service with a slow path: {@code Get} of a key
 * starting with {@code slow} writes {@code slow-started-<pid>} into {@code SLOW_MARKERS_DIR}
 * (default: the working directory), blocks until its call is cancelled (at most 60 s) and then
 * writes {@code slow-cancelled-<pid>} or {@code slow-finished-<pid>}. It also prints to stdout
 * while registering, before the handshake: the SDK must keep that off the protocol.
 */
public final class SlowKvPlugin extends KVGrpc.KVImplBase {
  private final Path markers;

  private SlowKvPlugin(Path markers) {
    this.markers = markers;
  }

  /**
   * Serves the plugin.
   *
   * @param args ignored
   */
  public static void main(String[] args) {
    String dir = System.getenv("SLOW_MARKERS_DIR");
    SlowKvPlugin kv = new SlowKvPlugin(Path.of(dir == null ? "" : dir));
    PluginServer.serveAndExit(
        ServeConfig.builder()
            .handshake(ExampleHandshake.PROTOCOL_VERSION, ExampleHandshake.MAGIC_COOKIE_KEY,
                ExampleHandshake.MAGIC_COOKIE_VALUE)
            .plugin("kv", (services, broker) -> {
              System.out.println("stray stdout while registering");
              System.out.print("and a partial line");
              services.addService(kv);
            })
            .build());
  }

  private void mark(String what) {
    try {
      Files.writeString(markers.resolve(what + "-" + ProcessHandle.current().pid()), "");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void put(PutRequest request, StreamObserver<Empty> responses) {
    responses.onNext(Empty.getDefaultInstance());
    responses.onCompleted();
  }

  @Override
  public void get(GetRequest request, StreamObserver<GetResponse> responses) {
    if (!request.getKey().startsWith("slow")) {
      responses.onNext(GetResponse.newBuilder().setValue(ByteString.copyFromUtf8("fast")).build());
      responses.onCompleted();
      return;
    }
    mark("slow-started");
    Context ctx = Context.current();
    long end = System.nanoTime() + 60_000_000_000L;
    try {
      while (!ctx.isCancelled() && System.nanoTime() < end) {
        Thread.sleep(20);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    mark(ctx.isCancelled() ? "slow-cancelled" : "slow-finished");
    responses.onNext(GetResponse.newBuilder().setValue(ByteString.copyFromUtf8("too late")).build());
    responses.onCompleted();
  }
}
