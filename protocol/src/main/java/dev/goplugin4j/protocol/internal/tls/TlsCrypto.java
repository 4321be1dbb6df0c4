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
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
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
 * (default), {@code native} (native or a {@link PluginException}), {@code jdk} (the JDK, with one
 * INFO line). It is read once, at the first AutoMTLS use in the JVM.
 *
 * <p>{@code auto} never makes a caller wait for the native library: loading it (extracting and
 * linking AWS-LC, its self-tests, BouncyCastle's JSSE tables) costs a fresh JVM several hundred
 * milliseconds of CPU, more than the JDK's cold P-521 key pair and first handshake together. So
 * the first AutoMTLS use starts that load on a daemon thread ({@code goplugin4j-crypto-load}) and
 * {@link #get()} answers the JDK path until it is done, the native path from then on (or the JDK
 * for good, with one INFO line saying why and what it costs, if it cannot load). Contexts made
 * meanwhile ({@link JdkTls#pinned(boolean, java.security.PrivateKey,
 * java.security.cert.X509Certificate, java.security.cert.X509Certificate)}) follow: their new
 * connections move to the native path once it is there, with the same key and certificate. A key
 * pair made on the JDK path is imported into ACCP for that ({@link #importKey}). On JDK 24 and later, {@code auto} uses the
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

  /** The JVM's setting of {@value #PROPERTY}, read at first use. */
  private static final class Setting {
    static final String VALUE = System.getProperty(PROPERTY);
    static final boolean AUTO = VALUE == null || VALUE.isBlank() || "auto".equalsIgnoreCase(VALUE.strip());
  }

  /** {@code native}, {@code jdk} (or an unknown value): decided at first use, on the caller's thread. */
  private static final class Chosen {
    // native (the user insists) does not check that loading makes the JDK warn
    static final TlsCrypto INSTANCE = choose(Setting.VALUE, () -> loadNativeAndWarmUp(false, true), LOG);
  }

  /** {@code auto}: the native path loads on a daemon thread started at first use; JDK meanwhile. */
  private static final class Background {
    static final CompletableFuture<TlsCrypto> CHOICE = new CompletableFuture<>();

    static {
      Thread t = new Thread(() -> {
        try {
          // auto checks that loading does not make the JDK warn; warm-up here, before publishing
          CHOICE.complete(choose("auto", () -> loadNativeAndWarmUp(true, false), LOG));
        } catch (RuntimeException | Error e) {
          LOG.info("AutoMTLS stays on the JDK's crypto: loading the native path failed: {}", reason(e));
          CHOICE.complete(JDK);
        }
      }, "goplugin4j-crypto-load");
      t.setDaemon(true);
      t.start();
    }

    static TlsCrypto current() {
      return CHOICE.getNow(JDK);
    }
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
    return Setting.AUTO ? Background.current() : Chosen.INSTANCE;
  }

  /**
   * Whether {@link #get()} may still move from the JDK path to the native one: the setting is
   * {@code auto} and the native path's background load has not ended yet. Starts nothing.
   *
   * @return true while an {@code auto} load is under way (or not started yet)
   */
  public static boolean mayBecomeNative() {
    return Setting.AUTO && !Background.CHOICE.isDone();
  }

  /**
   * The JVM's path once the choice is final: with {@code auto}, waits (at most {@code timeout})
   * for the native path's background load to end, starting it if needed. For tests, benchmarks and
   * tools that report the path; the library itself never waits.
   *
   * @param timeout how long to wait at most; not negative
   * @return {@link #get()} after the wait (the JDK path if the load is still not done)
   * @throws PluginException as {@link #get()}
   */
  public static TlsCrypto awaitChoice(Duration timeout) {
    if (!Setting.AUTO) {
      return Chosen.INSTANCE;
    }
    try {
      return Background.CHOICE.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
    } catch (TimeoutException e) {
      return Background.current();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Background.current();
    } catch (ExecutionException e) {
      return JDK; // never: the load completes normally with its choice
    }
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

  /**
   * The JVM's native path, its TLS engine warmed (see NativeCrypto): on another thread when the
   * caller waits for it, on this one when this is the background load already.
   */
  private static TlsCrypto loadNativeAndWarmUp(boolean checkNativeAccess, boolean warmInBackground) {
    if (checkNativeAccess) {
      NativeCrypto.checkNativeAccess();
    }
    TlsCrypto t = loadNative();
    if (warmInBackground) {
      NativeCrypto.warmUp(t.jsse);
    } else {
      NativeCrypto.warmUpNow(t.jsse);
    }
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
   * provider (a SunEC key made while the native path was loading, or one read from PEM) is
   * imported into ACCP, so that signing with it runs in AWS-LC (a handshake signed with a foreign
   * key falls back to much slower code); ACCP's own keys come back as they are. On the JDK path,
   * or if the import fails, {@code key} itself.
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
