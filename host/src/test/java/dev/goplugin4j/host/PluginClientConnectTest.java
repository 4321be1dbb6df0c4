package dev.goplugin4j.host;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import com.google.protobuf.Empty;
import dev.goplugin4j.host.PluginClientStartFailureTest.ScriptedRunner;
import dev.goplugin4j.protocol.NetAddress;
import dev.goplugin4j.protocol.internal.proto.GRPCStdioGrpc;
import dev.goplugin4j.protocol.internal.proto.StdioData;
import dev.goplugin4j.protocol.internal.transport.GrpcTransport;
import io.grpc.BindableService;
import io.grpc.Channel;
import io.grpc.Server;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * How a launch proves the plugin reachable: the channel READY with the broker and stdio streams
 * opened alongside (no health RPC), and the health check's retries when the first connection
 * fails, after which the streams are opened again. The plugin side is an in-JVM gRPC server on
 * loopback TCP behind a scripted runner.
 */
class PluginClientConnectTest {
  EventLoopGroup group;
  Server server;
  final AtomicInteger healthCalls = new AtomicInteger();

  @BeforeEach
  void setUp() {
    group = GrpcTransport.newEventLoopGroup(1, "test-plugin-io");
  }

  @AfterEach
  void tearDown() throws Exception {
    if (server != null) {
      server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    GrpcTransport.shutdown(group);
  }

  /** Counts health calls and answers SERVING. */
  private BindableService health() {
    return new HealthGrpc.HealthImplBase() {
      @Override
      public void check(HealthCheckRequest req, StreamObserver<HealthCheckResponse> out) {
        healthCalls.incrementAndGet();
        out.onNext(HealthCheckResponse.newBuilder()
            .setStatus(HealthCheckResponse.ServingStatus.SERVING).build());
        out.onCompleted();
      }
    };
  }

  /** Sends one line on the plugin's stdout to every stdio stream, and keeps it open. */
  private static BindableService stdio(String line) {
    return new GRPCStdioGrpc.GRPCStdioImplBase() {
      @Override
      public void streamStdio(Empty req, StreamObserver<StdioData> out) {
        out.onNext(StdioData.newBuilder().setChannel(StdioData.Channel.STDOUT)
            .setData(ByteString.copyFromUtf8(line + "\n")).build());
      }
    };
  }

  private void serve(int port) {
    server = GrpcTransport.server(NetAddress.tcp("127.0.0.1:" + port), null, group, group,
        List.of(health(), stdio("from the plugin")));
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  private static PluginClient client(ScriptedRunner r, OutputStream stdout) {
    return PluginClient.builder()
        .handshake(1, "COOKIE", "yes")
        .plugin("p", (GrpcPlugin<Channel>) (ch, b) -> ch)
        .runner((cmd, socketDir) -> r)
        .autoMtls(false)
        .syncStdout(stdout)
        .startTimeout(Duration.ofSeconds(30))
        .build();
  }

  /** A sink that counts down once it has seen {@code text}. */
  static final class Sink extends OutputStream {
    final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    final CountDownLatch seen = new CountDownLatch(1);
    final String text;

    Sink(String text) {
      this.text = text;
    }

    @Override
    public synchronized void write(int b) {
      bytes.write(b);
      if (bytes.toString(StandardCharsets.UTF_8).contains(text)) {
        seen.countDown();
      }
    }
  }

  @Test
  void startOpensTheStdioStreamWithTheConnectionAndMakesNoHealthCall() throws Exception {
    int port = freePort();
    serve(port);
    ScriptedRunner r = new ScriptedRunner("");
    r.print("1|1|tcp|127.0.0.1:" + port + "|grpc|");
    Sink sink = new Sink("from the plugin");
    try (PluginClient c = client(r, sink)) {
      c.start();
      assertThat(sink.seen.await(30, TimeUnit.SECONDS)).as("plugin stdout forwarded").isTrue();
      assertThat(healthCalls).hasValue(0);
      c.ping();
      assertThat(healthCalls).hasValue(1);
    }
  }

  @Test
  void aPluginServingOnlyAfterItsHandshakeIsFoundAndGetsItsStreamsAgain() throws Exception {
    int port = freePort();
    ScriptedRunner r = new ScriptedRunner("");
    // nothing listens yet: the first connection is refused, the health check retries
    r.print("1|1|tcp|127.0.0.1:" + port + "|grpc|");
    Sink sink = new Sink("from the plugin");
    Thread late = new Thread(() -> {
      try {
        Thread.sleep(300);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
      serve(port);
    }, "late-plugin-server");
    try (PluginClient c = client(r, sink)) {
      late.start();
      c.start();
      assertThat(healthCalls).as("the health check found the plugin").hasValueGreaterThan(0);
      assertThat(sink.seen.await(30, TimeUnit.SECONDS)).as("plugin stdout forwarded").isTrue();
    } finally {
      late.join();
    }
  }
}
