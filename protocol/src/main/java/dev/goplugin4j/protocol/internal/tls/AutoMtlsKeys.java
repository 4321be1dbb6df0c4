package dev.goplugin4j.protocol.internal.tls;

import dev.goplugin4j.protocol.PluginException;
import java.io.ByteArrayInputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;

/**
 * Makes go-plugin's AutoMTLS key pair and self-signed certificate on a {@link TlsCrypto} path:
 * ECDSA P-521 key, subject O=HashiCorp CN=localhost, SAN DNS localhost, extended key usage
 * clientAuth and serverAuth, key usage digitalSignature, keyEncipherment, keyAgreement and
 * keyCertSign (critical), CA:true (critical), a random 128-bit serial, valid from 30 s ago for
 * 262 980 hours. The key pair and the signature come from the path's provider; the certificate
 * object is the JDK's ({@code CertificateFactory} X.509), so it is the same type on both paths.
 * Thread-safe.
 *
 * <p>The certificate is written by hand ({@link Der}), as the plugin SDK writes its own: with
 * BouncyCastle's certificate builder a fresh host loaded one more signed jar ({@code bcpkix},
 * verified at its first class) and ~100 more classes for this one certificate, on the start's
 * path before the plugin is spawned (~60 ms of CPU against ~9 ms, the native path already loaded).
 */
public final class AutoMtlsKeys {
  private static final Duration VALIDITY = Duration.ofHours(262_980);
  private static final Duration BACKDATE = Duration.ofSeconds(30);
  private static final SecureRandom RANDOM = new SecureRandom();

  private static final String ORGANIZATION = "2.5.4.10";
  private static final String COMMON_NAME = "2.5.4.3";
  private static final String ECDSA_WITH_SHA512 = "1.2.840.10045.4.3.4";
  private static final String KEY_USAGE = "2.5.29.15";
  private static final String EXTENDED_KEY_USAGE = "2.5.29.37";
  private static final String BASIC_CONSTRAINTS = "2.5.29.19";
  private static final String SUBJECT_ALT_NAME = "2.5.29.17";
  private static final String CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";
  private static final String SERVER_AUTH = "1.3.6.1.5.5.7.3.1";

  /**
   * A certificate and its private key.
   *
   * @param certificate the self-signed certificate
   * @param privateKey its key (an ACCP key on the native path, a SunEC key on the JDK path)
   */
  public record Made(X509Certificate certificate, PrivateKey privateKey) {}

  private AutoMtlsKeys() {}

  /**
   * Generates a key pair and its certificate on {@code crypto}'s path.
   *
   * @param crypto which provider makes the key and signs; not null
   * @return the certificate and key
   * @throws PluginException if the provider cannot make them
   */
  public static Made generate(TlsCrypto crypto) {
    KeyPair kp = crypto.p521KeyPair(RANDOM);
    try {
      Instant now = Instant.now();
      byte[] name = Der.sequence(
          Der.set(Der.sequence(Der.oid(ORGANIZATION), Der.printableString("HashiCorp"))),
          Der.set(Der.sequence(Der.oid(COMMON_NAME), Der.printableString("localhost"))));
      byte[] algorithm = Der.sequence(Der.oid(ECDSA_WITH_SHA512));
      byte[] extensions = Der.sequence(
          // digitalSignature, keyEncipherment, keyAgreement, keyCertSign
          extension(KEY_USAGE, true, Der.namedBits(0, 2, 4, 5)),
          extension(EXTENDED_KEY_USAGE, false, Der.sequence(Der.oid(CLIENT_AUTH), Der.oid(SERVER_AUTH))),
          extension(BASIC_CONSTRAINTS, true, Der.sequence(Der.bool(true))),
          extension(SUBJECT_ALT_NAME, false, Der.sequence(
              Der.implicitPrimitive(2, "localhost".getBytes(StandardCharsets.US_ASCII)))));
      byte[] tbs = Der.sequence(
          Der.explicit(0, Der.integer(BigInteger.TWO)), // v3
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
      X509Certificate cert = (X509Certificate)
          CertificateFactory.getInstance("X.509").generateCertificate(new ByteArrayInputStream(der));
      return new Made(cert, kp.getPrivate());
    } catch (GeneralSecurityException e) {
      throw new PluginException("cannot generate the AutoMTLS certificate (" + crypto + "): "
          + e.getMessage(), e);
    }
  }

  private static byte[] extension(String oid, boolean critical, byte[] value) {
    return critical
        ? Der.sequence(Der.oid(oid), Der.bool(true), Der.octetString(value))
        : Der.sequence(Der.oid(oid), Der.octetString(value));
  }
}
