package dev.goplugin4j.protocol.internal.tls;

import dev.goplugin4j.protocol.AutoMtlsCertificate;

/**
 * Run in a fresh JVM by {@link FreshJvmCryptoChoiceTest}: makes two AutoMTLS certificates and a
 * handshake between them on the JVM's chosen path and prints {@code PEM=ok} when the host's PEM
 * parses back, then {@code PATH=<path>}.
 */
public final class CryptoProbe {
  private CryptoProbe() {}

  /**
   * Entry point.
   *
   * @param args unused
   * @throws Exception if the handshake fails
   */
  public static void main(String[] args) throws Exception {
    AutoMtlsCertificate host = AutoMtlsCertificate.generate();
    AutoMtlsCertificate plugin = AutoMtlsCertificate.generate();
    if (AutoMtlsCertificate.parsePem(host.pem()).equals(host.certificate())) {
      System.out.println("PEM=ok");
    }
    InMemoryHandshake.run(
        TlsContexts.client(host, plugin.certificate()), TlsContexts.server(plugin, host.certificate()));
    System.out.println("PATH=" + TlsCrypto.get().path());
  }
}
