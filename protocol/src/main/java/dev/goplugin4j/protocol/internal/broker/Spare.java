package dev.goplugin4j.protocol.internal.broker;

import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.util.concurrent.EventExecutor;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * At most one resource (a started brokered server) built ahead on an executor, for the next serve
 * to take, so starting and binding a server is off that serve's path.
 *
 * <p>Why {@link #close()} cannot miss a spare (the race that backed out the first version, where a
 * spare whose build ended just after the owner began closing was disposed on the executor while
 * the owner's close had already returned, leaving its socket file):
 *
 * <ul>
 *   <li>the owner's closed flag is set before {@link #close()} and every check of it below is
 *       made under {@link #lock};
 *   <li>a build marks itself started under the lock only if the owner is open; one that runs
 *       after the owner closed builds nothing;
 *   <li>{@link #building} stays set from {@link #refill} until what the build made has been either
 *       kept as {@link #spare} (under the lock, only while the owner is open) or disposed;
 * </ul>
 *
 * so whichever way {@link #close()}'s look under the lock falls, it either takes the kept spare
 * and disposes it itself, or waits for a started build, which disposes what it made before it
 * ends; a build not yet started will build nothing. Thread-safe.
 *
 * @param <K> what a spare is built for (compared by identity, e.g. the TLS context)
 * @param <T> the resource
 */
final class Spare<K, T> {
  private static final Logger log = LoggerFactory.getLogger(Spare.class);

  /**
   * How long {@link #close()} waits for a build in flight (a bind and, when the owner closed
   * meanwhile, its disposal) before it leaves the disposal to the build and returns.
   */
  static final long CLOSE_WAIT_SECONDS = 10;

  /**
   * How long {@link #take(Object, EventLoopGroup)} waits for the spare being built before the
   * caller builds its own (a bind takes a few ms; a wait this long means something is stuck).
   */
  static final long AWAIT_MILLIS = 1_000;

  private final Executor executor;
  private final Function<K, T> build;
  private final Consumer<T> dispose;
  private final BooleanSupplier ownerClosed;

  private final Object lock = new Object();
  /** A built resource waiting to be taken, or null. Guarded by {@link #lock}. */
  private T spare;
  /** What {@link #spare} was built for. Guarded by {@link #lock}. */
  private K spareKey;
  /**
   * Completes when the build in flight has ended (what it made kept or disposed); null when none.
   * Guarded by {@link #lock}.
   */
  private CompletableFuture<Void> building;
  /** Whether the build in flight has started building. Guarded by {@link #lock}. */
  private boolean buildStarted;
  /** What the build in flight builds for. Guarded by {@link #lock}. */
  private K buildingKey;

  /**
   * @param executor runs builds (the broker's timer, or the muxer's knock executor)
   * @param build makes a resource for a key; may throw (the next serve then builds its own)
   * @param dispose stops a resource nobody will use (called at most once for each); must not
   *     throw
   * @param ownerClosed whether the owner is closed; once true it must stay true
   */
  Spare(Executor executor, Function<K, T> build, Consumer<T> dispose, BooleanSupplier ownerClosed) {
    this.executor = Objects.requireNonNull(executor, "executor");
    this.build = Objects.requireNonNull(build, "build");
    this.dispose = Objects.requireNonNull(dispose, "dispose");
    this.ownerClosed = Objects.requireNonNull(ownerClosed, "ownerClosed");
  }

  /**
   * The spare for {@code key}, now the caller's to use or dispose; null when none. Off {@code
   * group}'s event loops a build already under way is waited for (up to {@link #AWAIT_MILLIS},
   * see {@link #takeOrAwait}); on one of them it is not, as the build may need that loop.
   *
   * @param group the event loops the spare's server runs on
   */
  T take(K key, EventLoopGroup group) {
    return onEventLoop(group) ? take(key) : takeOrAwait(key, AWAIT_MILLIS);
  }

  /** Whether the calling thread is one of {@code group}'s event loops. */
  static boolean onEventLoop(EventLoopGroup group) {
    for (EventExecutor e : group) {
      if (e.inEventLoop()) {
        return true;
      }
    }
    return false;
  }

  /** The spare built for {@code key}, now the caller's to use or dispose; null when none. */
  T take(K key) {
    synchronized (lock) {
      return takeLocked(key);
    }
  }

  /**
   * As {@link #take}, but when no spare is there and a build for {@code key} has started and not
   * ended, waits for it (up to {@code maxWaitMillis}) and takes what it made: finishing a bind
   * already under way is quicker than starting another. Returns null when nothing was taken (no
   * build had started, it failed, another caller took its spare, the owner closed, the wait ran
   * out or the thread was interrupted, the interrupt then being kept).
   */
  T takeOrAwait(K key, long maxWaitMillis) {
    CompletableFuture<Void> inFlight;
    synchronized (lock) {
      T s = takeLocked(key);
      if (s != null) {
        return s;
      }
      inFlight = buildStarted && buildingKey == key ? building : null;
    }
    if (inFlight == null) {
      return null;
    }
    try {
      inFlight.get(maxWaitMillis, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    } catch (TimeoutException | ExecutionException e) {
      return null;
    }
    return take(key);
  }

  /** Whether a spare for {@code key} is kept now (tests). */
  boolean has(K key) {
    synchronized (lock) {
      return spare != null && spareKey == key;
    }
  }

  private T takeLocked(K key) {
    T s = spare;
    if (s == null || spareKey != key) {
      return null;
    }
    spare = null;
    spareKey = null;
    return s;
  }

  /**
   * Builds a spare for {@code key} on the executor unless one for it exists or a build is in
   * flight, or the owner is closed. A spare for another key is disposed.
   */
  void refill(K key) {
    CompletableFuture<Void> done;
    T stale;
    synchronized (lock) {
      if ((spare != null && spareKey == key) || building != null || ownerClosed.getAsBoolean()) {
        return;
      }
      stale = spare;
      spare = null;
      spareKey = null;
      done = new CompletableFuture<>();
      building = done;
      buildingKey = key;
      buildStarted = false;
    }
    if (stale != null) {
      dispose.accept(stale);
    }
    try {
      executor.execute(() -> build(key, done));
    } catch (RejectedExecutionException e) {
      end(done);
    }
  }

  private void build(K key, CompletableFuture<Void> done) {
    try {
      synchronized (lock) {
        if (ownerClosed.getAsBoolean()) {
          // close() saw this build as not started and does not wait for it: build nothing
          return;
        }
        buildStarted = true;
      }
      T built = null;
      try {
        built = build.apply(key);
      } catch (RuntimeException e) {
        log.debug("cannot start a spare brokered server: {}", e.toString());
      }
      if (built == null) {
        return;
      }
      synchronized (lock) {
        if (spare == null && !ownerClosed.getAsBoolean()) {
          spare = built;
          spareKey = key;
          return;
        }
      }
      // the owner closed meanwhile: close() waits for this (building is still set)
      dispose.accept(built);
    } finally {
      end(done);
    }
  }

  /** The build in flight has ended: only now may close() stop waiting for it. */
  private void end(CompletableFuture<Void> done) {
    synchronized (lock) {
      if (building == done) {
        building = null;
        buildingKey = null;
        buildStarted = false;
      }
    }
    done.complete(null);
  }

  /**
   * Disposes the spare, and waits (up to {@link #CLOSE_WAIT_SECONDS}) for a build in flight to
   * dispose what it makes; call only once the owner's closed flag reads true. After it returns,
   * no spare exists and none will be built (unless the wait ran out: then the build disposes what
   * it made as soon as it ends). Idempotent.
   */
  void close() {
    if (!ownerClosed.getAsBoolean()) {
      throw new IllegalStateException("close the owner first");
    }
    T idle;
    CompletableFuture<Void> started;
    synchronized (lock) {
      idle = spare;
      spare = null;
      spareKey = null;
      started = buildStarted ? building : null;
    }
    if (idle != null) {
      dispose.accept(idle);
    }
    if (started == null) {
      return;
    }
    // a started build ends only once what it made is kept (seen above) or disposed; not cut
    // short by an interrupt, which is kept for the caller
    boolean interrupted = false;
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(CLOSE_WAIT_SECONDS);
    try {
      while (true) {
        try {
          started.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
          return;
        } catch (InterruptedException e) {
          interrupted = true;
        } catch (TimeoutException e) {
          log.warn("a spare brokered server took over {} s to start; it stops itself once"
              + " started", CLOSE_WAIT_SECONDS);
          return;
        } catch (ExecutionException e) {
          return; // never completed exceptionally
        }
      }
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
