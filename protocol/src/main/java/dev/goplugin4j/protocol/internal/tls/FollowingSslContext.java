package dev.goplugin4j.protocol.internal.tls;

import io.grpc.netty.shaded.io.netty.buffer.ByteBufAllocator;
import io.grpc.netty.shaded.io.netty.handler.ssl.ApplicationProtocolNegotiator;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSessionContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An AutoMTLS context made while the JVM's native crypto path was still loading in the background
 * ({@link TlsCrypto}, setting {@code auto}): its engines come from the JDK-path context it was made
 * with until {@link TlsCrypto#get()} answers the native path, then from a native-path context built
 * once, at the first engine asked for after that, with the same key, certificate and pinned peer.
 * A connection keeps the engine it started with. If the native context cannot be built, the JDK
 * one stays (logged at DEBUG).
 *
 * <p>Cipher suites, ALPN (h2) and the client/server role are the same on both paths; they are
 * answered from the JDK-path context. Thread-safe.
 */
final class FollowingSslContext extends SslContext {
  private static final Logger LOG = LoggerFactory.getLogger(FollowingSslContext.class);

  private final SslContext jdk;
  private final Function<TlsCrypto, SslContext> onPath;
  private final Object lock = new Object();
  private volatile SslContext current;
  private boolean settled;

  /**
   * @param jdk the context on the JDK path, used until the native path is there
   * @param onPath builds the same context on a given path
   */
  FollowingSslContext(SslContext jdk, Function<TlsCrypto, SslContext> onPath) {
    this.jdk = Objects.requireNonNull(jdk, "jdk");
    this.onPath = Objects.requireNonNull(onPath, "onPath");
    this.current = jdk;
  }

  /** The context new engines come from now. */
  SslContext current() {
    SslContext c = current;
    if (c != jdk) {
      return c;
    }
    TlsCrypto now = TlsCrypto.get();
    if (now.path() != TlsCrypto.Path.NATIVE) {
      return jdk;
    }
    synchronized (lock) {
      if (!settled) {
        settled = true;
        try {
          current = onPath.apply(now);
        } catch (RuntimeException e) {
          LOG.debug("keeping the JDK path for this AutoMTLS context: the native one failed: {}",
              e.toString());
        }
      }
      return current;
    }
  }

  @Override
  public boolean isClient() {
    return jdk.isClient();
  }

  @Override
  public List<String> cipherSuites() {
    return jdk.cipherSuites();
  }

  @Override
  @SuppressWarnings("deprecation")
  public ApplicationProtocolNegotiator applicationProtocolNegotiator() {
    return jdk.applicationProtocolNegotiator();
  }

  @Override
  public SSLEngine newEngine(ByteBufAllocator alloc) {
    return current().newEngine(alloc);
  }

  @Override
  public SSLEngine newEngine(ByteBufAllocator alloc, String peerHost, int peerPort) {
    return current().newEngine(alloc, peerHost, peerPort);
  }

  @Override
  public SSLSessionContext sessionContext() {
    return current().sessionContext();
  }
}
