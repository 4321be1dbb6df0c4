package dev.goplugin4j.protocol.internal.tls;

import com.amazon.corretto.crypto.provider.AmazonCorrettoCryptoProvider;
import java.security.Provider;
import java.security.SecureRandom;
import org.bouncycastle.jcajce.util.JcaJceHelper;
import org.bouncycastle.jsse.provider.BouncyCastleJsseProvider;
import org.bouncycastle.tls.crypto.impl.jcajce.JcaTlsCrypto;
import org.bouncycastle.tls.crypto.impl.jcajce.JcaTlsCryptoProvider;

/**
 * Loads the native path's providers: Amazon Corretto Crypto Provider (AWS-LC) and a BouncyCastle
 * JSSE provider whose crypto is that ACCP instance (falling back to the JDK's installed providers
 * for what ACCP lacks). Neither is installed in {@link java.security.Security}: both are private
 * instances only goplugin4j's contexts use.
 *
 * <p>The only class that names ACCP or bctls types, so that a JVM without them (jar left out,
 * {@code NoClassDefFoundError}) fails here and nowhere else.
 */
final class NativeCrypto {
  /*
   * BouncyCastle's JSSE logs through java.util.logging: INFO for every connection accepted and
   * closed, and a WARNING per context for entries of the JDK's jdk.certpath.disabledAlgorithms it
   * does not parse. Unless the application configured these loggers, they are set to let only
   * real problems through. Strong references: LogManager holds loggers weakly.
   */
  private static final java.util.logging.Logger BC_JSSE =
      java.util.logging.Logger.getLogger("org.bouncycastle.jsse");
  private static final java.util.logging.Logger BC_JSSE_CONSTRAINTS =
      java.util.logging.Logger.getLogger("org.bouncycastle.jsse.provider.DisabledAlgorithmConstraints");

  private NativeCrypto() {}

  private static void quietBouncyCastleLogs() {
    if (BC_JSSE.getLevel() == null) {
      BC_JSSE.setLevel(java.util.logging.Level.WARNING);
    }
    if (BC_JSSE_CONSTRAINTS.getLevel() == null) {
      BC_JSSE_CONSTRAINTS.setLevel(java.util.logging.Level.SEVERE);
    }
  }

  /**
   * ACCP's shared instance, checked to be healthy, and a JSSE provider bound to it.
   *
   * @return {@code [accp, jsse]}
   * @throws IllegalStateException if ACCP's native library did not load
   * @throws LinkageError if ACCP or bctls classes are missing
   */
  static Provider[] load() {
    AmazonCorrettoCryptoProvider accp = AmazonCorrettoCryptoProvider.INSTANCE;
    return withJsse(accp);
  }

  /**
   * Refuses where loading ACCP's library would make the JDK print its restricted-method warning
   * on stderr (JDK 24 and later, native access not enabled for ACCP's module), naming the option
   * that enables it. Does not initialise ACCP.
   *
   * @throws IllegalStateException if native access is not enabled on a JDK that would warn
   * @throws LinkageError if ACCP's classes are missing
   */
  static void checkNativeAccess() {
    if (Runtime.version().feature() < 24) {
      return;
    }
    Module m = AmazonCorrettoCryptoProvider.class.getModule();
    boolean enabled;
    try {
      enabled = (Boolean) Module.class.getMethod("isNativeAccessEnabled").invoke(m);
    } catch (ReflectiveOperationException | ClassCastException e) {
      return;
    }
    if (!enabled) {
      String who = m.isNamed() ? m.getName() : "ALL-UNNAMED";
      throw new IllegalStateException("native access is not enabled for " + who + " and this JDK"
          + " would warn on stderr when ACCP loads its library; add --enable-native-access=" + who
          + " to the java command (or Enable-Native-Access: ALL-UNNAMED to an executable jar's"
          + " manifest)");
    }
  }

  private static Provider[] withJsse(AmazonCorrettoCryptoProvider accp) {
    Throwable error = accp.getLoadingError();
    if (error != null) {
      throw new IllegalStateException(describe(error), error);
    }
    // Not assertHealthy(): it runs every algorithm's self-test at once (~50 ms, ten times that on
    // a loaded machine); ACCP runs each algorithm's own on its first use.
    quietBouncyCastleLogs();
    JcaJceHelper helper = new RoutingJcaJceHelper(accp);
    Provider jsse = new BouncyCastleJsseProvider(false, new SharedCryptoProvider(helper));
    return new Provider[] {accp, jsse};
  }

  /**
   * The crypto of every context of the native path: bctls asks its crypto provider for a new
   * {@code JcaTlsCrypto} at each {@code SSLContext.init}, and each new one probes again which of
   * ~100 named groups and signature schemes it supports (a key pair generator or signature per
   * entry, an exception for each one ACCP lacks: ~70 per context, on the thread that builds it;
   * the client's context is built by the starting thread after the plugin's handshake line). One
   * crypto for all contexts that pass no random of their own probes once per JVM. A {@code
   * JcaTlsCrypto} is made for concurrent use (a context's engines all share one; its caches are
   * synchronised tables and its randoms thread-safe {@code SecureRandom}s), so sharing it across
   * contexts adds no new concurrency. A context given its own random gets a crypto of its own, as
   * before. Thread-safe.
   */
  private static final class SharedCryptoProvider extends JcaTlsCryptoProvider {
    private final JcaJceHelper helper;
    private JcaTlsCrypto shared; // guarded by this

    SharedCryptoProvider(JcaJceHelper helper) {
      this.helper = helper;
    }

    @Override
    public JcaJceHelper getHelper() {
      return helper;
    }

    @Override
    public JcaTlsCrypto create(SecureRandom random) {
      if (random != null) {
        return super.create(random);
      }
      synchronized (this) {
        if (shared == null) {
          shared = super.create(null);
        }
        return shared;
      }
    }
  }

  /**
   * Loads BouncyCastle JSSE's classes and tables on a short-lived daemon thread, so that the first
   * real context (after the key pair, the certificate and usually the plugin's start) finds them
   * ready. Failures are left for the real context to report.
   *
   * @param jsse the provider to warm
   */
  static void warmUp(Provider jsse) {
    Thread t = new Thread(() -> {
      try {
        javax.net.ssl.SSLContext ctx = javax.net.ssl.SSLContext.getInstance("TLS", jsse);
        ctx.init(null, null, null);
        ctx.createSSLEngine("localhost", 1).getSSLParameters();
      } catch (java.security.GeneralSecurityException | RuntimeException e) {
        // the real context reports it
      }
    }, "goplugin4j-tls-warmup");
    t.setDaemon(true);
    t.start();
  }

  /** ACCP's loading error and its suppressed causes on one line. */
  private static String describe(Throwable error) {
    StringBuilder sb = new StringBuilder(String.valueOf(error.getMessage()));
    for (Throwable t = error.getCause(); t != null && t != t.getCause(); t = t.getCause()) {
      sb.append(": ").append(t.getMessage());
    }
    for (Throwable s : error.getSuppressed()) {
      sb.append("; ").append(s.getMessage());
    }
    return sb.toString();
  }
}
