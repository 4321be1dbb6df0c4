package dev.goplugin4j.protocol.internal.tls;

import dev.goplugin4j.protocol.PluginException;
import java.io.IOException;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Makes go-plugin's AutoMTLS key pair and self-signed certificate on a {@link TlsCrypto} path:
 * ECDSA P-521 key, subject O=HashiCorp CN=localhost, SAN DNS localhost, extended key usage
 * clientAuth and serverAuth, key usage digitalSignature, keyEncipherment, keyAgreement and
 * keyCertSign (critical), CA:true (critical), a random 128-bit serial, valid from 30 s ago for
 * 262 980 hours. The key pair and the signature come from the path's provider; the certificate
 * object is the JDK's ({@code CertificateFactory} X.509), so it is the same type on both paths.
 * Thread-safe.
 */
public final class AutoMtlsKeys {
  private static final Duration VALIDITY = Duration.ofHours(262_980);
  private static final Duration BACKDATE = Duration.ofSeconds(30);
  private static final SecureRandom RANDOM = new SecureRandom();

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
      var name =
          new X500NameBuilder(BCStyle.INSTANCE)
              .addRDN(BCStyle.O, "HashiCorp")
              .addRDN(BCStyle.CN, "localhost")
              .build();
      X509v3CertificateBuilder b =
          new JcaX509v3CertificateBuilder(
              name,
              new BigInteger(128, RANDOM),
              Date.from(now.minus(BACKDATE)),
              Date.from(now.plus(VALIDITY)),
              name,
              kp.getPublic());
      b.addExtension(
          Extension.keyUsage,
          true,
          new KeyUsage(
              KeyUsage.digitalSignature
                  | KeyUsage.keyEncipherment
                  | KeyUsage.keyAgreement
                  | KeyUsage.keyCertSign));
      b.addExtension(
          Extension.extendedKeyUsage,
          false,
          new ExtendedKeyUsage(
              new KeyPurposeId[] {KeyPurposeId.id_kp_clientAuth, KeyPurposeId.id_kp_serverAuth}));
      b.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
      b.addExtension(
          Extension.subjectAlternativeName,
          false,
          new GeneralNames(new GeneralName(GeneralName.dNSName, "localhost")));
      JcaContentSignerBuilder signer = new JcaContentSignerBuilder("SHA512withECDSA").setSecureRandom(RANDOM);
      crypto.provider().ifPresent(signer::setProvider);
      X509Certificate cert =
          new JcaX509CertificateConverter().getCertificate(b.build(signer.build(kp.getPrivate())));
      return new Made(cert, kp.getPrivate());
    } catch (GeneralSecurityException | OperatorCreationException | IOException e) {
      throw new PluginException("cannot generate the AutoMTLS certificate (" + crypto + "): "
          + e.getMessage(), e);
    }
  }
}
