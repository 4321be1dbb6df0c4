package dev.goplugin4j.server.internal.tls;

import dev.goplugin4j.protocol.PluginException;
import dev.goplugin4j.protocol.internal.tls.TlsCrypto;
import java.io.ByteArrayInputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;

/**
 * The plugin's one-off AutoMTLS certificate, made with the JDK alone, with go-plugin's parameters
 * ({@code generateCert} in mtls.go): ECDSA P-521 signed with SHA-512, subject O=HashiCorp,
 * CN=localhost, SAN DNS localhost, key usage digitalSignature|keyEncipherment|keyAgreement|
 * certSign (critical), extended key usage clientAuth+serverAuth, basic constraints CA:true
 * (critical), a random 128-bit serial, valid from 30 s ago for 262980 hours.
 *
 * <p>The key pair and the signature come from the JVM's AutoMTLS crypto ({@link TlsCrypto}): a
 * private Amazon Corretto Crypto Provider instance (native, about 1 ms for both) where it loads,
 * else the JDK's SunEC (10–20 ms), as for the TLS handshakes.
 *
 * <p>Why not BouncyCastle's certificate builder (which the protocol module uses for the host side):
 * loading it costs a plugin about 100 ms of start-up, and its signed jars cannot go into an AppCDS
 * archive.
 *
 * @param certificate the certificate
 * @param privateKey its key
 */
public record SelfSignedCertificate(X509Certificate certificate, PrivateKey privateKey) {
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final Duration VALIDITY = Duration.ofHours(262_980);
  private static final Duration BACKDATE = Duration.ofSeconds(30);

  private static final String EC_PUBLIC_KEY_WITH_SHA512 = "1.2.840.10045.4.3.4";

  /**
   * Makes a fresh key pair and certificate (about 1 ms on the native path, a few tens of
   * milliseconds on the JDK's).
   *
   * @return the certificate and its key
   * @throws PluginException if the provider cannot make them, or {@code goplugin4j.crypto=native}
   *     is set and the native path cannot load
   */
  public static SelfSignedCertificate generate() {
    try {
      TlsCrypto crypto = TlsCrypto.get();
      KeyPair kp = crypto.p521KeyPair(RANDOM);
      Instant now = Instant.now();
      byte[] name = Der.sequence(
          Der.set(Der.sequence(Der.oid("2.5.4.10"), Der.printableString("HashiCorp"))),
          Der.set(Der.sequence(Der.oid("2.5.4.3"), Der.printableString("localhost"))));
      byte[] algorithm = Der.sequence(Der.oid(EC_PUBLIC_KEY_WITH_SHA512));
      byte[] extensions = Der.sequence(
          extension("2.5.29.15", true, Der.namedBits(0, 2, 4, 5)),
          extension("2.5.29.37", false, Der.sequence(
              Der.oid("1.3.6.1.5.5.7.3.2"), Der.oid("1.3.6.1.5.5.7.3.1"))),
          extension("2.5.29.19", true, Der.sequence(Der.bool(true))),
          extension("2.5.29.17", false, Der.sequence(
              Der.implicitPrimitive(2, "localhost".getBytes(StandardCharsets.US_ASCII)))));
      byte[] tbs = Der.sequence(
          Der.explicit(0, Der.integer(BigInteger.TWO)),
          Der.integer(new BigInteger(128, RANDOM)),
          algorithm,
          name,
          Der.sequence(Der.time(now.minus(BACKDATE)), Der.time(now.plus(VALIDITY))),
          name,
          kp.getPublic().getEncoded(),
          Der.explicit(3, extensions));
      Signature signer = crypto.sha512WithEcdsa();
      signer.initSign(kp.getPrivate(), RANDOM);
      signer.update(tbs);
      byte[] der = Der.sequence(tbs, algorithm, Der.bitString(signer.sign()));
      return new SelfSignedCertificate(parseDer(der), kp.getPrivate());
    } catch (GeneralSecurityException e) {
      throw new PluginException("cannot generate the AutoMTLS certificate: " + e.getMessage(), e);
    }
  }

  private static byte[] extension(String oid, boolean critical, byte[] value) {
    return critical
        ? Der.sequence(Der.oid(oid), Der.bool(true), Der.octetString(value))
        : Der.sequence(Der.oid(oid), Der.octetString(value));
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
