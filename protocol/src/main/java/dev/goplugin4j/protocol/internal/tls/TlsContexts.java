package dev.goplugin4j.protocol.internal.tls;

import dev.goplugin4j.protocol.AutoMtlsCertificate;
import dev.goplugin4j.protocol.PluginException;
import dev.goplugin4j.protocol.TlsConfig;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.netty.handler.ssl.ClientAuth;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslProvider;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLException;

/**
 * Netty TLS contexts for go-plugin connections. Never Netty's OpenSSL engine: BoringSSL
 * (tcnative) refuses the P-521 certificates go-plugin uses. TLS 1.2 and 1.3, peer certificate
 * required both ways. AutoMTLS contexts are {@link JdkTls} pinned contexts (no PKCS#12 round trip
 * of the key, exactly the peer's certificate trusted) on the JVM's {@link TlsCrypto} path (native
 * by default, the JDK's where that cannot load; see docs/tls.md); user-supplied material goes
 * through Netty's builder on the JDK's SunJSSE. Thread-safe.
 */
public final class TlsContexts {
  /** The authority both sides use; go-plugin's certificates are issued for it. */
  public static final String AUTHORITY = "localhost";

  private static final String[] PROTOCOLS = {"TLSv1.3", "TLSv1.2"};

  private TlsContexts() {}

  /**
   * Client side of AutoMTLS: present {@code own}, trust exactly {@code peer}.
   *
   * @param own this side's certificate and key
   * @param peer the certificate the plugin announced
   * @return a new context
   */
  public static SslContext client(AutoMtlsCertificate own, X509Certificate peer) {
    return JdkTls.pinned(true, own.privateKey(), own.certificate(), peer);
  }

  /**
   * Server side of AutoMTLS: present {@code own}, require and trust exactly {@code peer}.
   *
   * @param own this side's certificate and key
   * @param peer the plugin's certificate
   * @return a new context
   */
  public static SslContext server(AutoMtlsCertificate own, X509Certificate peer) {
    return JdkTls.pinned(false, own.privateKey(), own.certificate(), peer);
  }

  /**
   * Client side with user-supplied key and trust material, on SunJSSE.
   *
   * @param config the material
   * @return a new context
   */
  public static SslContext client(TlsConfig config) {
    return build(
        GrpcSslContexts.configure(SslContextBuilder.forClient(), SslProvider.JDK)
            .keyManager(config.keyManagers())
            .trustManager(config.trustManagers()));
  }

  /**
   * Server side with user-supplied key and trust material, on SunJSSE; client certificate
   * required.
   *
   * @param config the material
   * @return a new context
   */
  public static SslContext server(TlsConfig config) {
    return build(
        GrpcSslContexts.configure(SslContextBuilder.forServer(config.keyManagers()), SslProvider.JDK)
            .trustManager(config.trustManagers())
            .clientAuth(ClientAuth.REQUIRE));
  }

  private static SslContext build(SslContextBuilder b) {
    try {
      return b.protocols(PROTOCOLS).build();
    } catch (SSLException e) {
      throw new PluginException("cannot set up TLS: " + e.getMessage(), e);
    }
  }
}
