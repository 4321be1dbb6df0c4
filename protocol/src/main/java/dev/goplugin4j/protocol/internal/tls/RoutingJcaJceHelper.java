package dev.goplugin4j.protocol.internal.tls;

import java.security.AlgorithmParameterGenerator;
import java.security.AlgorithmParameters;
import java.security.KeyFactory;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.KeyStoreException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.NoSuchProviderException;
import java.security.Provider;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.InvalidAlgorithmParameterException;
import java.security.cert.CertPathBuilder;
import java.security.cert.CertPathValidator;
import java.security.cert.CertStore;
import java.security.cert.CertStoreParameters;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import javax.crypto.Cipher;
import javax.crypto.ExemptionMechanism;
import javax.crypto.KeyAgreement;
import javax.crypto.KeyGenerator;
import javax.crypto.Mac;
import javax.crypto.NoSuchPaddingException;
import javax.crypto.SecretKeyFactory;
import org.bouncycastle.jcajce.util.DefaultJcaJceHelper;
import org.bouncycastle.jcajce.util.JcaJceHelper;
import org.bouncycastle.jcajce.util.ProviderJcaJceHelper;

/**
 * The crypto BouncyCastle's JSSE uses on the native path: each algorithm from one private
 * provider instance (ACCP) when it has it, else from the JDK's installed providers, read as they
 * are (nothing is added to or reordered in {@link java.security.Security}).
 *
 * <p>ACCP has no X.509 {@code CertificateFactory} and no X25519 ({@code XDH}); those come from
 * the JDK (SUN, SunEC). Routing looks the service up in the provider ({@link
 * Provider#getService}), so no exception is thrown and caught per call on the handshake path.
 * Thread-safe: stateless apart from the immutable provider references.
 */
final class RoutingJcaJceHelper implements JcaJceHelper {
  private final Provider primary;
  private final JcaJceHelper preferred;
  private final JcaJceHelper fallback = new DefaultJcaJceHelper();

  /**
   * A helper that prefers {@code primary}.
   *
   * @param primary the private provider instance tried first; not installed anywhere
   */
  RoutingJcaJceHelper(Provider primary) {
    this.primary = primary;
    this.preferred = new ProviderJcaJceHelper(primary);
  }

  private JcaJceHelper pick(String type, String algorithm) {
    return primary.getService(type, algorithm) != null ? preferred : fallback;
  }

  /** A cipher transformation is served when the provider has it whole or its algorithm part. */
  private JcaJceHelper pickCipher(String transformation) {
    if (primary.getService("Cipher", transformation) != null) {
      return preferred;
    }
    int slash = transformation.indexOf('/');
    return slash > 0 && primary.getService("Cipher", transformation.substring(0, slash)) != null
        ? preferred
        : fallback;
  }

  @Override
  public Cipher createCipher(String algorithm)
      throws NoSuchAlgorithmException, NoSuchPaddingException, NoSuchProviderException {
    JcaJceHelper h = pickCipher(algorithm);
    try {
      return h.createCipher(algorithm);
    } catch (NoSuchAlgorithmException | NoSuchPaddingException e) {
      if (h == fallback) {
        throw e;
      }
      return fallback.createCipher(algorithm);
    }
  }

  @Override
  public Mac createMac(String algorithm) throws NoSuchAlgorithmException, NoSuchProviderException {
    return pick("Mac", algorithm).createMac(algorithm);
  }

  @Override
  public KeyAgreement createKeyAgreement(String algorithm)
      throws NoSuchAlgorithmException, NoSuchProviderException {
    return pick("KeyAgreement", algorithm).createKeyAgreement(algorithm);
  }

  @Override
  public AlgorithmParameterGenerator createAlgorithmParameterGenerator(String algorithm)
      throws NoSuchAlgorithmException, NoSuchProviderException {
    return pick("AlgorithmParameterGenerator", algorithm).createAlgorithmParameterGenerator(algorithm);
  }

  @Override
  public AlgorithmParameters createAlgorithmParameters(String algorithm)
      throws NoSuchAlgorithmException, NoSuchProviderException {
    return pick("AlgorithmParameters", algorithm).createAlgorithmParameters(algorithm);
  }

  @Override
  public KeyGenerator createKeyGenerator(String algorithm)
      throws NoSuchAlgorithmException, NoSuchProviderException {
    return pick("KeyGenerator", algorithm).createKeyGenerator(algorithm);
  }

  @Override
  public KeyFactory createKeyFactory(String algorithm)
      throws NoSuchAlgorithmException, NoSuchProviderException {
    return pick("KeyFactory", algorithm).createKeyFactory(algorithm);
  }

  @Override
  public SecretKeyFactory createSecretKeyFactory(String algorithm)
      throws NoSuchAlgorithmException, NoSuchProviderException {
    return pick("SecretKeyFactory", algorithm).createSecretKeyFactory(algorithm);
  }

  @Override
  public KeyPairGenerator createKeyPairGenerator(String algorithm)
      throws NoSuchAlgorithmException, NoSuchProviderException {
    return pick("KeyPairGenerator", algorithm).createKeyPairGenerator(algorithm);
  }

  @Override
  @Deprecated
  public MessageDigest createDigest(String algorithm)
      throws NoSuchAlgorithmException, NoSuchProviderException {
    return createMessageDigest(algorithm);
  }

  @Override
  public MessageDigest createMessageDigest(String algorithm)
      throws NoSuchAlgorithmException, NoSuchProviderException {
    return pick("MessageDigest", algorithm).createMessageDigest(algorithm);
  }

  @Override
  public Signature createSignature(String algorithm)
      throws NoSuchAlgorithmException, NoSuchProviderException {
    return pick("Signature", algorithm).createSignature(algorithm);
  }

  @Override
  public CertificateFactory createCertificateFactory(String algorithm)
      throws NoSuchProviderException, CertificateException {
    return pick("CertificateFactory", algorithm).createCertificateFactory(algorithm);
  }

  @Override
  public SecureRandom createSecureRandom(String algorithm)
      throws NoSuchAlgorithmException, NoSuchProviderException {
    return pick("SecureRandom", algorithm).createSecureRandom(algorithm);
  }

  @Override
  public CertPathBuilder createCertPathBuilder(String algorithm)
      throws NoSuchAlgorithmException, NoSuchProviderException {
    return pick("CertPathBuilder", algorithm).createCertPathBuilder(algorithm);
  }

  @Override
  public CertPathValidator createCertPathValidator(String algorithm)
      throws NoSuchAlgorithmException, NoSuchProviderException {
    return pick("CertPathValidator", algorithm).createCertPathValidator(algorithm);
  }

  @Override
  public CertStore createCertStore(String type, CertStoreParameters params)
      throws NoSuchAlgorithmException, InvalidAlgorithmParameterException, NoSuchProviderException {
    return pick("CertStore", type).createCertStore(type, params);
  }

  @Override
  public ExemptionMechanism createExemptionMechanism(String algorithm)
      throws NoSuchAlgorithmException, NoSuchProviderException {
    return pick("ExemptionMechanism", algorithm).createExemptionMechanism(algorithm);
  }

  @Override
  public KeyStore createKeyStore(String type) throws KeyStoreException, NoSuchProviderException {
    return pick("KeyStore", type).createKeyStore(type);
  }
}
