package dev.goplugin4j.protocol;

import dev.goplugin4j.protocol.internal.tls.AutoMtlsKeys;
import dev.goplugin4j.protocol.internal.tls.TlsCrypto;
import java.io.ByteArrayInputStream;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.Objects;

/**
 * A one-off self-signed certificate for go-plugin's AutoMTLS, made exactly as go-plugin makes
 * one: ECDSA P-521 key, subject CN {@code localhost} (O {@code HashiCorp}), SAN DNS {@code
 * localhost}, extended key usage clientAuth and serverAuth, key usage digitalSignature,
 * keyEncipherment, keyAgreement and keyCertSign, CA:true, a random 128-bit serial, valid from 30 s
 * ago for 262 980 hours (about 30 years).
 *
 * <p>Each side of a connection makes its own; the host passes its certificate to the plugin in
 * {@link PluginEnv#CLIENT_CERT} (PEM), the plugin returns its own in the handshake (base64 DER
 * without padding), and each side trusts exactly the other's certificate.
 *
 * <p>Immutable and thread-safe. The private key never leaves the JVM.
 */
public final class AutoMtlsCertificate {
  private final X509Certificate certificate;
  private final PrivateKey privateKey;

  private AutoMtlsCertificate(X509Certificate certificate, PrivateKey privateKey) {
    this.certificate = certificate;
    this.privateKey = privateKey;
  }

  /**
   * Generates a new key pair and certificate with the JVM's AutoMTLS crypto: native (Amazon
   * Corretto Crypto Provider, a private instance, about 1 ms) where it loads, else the JDK's
   * (SunEC, about 10–20 ms); see {@code docs/tls.md} and the system property {@code
   * goplugin4j.crypto}. Nothing is installed in {@link java.security.Security}.
   *
   * @return a fresh certificate with its private key
   * @throws PluginException if the provider lacks EC P-521 support (never on supported JDKs), or
   *     {@code goplugin4j.crypto=native} is set and the native path cannot load
   */
  public static AutoMtlsCertificate generate() {
    AutoMtlsKeys.Made made = AutoMtlsKeys.generate(TlsCrypto.get());
    return new AutoMtlsCertificate(made.certificate(), made.privateKey());
  }

  /**
   * The certificate.
   *
   * @return the X.509 certificate
   */
  public X509Certificate certificate() {
    return certificate;
  }

  /**
   * The private key of the certificate.
   *
   * @return the EC private key
   */
  public PrivateKey privateKey() {
    return privateKey;
  }

  /**
   * The certificate in PEM, as the host puts it in {@link PluginEnv#CLIENT_CERT}.
   *
   * @return a {@code -----BEGIN CERTIFICATE-----} block with a trailing newline
   */
  public String pem() {
    return toPem(certificate);
  }

  /**
   * The certificate as the handshake line carries it: DER, base64 standard alphabet, without
   * padding.
   *
   * @return the encoded certificate
   */
  public String base64Der() {
    try {
      return Base64.getEncoder().withoutPadding().encodeToString(certificate.getEncoded());
    } catch (CertificateException e) {
      throw new PluginException("cannot encode the AutoMTLS certificate: " + e.getMessage(), e);
    }
  }

  /**
   * The private key in PEM (PKCS#8). Secret: only for persisting a reattach configuration.
   *
   * @return a {@code -----BEGIN PRIVATE KEY-----} block
   */
  public String privateKeyPem() {
    return "-----BEGIN PRIVATE KEY-----\n"
        + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(privateKey.getEncoded())
        + "\n-----END PRIVATE KEY-----\n";
  }

  /**
   * Restores a certificate and its key, as written by {@link #pem()} and {@link
   * #privateKeyPem()}.
   *
   * @param certificatePem the certificate; not null
   * @param privateKeyPem the PKCS#8 EC private key; not null
   * @return the certificate with its key
   * @throws HandshakeException if either cannot be parsed
   */
  public static AutoMtlsCertificate fromPem(String certificatePem, String privateKeyPem) {
    X509Certificate cert = parsePem(certificatePem);
    try {
      String body =
          privateKeyPem
              .replace("-----BEGIN PRIVATE KEY-----", "")
              .replace("-----END PRIVATE KEY-----", "")
              .replaceAll("\\s", "");
      var spec = new java.security.spec.PKCS8EncodedKeySpec(Base64.getDecoder().decode(body));
      PrivateKey key = java.security.KeyFactory.getInstance("EC").generatePrivate(spec);
      return new AutoMtlsCertificate(cert, key);
    } catch (GeneralSecurityException | IllegalArgumentException e) {
      throw new HandshakeException("cannot parse the private key PEM: " + e.getMessage(), e);
    }
  }

  /**
   * Encodes any certificate in PEM.
   *
   * @param certificate the certificate; not null
   * @return the PEM text with a trailing newline
   */
  public static String toPem(X509Certificate certificate) {
    Objects.requireNonNull(certificate, "certificate");
    try {
      return "-----BEGIN CERTIFICATE-----\n"
          + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(certificate.getEncoded())
          + "\n-----END CERTIFICATE-----\n";
    } catch (CertificateException e) {
      throw new PluginException("cannot encode certificate as PEM: " + e.getMessage(), e);
    }
  }

  /**
   * Parses the certificate field of a handshake line (base64 DER; padding optional).
   *
   * @param base64 the field; not null
   * @return the certificate
   * @throws HandshakeException if the text is not base64 or not a DER certificate
   */
  public static X509Certificate parseBase64Der(String base64) {
    Objects.requireNonNull(base64, "base64");
    byte[] der;
    try {
      der = Base64.getDecoder().decode(pad(base64.strip()));
    } catch (IllegalArgumentException e) {
      throw new HandshakeException(
          "error parsing the plugin's certificate from its handshake: not base64: " + e.getMessage(), e);
    }
    return parseCertificate(der, "the plugin's handshake");
  }

  /**
   * Parses one PEM certificate, as found in {@link PluginEnv#CLIENT_CERT}.
   *
   * @param pem the PEM text; not null
   * @return the certificate
   * @throws HandshakeException if the text holds no valid certificate
   */
  public static X509Certificate parsePem(String pem) {
    Objects.requireNonNull(pem, "pem");
    if (!pem.contains("-----BEGIN CERTIFICATE-----")) {
      throw new HandshakeException("expected a PEM certificate (-----BEGIN CERTIFICATE-----), got "
          + pem.length() + " chars without one");
    }
    return parseCertificate(pem.getBytes(java.nio.charset.StandardCharsets.US_ASCII), "PEM");
  }

  private static X509Certificate parseCertificate(byte[] bytes, String where) {
    try {
      return (X509Certificate)
          CertificateFactory.getInstance("X.509")
              .generateCertificate(new ByteArrayInputStream(bytes));
    } catch (CertificateException | ClassCastException e) {
      throw new HandshakeException("error parsing certificate from " + where + ": " + e.getMessage(), e);
    }
  }

  private static String pad(String s) {
    int rem = s.length() % 4;
    return rem == 0 ? s : s + "=".repeat(4 - rem);
  }
}
