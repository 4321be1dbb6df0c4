package dev.goplugin4j.server.internal.tls;

import dev.goplugin4j.protocol.PluginException;
import dev.goplugin4j.protocol.internal.tls.AutoMtlsKeys;
import dev.goplugin4j.protocol.internal.tls.TlsCrypto;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.Base64;

/**
 * The plugin's one-off AutoMTLS certificate, with go-plugin's parameters
 * ({@code generateCert} in mtls.go): ECDSA P-521 signed with SHA-512, subject O=HashiCorp,
 * CN=localhost, SAN DNS localhost, key usage digitalSignature|keyEncipherment|keyAgreement|
 * certSign (critical), extended key usage clientAuth+serverAuth, basic constraints CA:true
 * (critical), a random 128-bit serial, valid from 30 s ago for 262980 hours.
 *
 * <p>The key pair and the signature come from the JVM's AutoMTLS crypto ({@link TlsCrypto}): a
 * private Amazon Corretto Crypto Provider instance (native, about 1 ms for both) where it loads,
 * else the JDK's SunEC (10–20 ms), as for the TLS handshakes.
 *
 * <p>The certificate is written by the protocol module's {@link AutoMtlsKeys}, the same code as
 * the host's: by hand, not with BouncyCastle's certificate builder, whose loading cost a plugin
 * about 100 ms of start-up and whose signed jars cannot go into an AppCDS archive.
 *
 * @param certificate the certificate
 * @param privateKey its key
 */
public record SelfSignedCertificate(X509Certificate certificate, PrivateKey privateKey) {
  /**
   * Makes a fresh key pair and certificate (about 1 ms on the native path, a few tens of
   * milliseconds on the JDK's), as the host makes its own ({@link AutoMtlsKeys}).
   *
   * @return the certificate and its key
   * @throws PluginException if the provider cannot make them, or {@code goplugin4j.crypto=native}
   *     is set and the native path cannot load
   */
  public static SelfSignedCertificate generate() {
    AutoMtlsKeys.Made made = AutoMtlsKeys.generate(TlsCrypto.get());
    return new SelfSignedCertificate(made.certificate(), made.privateKey());
  }

  /** The certificate as the handshake line carries it: DER, base64 without padding. */
  public String base64Der() {
    try {
      return Base64.getEncoder().withoutPadding().encodeToString(certificate.getEncoded());
    } catch (CertificateException e) {
      throw new PluginException("cannot encode the AutoMTLS certificate: " + e.getMessage(), e);
    }
  }

  /** Parses DER (one certificate). */
  static X509Certificate parseDer(byte[] der) throws CertificateException {
    return (X509Certificate)
        CertificateFactory.getInstance("X.509").generateCertificate(new ByteArrayInputStream(der));
  }

  /** Parses a handshake's certificate field (base64 DER, padding optional). */
  public static X509Certificate parseBase64Der(String base64) throws CertificateException {
    String padded = base64 + "=".repeat((4 - base64.length() % 4) % 4);
    return parseDer(Base64.getDecoder().decode(padded));
  }

  /** This certificate in PEM, as a host puts its own in {@code PLUGIN_CLIENT_CERT}. */
  public String pem() {
    try {
      return "-----BEGIN CERTIFICATE-----\n"
          + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(certificate.getEncoded())
          + "\n-----END CERTIFICATE-----\n";
    } catch (CertificateException e) {
      throw new PluginException("cannot encode the certificate: " + e.getMessage(), e);
    }
  }

  /**
   * Parses the host's PEM certificate from {@code PLUGIN_CLIENT_CERT}.
   *
   * @throws CertificateException if it is not one PEM certificate
   */
  public static X509Certificate parsePem(String pem) throws CertificateException {
    if (!pem.contains("-----BEGIN CERTIFICATE-----")) {
      throw new CertificateException("no -----BEGIN CERTIFICATE----- block in " + pem.length() + " chars");
    }
    return (X509Certificate) CertificateFactory.getInstance("X.509")
        .generateCertificate(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)));
  }
}
