package dev.goplugin4j.host.internal.shared;

import dev.goplugin4j.protocol.internal.transport.GrpcTransport;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.util.concurrent.EventExecutor;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The threads every plugin client of this JVM shares: a cached (unbounded) pool for gRPC
 * callbacks and other short jobs, one timer thread and an epoll event loop group. Held by a
 * reference count, as grpc-java's {@code SharedResourceHolder}: the first {@link #acquire}
 * makes them (the event loops at the first {@link Lease#eventLoops}), and {@code LINGER_MILLIS}
 * (1 s) after the last {@link Lease#close} they are shut down, so a long-running host that
 * starts its next plugin soon after closing the previous one finds live threads (a plugin's
 * start spent ~10 ms making and first using them), and a host that closes all its clients keeps
 * no goplugin4j thread once the linger is over.
 *
 * <p>Each client sees the pool and the timer through its own views ({@link ClientExecutor},
 * {@link ClientTimer}): closing a lease shuts down the client's views only (its running jobs
 * are interrupted, its pending timers cancelled, later submissions rejected), never threads
 * another client uses. A pool thread takes the name {@code goplugin4j-grpc-PLUGIN-N} of the
 * plugin whose job it runs (and keeps it while idle); the timer thread is {@code
 * goplugin4j-timer-N} and the event loops {@code goplugin4j-io-...}, shared by all plugins.
 *
 * <p>When the JVM exits while the threads linger (every client closed, as a CLI closes its
 * client before {@code main} returns), a shutdown hook ends them at once ({@link #atJvmExit}):
 * HotSpot's exit waits up to 300 ms for threads inside native code to come back, and an idle epoll
 * loop is inside {@code epoll_wait}. With a client still open the hook leaves the threads alone
 * (the client's own exit hook closes it and needs them).
 *
 * <p>This is JVM-wide state, internal and not reachable from the public API; tests use {@link
 * #releaseIdleNow} to end the linger before they check for leaked threads. Thread-safe.
 */
public final class SharedResources {
  /** How long the threads outlive the last client, for the next one to find them. */
  static final long LINGER_MILLIS = 1_000;

  private static final Object LOCK = new Object();
  private static Pool pool; // guarded by LOCK
  private static int refs; // guarded by LOCK

  private SharedResources() {}

  /**
   * A share of the threads for one client; {@link Lease#close} gives it back.
   *
   * @param pluginName the plugin's name, for the pool threads' names while they run its jobs
   * @return the lease; not null
   */
  public static Lease acquire(String pluginName) {
    Pool p;
    synchronized (LOCK) {
      if (pool == null) {
        pool = new Pool();
      }
      p = pool;
      refs++;
      if (p.linger != null) {
        p.linger.cancel(false);
        p.linger = null;
      }
    }
    return new Lease(p, pluginName);
  }

  private static void release(Pool p) {
    synchronized (LOCK) {
      if (pool != p) {
        return; // already shut down by releaseIdleNow
      }
      if (--refs > 0) {
        return;
      }
      try {
        p.linger = p.timer.schedule(() -> expire(p), LINGER_MILLIS, TimeUnit.MILLISECONDS);
        return;
      } catch (java.util.concurrent.RejectedExecutionException e) {
        pool = null; // cannot happen while the pool is current; shut it down now then
      }
    }
    p.shutdown(false);
  }

  private static void expire(Pool p) {
    synchronized (LOCK) {
      if (pool != p || refs > 0) {
        return;
      }
      pool = null;
    }
    p.shutdown(false);
  }

  /**
   * The pool's JVM exit hook: when no client holds a lease, shuts the threads down now instead of
   * after the linger and waits (up to 1 s) for the event loops to end, so that none of them is
   * still inside {@code epoll_wait} when the JVM ends (HotSpot's exit then waits 300 ms for it: the
   * whole gap between a fresh CLI's last line and its exit). Does nothing while a client holds a
   * lease, or when {@code p} is no longer the current pool.
   */
  static void atJvmExit(Pool p) {
    synchronized (LOCK) {
      if (pool != p || refs > 0) {
        return;
      }
      pool = null;
      if (p.linger != null) {
        p.linger.cancel(false);
        p.linger = null;
      }
    }
    p.shutdown(false);
    EventLoopGroup group = p.groupIfMade();
    if (group != null) {
      group.terminationFuture().awaitUninterruptibly(1, TimeUnit.SECONDS);
    }
  }

  /**
   * For tests: when no client holds a lease, shuts the shared threads down now instead of after
   * the linger, and waits (up to 5 s) for them to end. Does nothing while a client holds one.
   *
   * @return true when no shared threads are left (none were there, or they were shut down)
   */
  public static boolean releaseIdleNow() {
    Pool p;
    synchronized (LOCK) {
      if (refs > 0) {
        return false;
      }
      p = pool;
      pool = null;
    }
    if (p != null) {
      p.shutdown(true);
    }
    return true;
  }

  /** The shared threads of one generation. */
  static final class Pool {
    final ThreadPoolExecutor executor;
    final ScheduledThreadPoolExecutor timer;
    /** Made at the first {@link #group()}: see there. */
    private EventLoopGroup group; // guarded by this
    private boolean shut; // guarded by this
    ScheduledFuture<?> linger; // guarded by LOCK
    /** Runs {@link #atJvmExit} at the JVM's exit; removed when the pool shuts down before. */
    final Thread exitHook;
    /** The pool's and the timer's threads, dead ones pruned now and then: to join at the end. */
    private final List<Thread> threads = new ArrayList<>(); // guarded by itself

    Pool() {
      AtomicInteger n = new AtomicInteger();
      executor = new ThreadPoolExecutor(0, Integer.MAX_VALUE, 60, TimeUnit.SECONDS,
          new SynchronousQueue<>(), r -> track(new PoolThread(r, n.incrementAndGet())));
      AtomicInteger m = new AtomicInteger();
      timer = new ScheduledThreadPoolExecutor(1, r -> {
        Thread t = new Thread(r, "goplugin4j-timer-" + m.incrementAndGet());
        t.setDaemon(true);
        return track(t);
      });
      timer.setRemoveOnCancelPolicy(true);
      timer.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
      exitHook = new Thread(() -> atJvmExit(this), "goplugin4j-exit-shared");
      try {
        Runtime.getRuntime().addShutdownHook(exitHook);
      } catch (IllegalStateException e) {
        // the JVM is exiting already: the threads end with it, as without the hook
      }
    }

    /**
     * The event loops, made at the first call: a client asks for them once its plugin is
     * spawned, so that in a fresh JVM their making (Netty's platform set-up and its epoll
     * library, tens of milliseconds) overlaps the plugin's own start instead of delaying its
     * spawn.
     *
     * @return the group; after {@link #shutdown}, the one made before (shut down too)
     * @throws IllegalStateException after {@link #shutdown} when none was made before
     */
    synchronized EventLoopGroup group() {
      if (group == null) {
        if (shut) {
          throw new IllegalStateException("goplugin4j's shared threads are shut down");
        }
        // two loops as each client had, up to four on bigger machines: they serve all clients,
        // and each loop costs an epoll instance at once (its thread only at first use)
        group = GrpcTransport.newEventLoopGroup(
            Math.max(2, Math.min(4, Runtime.getRuntime().availableProcessors())), "goplugin4j-io");
      }
      return group;
    }

    /** The event loops if {@link #group()} made them; null otherwise. */
    synchronized EventLoopGroup groupIfMade() {
      return group;
    }

    private synchronized EventLoopGroup shutGroup() {
      shut = true;
      return group;
    }

    private Thread track(Thread t) {
      synchronized (threads) {
        threads.removeIf(x -> x.getState() == Thread.State.TERMINATED);
        threads.add(t);
      }
      return t;
    }

    void shutdown(boolean await) {
      if (Thread.currentThread() != exitHook) {
        try {
          Runtime.getRuntime().removeShutdownHook(exitHook);
        } catch (IllegalStateException e) {
          // the JVM is exiting: the hook runs and finds the pool gone
        }
      }
      timer.shutdownNow();
      executor.shutdownNow();
      EventLoopGroup group = shutGroup();
      if (await) {
        // the group's termination completes just before its threads end: join them too
        List<Thread> loops = new ArrayList<>();
        if (group != null) {
          for (EventExecutor e : group) {
            e.submit(() -> {
              synchronized (loops) {
                loops.add(Thread.currentThread());
              }
            }).awaitUninterruptibly(2, TimeUnit.SECONDS);
          }
          GrpcTransport.shutdown(group);
        }
        try {
          executor.awaitTermination(2, TimeUnit.SECONDS);
          timer.awaitTermination(2, TimeUnit.SECONDS);
          // executors too terminate just before their last thread ends
          List<Thread> all;
          synchronized (threads) {
            all = new ArrayList<>(threads);
          }
          synchronized (loops) {
            all.addAll(loops);
          }
          for (Thread t : all) {
            t.join(2_000);
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      } else if (group != null) {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
      }
    }
  }

  /** A pool thread; it records which client's view last named it. */
  static final class PoolThread extends Thread {
    final int number;
    Object owner; // guarded by this

    PoolThread(Runnable r, int number) {
      super(r, "goplugin4j-grpc-" + number);
      this.number = number;
      setDaemon(true);
    }
  }

  /**
   * One client's share: its views of the pool and the timer, and the shared event loops. Not
   * reusable once closed.
   */
  public static final class Lease implements AutoCloseable {
    final Pool pool;
    private final ClientExecutor executor;
    private final ClientTimer timer;
    private boolean closed; // guarded by this

    Lease(Pool pool, String pluginName) {
      this.pool = pool;
      this.executor = new ClientExecutor(pool.executor, pluginName);
      this.timer = new ClientTimer(pool.timer);
    }

    /**
     * The client's view of the shared cached pool: unbounded, so one plugin's blocking callbacks
     * do not starve another's.
     *
     * @return the executor; shut down by {@link #close}
     */
    public ExecutorService executor() {
      return executor;
    }

    /**
     * The client's view of the shared timer; keep its jobs short, other clients share the thread.
     *
     * @return the timer; shut down by {@link #close}
     */
    public ScheduledExecutorService timer() {
      return timer;
    }

    /**
     * The shared event loops, made at the first call of any lease of this generation; never shut
     * them down.
     *
     * @return the group
     */
    public EventLoopGroup eventLoops() {
      return pool.group();
    }

    /**
     * Shuts down this client's views (interrupting its running jobs, waiting up to 2 s for them
     * to end, cancelling its timers) and gives the share back. Idempotent.
     */
    @Override
    public void close() {
      synchronized (this) {
        if (closed) {
          return;
        }
        closed = true;
      }
      try {
        timer.shutdownNow();
        executor.shutdownNow();
        executor.awaitTermination(2, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } finally {
        release(pool);
      }
    }
  }
}
