package dev.goplugin4j.server.internal.tls;

import dev.goplugin4j.protocol.TlsConfig;
import dev.goplugin4j.protocol.internal.tls.JdkTls;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import java.security.cert.X509Certificate;

/**
 * Netty TLS contexts for the plugin ({@link JdkTls}: no PKCS#12 round trip of the key, exactly the
 * host's certificate trusted for AutoMTLS). AutoMTLS runs on the JVM's {@code TlsCrypto} path
 * (native by default: BouncyCastle JSSE with a private ACCP instance; the JDK's where that cannot
 * load); user-supplied {@link TlsConfig} material on the JDK's SunJSSE.
 */
public final class PluginTls {
  private PluginTls() {}

  /** Server side of AutoMTLS: present {@code own}, require exactly {@code peer}. */
  public static SslContext server(SelfSignedCertificate own, X509Certificate peer) {
    return JdkTls.pinned(false, own.privateKey(), own.certificate(), peer);
  }

  /** Client side of AutoMTLS (dialling the host's brokered services). */
  public static SslContext client(SelfSignedCertificate own, X509Certificate peer) {
    return JdkTls.pinned(true, own.privateKey(), own.certificate(), peer);
  }

  /** Server side with the plugin's own TLS material; client certificate required. */
  public static SslContext server(TlsConfig config) {
    return JdkTls.of(false, config.keyManagers().getKeyManagers(), config.trustManagers().getTrustManagers());
  }

  /** Client side with the plugin's own TLS material. */
  public static SslContext client(TlsConfig config) {
    return JdkTls.of(true, config.keyManagers().getKeyManagers(), config.trustManagers().getTrustManagers());
  }
}
