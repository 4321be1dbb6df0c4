package dev.goplugin4j.protocol.internal.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.goplugin4j.protocol.AutoMtlsCertificate;
import dev.goplugin4j.protocol.NetAddress;
import dev.goplugin4j.protocol.internal.tls.TlsContexts;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.protobuf.services.HealthStatusManager;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GrpcTransportTest {
  @TempDir Path dir;
  EventLoopGroup group;

  @BeforeEach
  void setUp() {
    group = GrpcTransport.newEventLoopGroup(1, "test-io");
  }

  @AfterEach
  void tearDown() {
    GrpcTransport.shutdown(group);
  }

  private static Server healthServer(NetAddress addr, io.grpc.netty.shaded.io.netty.handler.ssl.SslContext tls, EventLoopGroup g) {
    HealthStatusManager health = new HealthStatusManager();
    health.setStatus("plugin", ServingStatus.SERVING);
    return GrpcTransport.server(addr, tls, g, g, List.of(health.getHealthService()));
  }

  private static ServingStatus check(ManagedChannel ch) {
    return HealthGrpc.newBlockingStub(ch)
        .withDeadlineAfter(5, TimeUnit.SECONDS)
        .check(HealthCheckRequest.newBuilder().setService("plugin").build())
        .getStatus();
  }

  @Test
  void mutualTlsOverUnixSocketWorksWithP521Certificates() throws Exception {
    AutoMtlsCertificate host = AutoMtlsCertificate.generate();
    AutoMtlsCertificate plugin = AutoMtlsCertificate.generate();
    NetAddress addr = NetAddress.unix(dir.resolve("s.sock").toString());
    Server server = healthServer(addr, TlsContexts.server(plugin, host.certificate()), group);
    ManagedChannel ch = GrpcTransport.channel(addr, TlsContexts.client(host, plugin.certificate()), group, null);
    try {
      assertThat(check(ch)).isEqualTo(ServingStatus.SERVING);
    } finally {
      ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void clientWithAnyOtherCertificateIsRefused() throws Exception {
    AutoMtlsCertificate host = AutoMtlsCertificate.generate();
    AutoMtlsCertificate intruder = AutoMtlsCertificate.generate();
    AutoMtlsCertificate plugin = AutoMtlsCertificate.generate();
    NetAddress addr = NetAddress.unix(dir.resolve("s.sock").toString());
    Server server = healthServer(addr, TlsContexts.server(plugin, host.certificate()), group);
    ManagedChannel ch =
        GrpcTransport.channel(addr, TlsContexts.client(intruder, plugin.certificate()), group, null);
    try {
      assertThatThrownBy(() -> check(ch)).isInstanceOf(StatusRuntimeException.class);
    } finally {
      ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void serverPresentingAnotherCertificateIsRefusedByTheClient() throws Exception {
    AutoMtlsCertificate host = AutoMtlsCertificate.generate();
    AutoMtlsCertificate plugin = AutoMtlsCertificate.generate();
    AutoMtlsCertificate impostor = AutoMtlsCertificate.generate();
    NetAddress addr = NetAddress.unix(dir.resolve("s.sock").toString());
    Server server = healthServer(addr, TlsContexts.server(impostor, host.certificate()), group);
    ManagedChannel ch = GrpcTransport.channel(addr, TlsContexts.client(host, plugin.certificate()), group, null);
    try {
      assertThatThrownBy(() -> check(ch)).isInstanceOf(StatusRuntimeException.class);
    } finally {
      ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void plaintextOverTcpWorks() throws Exception {
    NetAddress addr = NetAddress.tcp("127.0.0.1:0");
    Server server = healthServer(addr, null, group);
    int port = ((java.net.InetSocketAddress) server.getListenSockets().get(0)).getPort();
    ManagedChannel ch = GrpcTransport.channel(NetAddress.tcp("127.0.0.1:" + port), null, group, null);
    try {
      assertThat(check(ch)).isEqualTo(ServingStatus.SERVING);
    } finally {
      ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void malformedTcpAddressIsRejected() {
    assertThatThrownBy(() -> GrpcTransport.socketAddress(NetAddress.tcp("nohostport")))
        .hasMessageContaining("expected host:port");
  }
}
