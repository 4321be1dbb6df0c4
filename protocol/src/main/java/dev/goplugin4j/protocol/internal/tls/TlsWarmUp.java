package dev.goplugin4j.protocol.internal.tls;

import dev.goplugin4j.protocol.AutoMtlsCertificate;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The first AutoMTLS handshake of a JVM is slow: it loads and initialises the TLS and crypto code
 * (hundreds of milliseconds in a fresh JVM, most of the first connection's cost). {@link
 * #runOnce} does one handshake in memory, client and server both presenting and pinning {@code
 * own}, so that a client can run it on another thread while it waits for its plugin to start
 * (a container's start, a plugin JVM's start) and the real handshake then finds that code ready.
 * The first call in a JVM runs it; later calls return at once, so a warm host pays nothing.
 *
 * <p>Nothing JVM-wide is changed: no provider is installed, no property set. Thread-safe.
 */
public final class TlsWarmUp {
  private static final Logger LOG = LoggerFactory.getLogger(TlsWarmUp.class);

  /** Set by the first caller: once per JVM (the code paths it warms are JVM-wide too). */
  private static final AtomicBoolean CLAIMED = new AtomicBoolean();

  private TlsWarmUp() {}

  /**
   * Whether no warm-up has run or started in this JVM yet (a hint: {@link #runOnce} decides).
   *
   * @return true before the first {@link #runOnce}
   */
  public static boolean pending() {
    return !CLAIMED.get();
  }

  /**
   * Runs the in-memory handshake if no caller in this JVM has; never throws (a failure is logged
   * at DEBUG: the real handshake reports its own).
   *
   * @param own a certificate and key of this side
   * @return whether this call ran it
   */
  public static boolean runOnce(AutoMtlsCertificate own) {
    if (!CLAIMED.compareAndSet(false, true)) {
      return false;
    }
    long t0 = System.nanoTime();
    try {
      InMemoryHandshake.run(
          TlsContexts.client(own, own.certificate()), TlsContexts.server(own, own.certificate()));
      LOG.debug("TLS warm-up: one in-memory AutoMTLS handshake in {} ms",
          (System.nanoTime() - t0) / 1_000_000);
    } catch (Exception | LinkageError e) {
      LOG.debug("TLS warm-up failed (the real handshake reports its own errors): {}", e.toString());
    }
    return true;
  }
}
