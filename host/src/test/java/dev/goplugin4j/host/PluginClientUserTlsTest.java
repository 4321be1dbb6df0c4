package dev.goplugin4j.host;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.goplugin4j.host.PluginClientStartFailureTest.ScriptedRunner;
import dev.goplugin4j.protocol.AutoMtlsCertificate;
import dev.goplugin4j.protocol.NetAddress;
import dev.goplugin4j.protocol.TlsConfig;
import dev.goplugin4j.protocol.internal.tls.TlsContexts;
import dev.goplugin4j.protocol.internal.transport.GrpcTransport;
import io.grpc.Channel;
import io.grpc.Server;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.protobuf.services.HealthStatusManager;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The host with user-supplied TLS material ({@code tls(TlsConfig)}) instead of AutoMTLS, against
 * a real gRPC server on loopback TCP that requires a client certificate. The plugin side is an
 * in-JVM server behind a scripted runner that prints the handshake line.
 */
class PluginClientUserTlsTest {
  @TempDir Path dir;
  EventLoopGroup group;
  Server server;

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

  private static TlsConfig tls(AutoMtlsCertificate own, AutoMtlsCertificate trusted) throws Exception {
    char[] pw = "x".toCharArray();
    KeyStore keys = KeyStore.getInstance("PKCS12");
    keys.load(null, null);
    keys.setKeyEntry("own", own.privateKey(), pw, new Certificate[] {own.certificate()});
    KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(keys, pw);
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    trust.setCertificateEntry("peer", trusted.certificate());
    TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    return new TlsConfig(kmf, tmf);
  }

  private ScriptedRunner pluginServing(TlsConfig pluginTls) {
    // loopback TCP: the host dials a Unix socket only inside the socket dir it made (AddressRules),
    // and this server starts before that dir exists
    NetAddress addr = NetAddress.tcp("127.0.0.1:0");
    HealthStatusManager health = new HealthStatusManager();
    health.setStatus("plugin", ServingStatus.SERVING);
    server = GrpcTransport.server(addr, TlsContexts.server(pluginTls), group, group,
        List.of(health.getHealthService()));
    ScriptedRunner r = new ScriptedRunner("");
    r.print("1|1|tcp|127.0.0.1:" + server.getPort() + "|grpc|");
    return r;
  }

  private static PluginClient client(ScriptedRunner r, TlsConfig hostTls) {
    return PluginClient.builder()
        .handshake(1, "COOKIE", "yes")
        .plugin("p", (GrpcPlugin<Channel>) (ch, b) -> ch)
        .runner((cmd, socketDir) -> {
          r.command.set(cmd);
          return r;
        })
        .tls(hostTls)
        .startTimeout(Duration.ofSeconds(10))
        .build();
  }

  @Test
  void hostWithUserTlsConnectsToAPluginThatTrustsItsCertificate() throws Exception {
    AutoMtlsCertificate host = AutoMtlsCertificate.generate();
    AutoMtlsCertificate plugin = AutoMtlsCertificate.generate();
    ScriptedRunner r = pluginServing(tls(plugin, host));
    try (PluginClient c = client(r, tls(host, plugin))) {
      c.start();
      c.ping();
      assertThat(r.command.get().env()).doesNotContainKey("PLUGIN_CLIENT_CERT");
    }
  }

  @Test
  void hostWhoseCertificateThePluginDoesNotTrustIsRefused() throws Exception {
    AutoMtlsCertificate host = AutoMtlsCertificate.generate();
    AutoMtlsCertificate stranger = AutoMtlsCertificate.generate();
    AutoMtlsCertificate plugin = AutoMtlsCertificate.generate();
    ScriptedRunner r = pluginServing(tls(plugin, host));
    try (PluginClient c = client(r, tls(stranger, plugin))) {
      assertThatThrownBy(c::start)
          .isInstanceOf(PluginStartException.class)
          .hasMessageContaining("the TLS handshake failed")
          .hasMessageContaining("trusts the other side's certificate");
    }
    assertThat(r.killed).isTrue();
  }
}
