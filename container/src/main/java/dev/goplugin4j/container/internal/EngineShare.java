package dev.goplugin4j.container.internal;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engine connections of one runner factory (a {@code ContainerConfig}), shared by the
 * runners it creates: one {@code GET /_ping} and API negotiation per engine, one pooled client
 * for plain calls and one for typed calls (stop, remove), instead of connecting anew at each
 * start. Each runner gets an {@link EngineLease} with its own stream client for its attach and
 * exit wait, so that its kill or release cuts its own streams only.
 *
 * <p>Lifecycle, by reference count: the first runner to start connects (runners starting at the
 * same moment wait for that connection rather than opening their own); each runner gives its share
 * back when it is killed or released; {@value #LINGER_MILLIS} ms after the last one is given back,
 * the connection is closed (its pooled sockets with it), unless a runner took a share meanwhile.
 * So a host that closes every plugin keeps no socket once the linger is over, without closing
 * anything else, and a host starting its plugins one after another reuses the connection. The
 * connection holds no thread: the linger is timed on the JDK's shared delay scheduler.
 *
 * <p>A pooled connection the engine closed (it restarted) is detected when a call fails on it
 * and the call is sent again ({@link EngineTransport#retryingStale}); an engine that stays down
 * fails the calls, and once its runners are gone the next start connects anew.
 *
 * <p>Thread-safe.
 */
public final class EngineShare {
  private static final Logger LOG = LoggerFactory.getLogger(EngineShare.class);

  /** How long an unused connection stays open for the next start. */
  static final long LINGER_MILLIS = 1_000;

  private final long lingerMillis;
  private final Object lock = new Object();
  /** Per {@link EngineLocator#key()}. Guarded by {@link #lock}. */
  private final Map<String, Shared> shared = new HashMap<>();

  /** A share whose connections linger {@value #LINGER_MILLIS} ms after their last user. */
  public EngineShare() {
    this(LINGER_MILLIS);
  }

  /**
   * A share with another linger.
   *
   * @param lingerMillis 0 closes a connection as soon as its last user gives it back
   */
  public EngineShare(long lingerMillis) {
    if (lingerMillis < 0) {
      throw new IllegalArgumentException("lingerMillis must be >= 0, got " + lingerMillis);
    }
    this.lingerMillis = lingerMillis;
  }

  /** One connection and its users. Fields guarded by the share's lock. */
  private static final class Shared {
    /** Completes with the connection; exceptionally when connecting failed. */
    final CompletableFuture<DockerJavaEngine> engine = new CompletableFuture<>();
    int users;
    /** Bumped each time the users drop to 0, so an older linger timer does nothing. */
    long idleSince;
  }

  /**
   * A share of the connection to the engine {@code locator} finds: connects on first use, else
   * joins the open connection (waiting for it while another runner connects). Close the returned
   * engine to give the share back.
   *
   * @throws dev.goplugin4j.container.EngineUnavailableException if no engine answers
   */
  public Engine acquire(EngineLocator locator) {
    String key = locator.key();
    Shared s;
    boolean connect;
    synchronized (lock) {
      s = shared.get(key);
      connect = s == null;
      if (connect) {
        s = new Shared();
        shared.put(key, s);
      }
      s.users++;
    }
    if (connect) {
      try {
        s.engine.complete(locator.connect());
      } catch (RuntimeException | Error e) {
        synchronized (lock) {
          if (shared.get(key) == s) {
            shared.remove(key);
          }
        }
        s.engine.completeExceptionally(e);
        throw e;
      }
    }
    DockerJavaEngine e;
    try {
      e = s.engine.join();
    } catch (java.util.concurrent.CompletionException | java.util.concurrent.CancellationException
        failed) {
      // the runner that connected reports that failure; this one tries on its own, as it would
      // have without sharing, so its failure lists its own attempts
      release(key, s);
      return locator.connect();
    }
    Shared held = s;
    return e.lease(() -> release(key, held));
  }

  private void release(String key, Shared s) {
    long idle;
    synchronized (lock) {
      if (--s.users > 0) {
        return;
      }
      idle = ++s.idleSince;
      if (lingerMillis > 0) {
        Shared current = s;
        CompletableFuture.delayedExecutor(lingerMillis, TimeUnit.MILLISECONDS)
            .execute(() -> expire(key, current, idle));
        return;
      }
    }
    expire(key, s, idle);
  }

  /** Closes the connection if nobody took a share since it became unused at {@code idle}. */
  private void expire(String key, Shared s, long idle) {
    synchronized (lock) {
      if (s.users > 0 || s.idleSince != idle) {
        return;
      }
      if (shared.get(key) == s) {
        shared.remove(key);
      }
    }
    DockerJavaEngine e = s.engine.getNow(null);
    if (e != null) {
      LOG.debug("closing the unused connection to {}", e.describe());
      e.close();
    }
  }

  /**
   * Closes every connection nobody uses now, at once instead of after the linger (tests).
   *
   * @return true when no connection is left open
   */
  public boolean closeIdleNow() {
    Map<String, Shared> idle = new HashMap<>();
    boolean all;
    synchronized (lock) {
      shared.forEach((k, s) -> {
        if (s.users == 0) {
          idle.put(k, s);
        }
      });
      idle.keySet().forEach(shared::remove);
      all = shared.isEmpty();
    }
    for (Shared s : idle.values()) {
      DockerJavaEngine e = s.engine.getNow(null);
      if (e != null) {
        e.close();
      }
    }
    return all;
  }

  /** How many connections are open or being opened (tests). */
  int openConnections() {
    synchronized (lock) {
      return shared.size();
    }
  }
}
