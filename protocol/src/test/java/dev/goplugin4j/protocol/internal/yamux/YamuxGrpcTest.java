package dev.goplugin4j.protocol.internal.yamux;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.goplugin4j.protocol.AutoMtlsCertificate;
import dev.goplugin4j.protocol.internal.tls.TlsContexts;
import dev.goplugin4j.protocol.internal.transport.GrpcTransport;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.netty.bootstrap.ServerBootstrap;
import io.grpc.netty.shaded.io.netty.channel.Channel;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * gRPC over yamux streams between two Java sessions on a real epoll Unix socket: host side =
 * yamux client, plugin side = yamux server, as in go-plugin's multiplexed broker.
 */
class YamuxGrpcTest {
  private static final Logger LOG = LoggerFactory.getLogger(YamuxGrpcTest.class);
  private static final MethodDescriptor<byte[], byte[]> ECHO =
      MethodDescriptor.<byte[], byte[]>newBuilder()
          .setType(MethodDescriptor.MethodType.UNARY)
          .setFullMethodName("test.Bytes/Echo")
          .setRequestMarshaller(new BytesMarshaller())
          .setResponseMarshaller(new BytesMarshaller())
          .build();

  @TempDir Path dir;
  EventLoopGroup group;
  YamuxSession host;
  YamuxSession plugin;
  Channel listener;
  final List<AutoCloseable> closeables = new ArrayList<>();

  @BeforeEach
  void setUp() throws Exception {
    group = GrpcTransport.newEventLoopGroup(2, "yamux-grpc-test");
    Path socket = dir.resolve("p.sock");
    CompletableFuture<YamuxSession> accepted = new CompletableFuture<>();
    listener =
        new ServerBootstrap()
            .group(group)
            .channel(EpollServerDomainSocketChannel.class)
            .childHandler(YamuxSession.initializer(false, YamuxConfig.defaults(), accepted::complete))
            .bind(new DomainSocketAddress(socket.toString()))
            .sync()
            .channel();
    host = YamuxSession.connectUnix(socket, group, YamuxConfig.defaults()).get(10, TimeUnit.SECONDS);
    plugin = accepted.get(10, TimeUnit.SECONDS);
  }

  @AfterEach
  void tearDown() throws Exception {
    for (int i = closeables.size() - 1; i >= 0; i--) {
      closeables.get(i).close();
    }
    host.close();
    plugin.close();
    host.closeFuture().get(10, TimeUnit.SECONDS);
    plugin.closeFuture().get(10, TimeUnit.SECONDS);
    listener.close().sync();
    GrpcTransport.shutdown(group);
    // gRPC was given our event loops: it must not have made its own.
    assertThat(Thread.getAllStackTraces().keySet())
        .extracting(Thread::getName)
        .noneMatch(n -> n.startsWith("grpc-default-worker") || n.startsWith("grpc-nio-worker"));
  }

  private static ServerServiceDefinition bytesService() {
    return ServerServiceDefinition.builder("test.Bytes")
        .addMethod(
            ECHO,
            ServerCalls.asyncUnaryCall(
                (req, obs) -> {
                  obs.onNext(req);
                  obs.onCompleted();
                }))
        .build();
  }

  private static Object health(String service, ServingStatus status) {
    HealthStatusManager h = new HealthStatusManager();
    h.setStatus(service, status);
    return h.getHealthService();
  }

  private YamuxGrpc.YamuxGrpcServer serve(YamuxSession session, SslContext tls, Object... services) {
    YamuxGrpc.YamuxGrpcServer s = YamuxGrpc.server(group, tls, List.of(services), null);
    closeables.add(s);
    return s;
  }

  private ManagedChannel channel(YamuxSession session, SslContext tls) {
    ManagedChannel ch = YamuxGrpc.channel(session, tls, null, null);
    closeables.add(
        () -> {
          ch.shutdownNow();
          ch.awaitTermination(5, TimeUnit.SECONDS);
        });
    return ch;
  }

  private static ServingStatus check(ManagedChannel ch, String service) {
    return HealthGrpc.newBlockingStub(ch)
        .withDeadlineAfter(10, TimeUnit.SECONDS)
        .check(HealthCheckRequest.newBuilder().setService(service).build())
        .getStatus();
  }

  private SslContext[] mtls() {
    AutoMtlsCertificate hostCert = AutoMtlsCertificate.generate();
    AutoMtlsCertificate pluginCert = AutoMtlsCertificate.generate();
    return new SslContext[] {
      TlsContexts.client(hostCert, pluginCert.certificate()),
      TlsContexts.server(pluginCert, hostCert.certificate())
    };
  }

  @Test
  void healthCheckOverYamuxStreamWithAutoMtls() {
    SslContext[] tls = mtls();
    serve(plugin, tls[1], health("plugin", ServingStatus.SERVING)).serveAll(plugin);
    ManagedChannel ch = channel(host, tls[0]);
    assertThat(check(ch, "plugin")).isEqualTo(ServingStatus.SERVING);
    assertThat(host.numStreams()).isEqualTo(1);
  }

  @Test
  void healthCheckOverYamuxStreamInPlaintext() {
    serve(plugin, null, health("plugin", ServingStatus.SERVING)).serveAll(plugin);
    assertThat(check(channel(host, null), "plugin")).isEqualTo(ServingStatus.SERVING);
  }

  @Test
  void clientWithAnUntrustedCertificateIsRefused() {
    SslContext[] tls = mtls();
    serve(plugin, tls[1], health("plugin", ServingStatus.SERVING)).serveAll(plugin);
    SslContext stranger = mtls()[0];
    assertThatThrownBy(() -> check(channel(host, stranger), "plugin"))
        .isInstanceOf(StatusRuntimeException.class)
        .extracting(e -> ((StatusRuntimeException) e).getStatus().getCode())
        .isEqualTo(Status.Code.UNAVAILABLE);
  }

  @Test
  void pluginCanAlsoCallAServerTheHostServesOverTheSameSession() {
    SslContext[] tls = mtls();
    // host serves (as go-plugin's host does for brokered services), plugin dials
    AutoMtlsCertificate a = AutoMtlsCertificate.generate();
    AutoMtlsCertificate b = AutoMtlsCertificate.generate();
    serve(host, TlsContexts.server(a, b.certificate()), health("host", ServingStatus.SERVING))
        .serveAll(host);
    serve(plugin, tls[1], health("plugin", ServingStatus.SERVING)).serveAll(plugin);
    assertThat(check(channel(plugin, TlsContexts.client(b, a.certificate())), "host"))
        .isEqualTo(ServingStatus.SERVING);
    assertThat(check(channel(host, tls[0]), "plugin")).isEqualTo(ServingStatus.SERVING);
  }

  @Test
  void manyConcurrentRpcsSucceed() throws Exception {
    SslContext[] tls = mtls();
    serve(plugin, tls[1], health("plugin", ServingStatus.SERVING)).serveAll(plugin);
    ManagedChannel ch = channel(host, tls[0]);
    HealthGrpc.HealthFutureStub stub = HealthGrpc.newFutureStub(ch);
    List<com.google.common.util.concurrent.ListenableFuture<HealthCheckResponse>> calls = new ArrayList<>();
    for (int i = 0; i < 500; i++) {
      calls.add(stub.withDeadlineAfter(30, TimeUnit.SECONDS).check(HealthCheckRequest.newBuilder().setService("plugin").build()));
    }
    for (var f : calls) {
      assertThat(f.get(30, TimeUnit.SECONDS).getStatus()).isEqualTo(ServingStatus.SERVING);
    }
  }

  @Test
  void largeMessageCrossesWithBackPressure() {
    SslContext[] tls = mtls();
    serve(plugin, tls[1], bytesService()).serveAll(plugin);
    ManagedChannel ch = channel(host, tls[0]);
    byte[] big = new byte[32 * 1024 * 1024];
    new Random(42).nextBytes(big);
    long start = System.nanoTime();
    byte[] back =
        ClientCalls.blockingUnaryCall(ch, ECHO, CallOptions.DEFAULT.withDeadlineAfter(60, TimeUnit.SECONDS), big);
    double secs = (System.nanoTime() - start) / 1e9;
    LOG.info(String.format(Locale.ROOT, "32 MiB echoed over gRPC+TLS+yamux in %.2f s", secs));
    assertThat(Arrays.equals(back, big)).isTrue();
  }

  @Test
  void streamsHandedOneByOneReachTheServerTheyAreRoutedTo() {
    SslContext[] tls = mtls();
    YamuxGrpc.YamuxGrpcServer first = serve(plugin, tls[1], health("first", ServingStatus.SERVING));
    YamuxGrpc.YamuxGrpcServer second = serve(plugin, tls[1], health("second", ServingStatus.SERVING));
    // A broker routes by a knock that precedes each stream; here: a queue of targets.
    java.util.concurrent.ConcurrentLinkedQueue<YamuxGrpc.YamuxGrpcServer> routes =
        new java.util.concurrent.ConcurrentLinkedQueue<>();
    plugin.acceptStreams(s -> routes.poll().serve(s));
    AtomicInteger knocks = new AtomicInteger();
    ManagedChannel toSecond =
        YamuxGrpc.channel(
            host,
            tls[0],
            () -> {
              knocks.incrementAndGet();
              routes.add(second);
              return CompletableFuture.completedFuture(null);
            },
            null);
    closeables.add(() -> toSecond.shutdownNow().awaitTermination(5, TimeUnit.SECONDS));
    ManagedChannel toFirst =
        YamuxGrpc.channel(
            host,
            tls[0],
            () -> {
              routes.add(first);
              return CompletableFuture.completedFuture(null);
            },
            null);
    closeables.add(() -> toFirst.shutdownNow().awaitTermination(5, TimeUnit.SECONDS));
    assertThat(check(toSecond, "second")).isEqualTo(ServingStatus.SERVING);
    assertThat(check(toFirst, "first")).isEqualTo(ServingStatus.SERVING);
    assertThat(knocks).hasValue(1);
  }

  @Test
  void failedKnockFailsTheCallWithUnavailable() {
    ManagedChannel ch =
        YamuxGrpc.channel(
            host,
            null,
            () -> CompletableFuture.failedFuture(new IllegalStateException("no listener for id 7")),
            null);
    closeables.add(() -> ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS));
    assertThatThrownBy(() -> check(ch, "plugin"))
        .isInstanceOf(StatusRuntimeException.class)
        .hasMessageContaining("UNAVAILABLE");
    assertThat(host.numStreams()).isZero();
  }

  @Test
  void closingTheSessionFailsCallsWithUnavailableAndLeavesNoStreams() throws Exception {
    SslContext[] tls = mtls();
    YamuxGrpc.YamuxGrpcServer server = serve(plugin, tls[1], health("plugin", ServingStatus.SERVING));
    server.serveAll(plugin);
    ManagedChannel ch = channel(host, tls[0]);
    assertThat(check(ch, "plugin")).isEqualTo(ServingStatus.SERVING);
    host.close();
    host.closeFuture().get(10, TimeUnit.SECONDS);
    plugin.closeFuture().get(10, TimeUnit.SECONDS);
    assertThatThrownBy(() -> check(ch, "plugin"))
        .isInstanceOf(StatusRuntimeException.class)
        .extracting(e -> ((StatusRuntimeException) e).getStatus().getCode())
        .isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(host.numStreams()).isZero();
    assertThat(plugin.numStreams()).isZero();
    ch.shutdown();
    assertThat(ch.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
    server.close();
    assertThat(server.server().isTerminated()).isTrue();
  }

  private static final class BytesMarshaller implements MethodDescriptor.Marshaller<byte[]> {
    @Override
    public InputStream stream(byte[] value) {
      return new ByteArrayInputStream(value);
    }

    @Override
    public byte[] parse(InputStream stream) {
      try {
        return stream.readAllBytes();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }
}
