package dev.goplugin4j.protocol.internal.tls;

import dev.goplugin4j.protocol.AutoMtlsCertificate;

/**
 * Run in a fresh JVM by {@link FreshJvmCryptoChoiceTest}: makes two AutoMTLS certificates and a
 * handshake between them, and prints {@code FIRST=<path>} (the path of the first use) and {@code
 * PATH=<path>} (the path once the JVM's choice is final).
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
    // the path of the JVM's first AutoMTLS use (auto: the JDK's, while native loads)
    System.out.println("FIRST=" + TlsCrypto.get().path());
    AutoMtlsCertificate host = AutoMtlsCertificate.generate();
    AutoMtlsCertificate plugin = AutoMtlsCertificate.generate();
    InMemoryHandshake.run(
        TlsContexts.client(host, plugin.certificate()), TlsContexts.server(plugin, host.certificate()));
    System.out.println("PATH=" + TlsCrypto.awaitChoice(java.time.Duration.ofSeconds(60)).path());
  }
}
