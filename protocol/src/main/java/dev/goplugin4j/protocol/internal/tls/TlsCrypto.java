package dev.goplugin4j.protocol.internal.tls;

import dev.goplugin4j.protocol.PluginException;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyFactory;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import java.util.Locale;
import java.util.Objects;
import java.util.function.Supplier;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The crypto behind AutoMTLS: P-521 key pairs, SHA512withECDSA certificate signatures and the TLS
 * engine, on one of two paths chosen once per JVM.
 *
 * <ul>
 *   <li>{@link Path#NATIVE} (default where it loads): BouncyCastle JSSE ({@code bctls}) whose
 *       crypto is a private Amazon Corretto Crypto Provider instance (AWS-LC, native), with the
 *       JDK's providers for what ACCP lacks (X.509 parsing, X25519); key pairs and certificate
 *       signatures also from that ACCP instance. About 5× faster per handshake than the JDK.
 *   <li>{@link Path#JDK}: SunJSSE and SunEC, as every JDK has them.
 * </ul>
 *
 * <p>Nothing is added to or reordered in {@link java.security.Security}: the providers are
 * private instances. The system property {@value #PROPERTY} picks the path: {@code auto}
 * (default: native, else the JDK with one INFO line saying why and what it costs), {@code
 * native} (native or a {@link PluginException}), {@code jdk} (the JDK, with one INFO line). It is
 * read once, at the first AutoMTLS use in the JVM. On JDK 24 and later, {@code auto} uses the
 * native path only where native access is enabled for ACCP ({@code --enable-native-access=
 * ALL-UNNAMED} or its module name), because loading it otherwise makes the JDK print a warning on
 * stderr; the INFO line says so. Certificates, pinning and peer checks are the
 * same on both paths; the two interoperate.
 *
 * <p>Immutable and thread-safe.
 */
public final class TlsCrypto {
  /** The system property that picks the path: {@code auto} (default), {@code native}, {@code jdk}. */
  public static final String PROPERTY = "goplugin4j.crypto";

  private static final Logger LOG = LoggerFactory.getLogger(TlsCrypto.class);
  private static final String CURVE = "secp521r1";
  private static final String SIGNATURE = "SHA512withECDSA";

  /** Which crypto a {@link TlsCrypto} uses. */
  public enum Path {
    /** bctls + private ACCP (AWS-LC). */
    NATIVE,
    /** SunJSSE + SunEC. */
    JDK
  }

  private static final TlsCrypto JDK = new TlsCrypto(Path.JDK, null, null);

  private final Path path;
  private final Provider crypto;
  private final Provider jsse;

  private TlsCrypto(Path path, Provider crypto, Provider jsse) {
    this.path = path;
    this.crypto = crypto;
    this.jsse = jsse;
  }

  /** The JVM's choice, made at first use from {@value #PROPERTY}. */
  private static final class Chosen {
    private static final String SETTING = System.getProperty(PROPERTY);
    // auto checks that loading does not make the JDK warn; native (the user insists) does not
    static final TlsCrypto INSTANCE = choose(SETTING,
        () -> loadNativeAndWarmUp(!"native".equalsIgnoreCase(String.valueOf(SETTING).strip())), LOG);
  }

  /**
   * The path this JVM uses, chosen at the first call from the system property {@value
   * #PROPERTY}; later changes of the property have no effect.
   *
   * @return the JVM's crypto; never null
   * @throws PluginException if the property says {@code native} and the native path cannot load,
   *     or the property has an unknown value
   */
  public static TlsCrypto get() {
    return Chosen.INSTANCE;
  }

  /**
   * The JDK path (SunJSSE + SunEC), whatever the JVM chose: for tests and benchmarks.
   *
   * @return the JDK crypto
   */
  public static TlsCrypto jdk() {
    return JDK;
  }

  /**
   * The native path, whatever the JVM chose: for tests and benchmarks. Logs nothing.
   *
   * @return a new native crypto (its ACCP instance is ACCP's shared one, never installed)
   * @throws PluginException if the native path cannot load here
   */
  public static TlsCrypto nativeCrypto() {
    try {
      return loadNative();
    } catch (RuntimeException | LinkageError e) {
      throw new PluginException("the native crypto path cannot load here: " + reason(e)
          + "; see docs/tls.md", e);
    }
  }

  /**
   * Chooses a path for a setting, logging at most one INFO line: the decision the JVM makes once,
   * exposed so tests can make it with a failing loader.
   *
   * @param setting the property's value: null, blank or {@code auto}, {@code native}, {@code
   *     jdk} (case-insensitive)
   * @param loadNative loads the native path; may throw any runtime exception or linkage error
   * @param log where the one INFO line goes
   * @return the chosen crypto
   * @throws PluginException if {@code setting} is unknown, or {@code native} cannot load
   */
  static TlsCrypto choose(String setting, Supplier<TlsCrypto> loadNative, Logger log) {
    Objects.requireNonNull(loadNative, "loadNative");
    String s = setting == null || setting.isBlank() ? "auto" : setting.strip().toLowerCase(Locale.ROOT);
    switch (s) {
      case "jdk" -> {
        log.info("AutoMTLS uses the JDK's crypto (SunJSSE + SunEC) as {}=jdk asks: about 5x the CPU"
            + " of the native path per TLS handshake (~25 ms more) and ~10 ms more per key pair;"
            + " see docs/tls.md", PROPERTY);
        return JDK;
      }
      case "native" -> {
        try {
          return loadNative.get();
        } catch (RuntimeException | LinkageError e) {
          throw new PluginException("AutoMTLS cannot use native crypto, which " + PROPERTY
              + "=native requires: " + reason(e) + ". Fix: see docs/tls.md for what the native"
              + " path needs (Linux x86-64 glibc, an executable temp dir or the library on"
              + " java.library.path), or set " + PROPERTY + "=auto or jdk", e);
        }
      }
      case "auto" -> {
        try {
          return loadNative.get();
        } catch (RuntimeException | LinkageError e) {
          log.info("AutoMTLS falls back to the JDK's crypto (SunJSSE + SunEC): native P-521 crypto"
              + " (Amazon Corretto Crypto Provider) cannot load here ({}); this costs about 5x the"
              + " CPU per TLS handshake (~25 ms more) and ~10 ms more per key pair. Set {}=jdk to"
              + " choose it, or see docs/tls.md to enable the native path", reason(e), PROPERTY);
          return JDK;
        }
      }
      default -> throw new PluginException("unknown value '" + setting + "' of the system property "
          + PROPERTY + ": use auto (the default), native or jdk");
    }
  }

  /** The JVM's native path: also warms the TLS engine in the background (see NativeCrypto). */
  private static TlsCrypto loadNativeAndWarmUp(boolean checkNativeAccess) {
    if (checkNativeAccess) {
      NativeCrypto.checkNativeAccess();
    }
    TlsCrypto t = loadNative();
    NativeCrypto.warmUp(t.jsse);
    return t;
  }

  private static TlsCrypto loadNative() {
    Provider[] p = NativeCrypto.load();
    return new TlsCrypto(Path.NATIVE, p[0], p[1]);
  }

  private static String reason(Throwable e) {
    String m = e.getMessage();
    return e.getClass().getSimpleName() + (m == null || m.isBlank() ? "" : ": " + m.strip());
  }

  /**
   * Which path this is.
   *
   * @return the path
   */
  public Path path() {
    return path;
  }

  /**
   * A new ECDSA P-521 key pair from this path's provider.
   *
   * @param random the randomness for the key
   * @return the key pair
   * @throws PluginException if the provider cannot make one (never on supported JDKs)
   */
  public KeyPair p521KeyPair(SecureRandom random) {
    try {
      KeyPairGenerator kpg =
          crypto == null ? KeyPairGenerator.getInstance("EC") : KeyPairGenerator.getInstance("EC", crypto);
      kpg.initialize(new ECGenParameterSpec(CURVE), random);
      return kpg.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new PluginException("cannot generate a P-521 key pair (" + path + " crypto): "
          + e.getMessage(), e);
    }
  }

  /**
   * A new, uninitialised SHA512withECDSA signature from this path's provider.
   *
   * @return the signature
   * @throws PluginException if the provider lacks it (never on supported JDKs)
   */
  public Signature sha512WithEcdsa() {
    try {
      return crypto == null ? Signature.getInstance(SIGNATURE) : Signature.getInstance(SIGNATURE, crypto);
    } catch (GeneralSecurityException e) {
      throw new PluginException("cannot create " + SIGNATURE + " (" + path + " crypto): "
          + e.getMessage(), e);
    }
  }

  /**
   * The provider of key pairs and signatures, for APIs that take one (BouncyCastle's {@code
   * JcaContentSignerBuilder}).
   *
   * @return the private ACCP instance on the native path, empty on the JDK path (use the JVM's)
   */
  public java.util.Optional<Provider> provider() {
    return java.util.Optional.ofNullable(crypto);
  }

  /**
   * {@code key} as this path's provider uses it best: on the native path an EC key from another
   * provider (one read from PEM, as a reattaching host's, or made on the JDK path) is imported
   * into ACCP, so that the handshake's signatures run in AWS-LC; ACCP's own keys come back as they
   * are. On the JDK path, or if the import fails, {@code key} itself.
   *
   * @param key a private key; not null
   * @return the key to use on this path
   */
  public PrivateKey importKey(PrivateKey key) {
    Objects.requireNonNull(key, "key");
    if (crypto == null || !"EC".equals(key.getAlgorithm())) {
      return key;
    }
    try {
      return (PrivateKey) KeyFactory.getInstance("EC", crypto).translateKey(key);
    } catch (GeneralSecurityException | RuntimeException e) {
      LOG.debug("cannot import a {} key into {}; using it as it is: {}", key.getClass().getName(),
          this, e.toString());
      return key;
    }
  }

  /**
   * A TLS context on this path, initialised with {@code keys} and {@code trust}.
   *
   * @param keys what this side presents
   * @param trust which peers it trusts
   * @return the context
   * @throws PluginException if the TLS provider refuses the managers
   */
  public SSLContext sslContext(KeyManager[] keys, TrustManager[] trust) {
    try {
      SSLContext ctx = jsse == null ? SSLContext.getInstance("TLS") : SSLContext.getInstance("TLS", jsse);
      ctx.init(keys, trust, null);
      return ctx;
    } catch (GeneralSecurityException e) {
      throw new PluginException("cannot set up TLS (" + path + " crypto): " + e.getMessage(), e);
    }
  }

  @Override
  public String toString() {
    return path == Path.NATIVE ? "native crypto (bctls + private ACCP)" : "JDK crypto (SunJSSE + SunEC)";
  }
}
