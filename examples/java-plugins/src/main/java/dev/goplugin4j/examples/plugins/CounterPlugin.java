package dev.goplugin4j.examples.plugins;

import dev.goplugin4j.interop.proto.counter.AddHelperGrpc;
import dev.goplugin4j.interop.proto.counter.CounterGrpc;
import dev.goplugin4j.interop.proto.counter.Empty;
import dev.goplugin4j.interop.proto.counter.GetRequest;
import dev.goplugin4j.interop.proto.counter.GetResponse;
import dev.goplugin4j.interop.proto.counter.PutRequest;
import dev.goplugin4j.interop.proto.counter.SumRequest;
import dev.goplugin4j.protocol.GrpcBroker;
import dev.goplugin4j.server.PluginServer;
import dev.goplugin4j.server.ServeConfig;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Counter plugin of go-plugin's {@code examples/bidirectional}, in Java. {@code Put(key,
 * value, add_server)} reads the current count, asks the host to add through the {@code AddHelper}
 * service the host offers on broker id {@code add_server}, and stores the sum in {@code kv_<key>}
 * as {@code {"Value":N}} (the Go plugin's format); {@code Get} reads it.
 */
public final class CounterPlugin extends CounterGrpc.CounterImplBase {
  private static final Logger log = LoggerFactory.getLogger(CounterPlugin.class);
  private static final Pattern VALUE = Pattern.compile("\"Value\"\\s*:\\s*(-?\\d+)");

  private final Path dir;
  private final GrpcBroker broker;

  /**
   * A counter keeping its files in {@code dir} and calling back through {@code broker}.
   *
   * @param dir where the {@code kv_} files go
   * @param broker the plugin's broker
   */
  public CounterPlugin(Path dir, GrpcBroker broker) {
    this.dir = dir;
    this.broker = broker;
  }

  /**
   * Serves the plugin; exits when the host is done with it.
   *
   * @param args ignored
   */
  public static void main(String[] args) {
    PluginServer.serveAndExit(
        ServeConfig.builder()
            .handshake(ExampleHandshake.PROTOCOL_VERSION, ExampleHandshake.MAGIC_COOKIE_KEY,
                ExampleHandshake.MAGIC_COOKIE_VALUE)
            .plugin("counter",
                (services, broker) -> services.addService(new CounterPlugin(Path.of(""), broker)))
            .build());
  }

  @Override
  public void put(PutRequest request, StreamObserver<Empty> responses) {
    long current;
    try {
      current = read(request.getKey());
    } catch (NoSuchFileException e) {
      current = 0;
    } catch (IOException e) {
      responses.onError(Status.INTERNAL.withDescription(e.toString()).asRuntimeException());
      return;
    }
    ManagedChannel host = broker.dial(request.getAddServer());
    long sum;
    try {
      sum = AddHelperGrpc.newBlockingStub(host).withDeadlineAfter(30, TimeUnit.SECONDS)
          .sum(SumRequest.newBuilder().setA(current).setB(request.getValue()).build())
          .getR();
    } catch (StatusRuntimeException e) {
      log.warn("the host's AddHelper failed: {}", e.getStatus());
      responses.onError(e);
      return;
    } finally {
      host.shutdownNow();
    }
    try {
      Files.writeString(dir.resolve("kv_" + request.getKey()), "{\"Value\":" + sum + "}");
    } catch (IOException e) {
      responses.onError(Status.INTERNAL.withDescription(e.toString()).asRuntimeException());
      return;
    }
    log.atInfo().addKeyValue("key", request.getKey()).addKeyValue("value", sum).log("counter updated");
    responses.onNext(Empty.getDefaultInstance());
    responses.onCompleted();
  }

  @Override
  public void get(GetRequest request, StreamObserver<GetResponse> responses) {
    try {
      responses.onNext(GetResponse.newBuilder().setValue(read(request.getKey())).build());
      responses.onCompleted();
    } catch (NoSuchFileException e) {
      responses.onError(Status.NOT_FOUND.withDescription("open kv_" + request.getKey()
          + ": no such file or directory").asRuntimeException());
    } catch (IOException e) {
      responses.onError(Status.INTERNAL.withDescription(e.toString()).asRuntimeException());
    }
  }

  private long read(String key) throws IOException {
    String json = Files.readString(dir.resolve("kv_" + key), StandardCharsets.UTF_8);
    Matcher m = VALUE.matcher(json);
    if (!m.find()) {
      throw new IOException("kv_" + key + " holds no {\"Value\":N}: " + json);
    }
    return Long.parseLong(m.group(1));
  }
}
