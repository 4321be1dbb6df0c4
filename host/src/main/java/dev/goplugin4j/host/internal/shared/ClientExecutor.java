package dev.goplugin4j.host.internal.shared;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * One client's view of the shared cached pool, with the lifecycle the client's own pool had:
 * {@link #shutdownNow} interrupts the jobs of this client that are running (and no other
 * client's), rejects later ones, and {@link #awaitTermination} waits for this client's jobs only.
 * A pool thread running one of its jobs is named {@code goplugin4j-grpc-PLUGIN-N}. Thread-safe.
 */
final class ClientExecutor extends AbstractExecutorService {
  private final Executor pool;
  private final String threadPrefix;
  /** Threads running a job of this view now; also the monitor for the counts below. */
  private final Set<Thread> running = new HashSet<>();
  private int active; // guarded by running: submitted and not finished
  private boolean shutdown; // guarded by running

  ClientExecutor(Executor pool, String pluginName) {
    this.pool = pool;
    this.threadPrefix = "goplugin4j-grpc-" + pluginName + "-";
  }

  /**
   * Runs {@code command} on a pool thread. After {@link #shutdown}, a job of this executor that
   * hands on more work (grpc's serializing executor re-submitting itself to drain the callbacks a
   * closing call queued meanwhile) runs it on its own thread, as part of itself, instead of
   * getting an exception that would end the job with an uncaught stack trace and drop those
   * callbacks; any other caller is rejected.
   *
   * @throws RejectedExecutionException after shutdown, for a caller that is not one of this
   *     executor's running jobs
   */
  @Override
  public void execute(Runnable command) {
    Objects.requireNonNull(command, "command");
    boolean inline;
    synchronized (running) {
      inline = shutdown && running.contains(Thread.currentThread());
      if (shutdown && !inline) {
        throw new RejectedExecutionException("the plugin client's executor is shut down");
      }
      if (!inline) {
        active++;
      }
    }
    if (inline) {
      command.run();
      return;
    }
    try {
      pool.execute(() -> run(command));
    } catch (RuntimeException | Error e) {
      finished(null);
      throw e;
    }
  }

  private void run(Runnable command) {
    Thread t = Thread.currentThread();
    if (t instanceof SharedResources.PoolThread pt) {
      synchronized (pt) {
        if (pt.owner != this) {
          pt.owner = this;
          pt.setName(threadPrefix + pt.number);
        }
      }
    }
    synchronized (running) {
      if (shutdown) {
        // shut down between submission and start: as a pool shut down with shutdownNow would
        // have dropped it
        active--;
        running.notifyAll();
        return;
      }
      running.add(t);
    }
    try {
      command.run();
    } finally {
      finished(t);
      // an interrupt meant for this client's job must not reach the next job on this thread
      Thread.interrupted();
    }
  }

  private void finished(Thread t) {
    synchronized (running) {
      if (t != null) {
        running.remove(t);
      }
      active--;
      if (active == 0) {
        running.notifyAll();
      }
    }
  }

  @Override
  public void shutdown() {
    synchronized (running) {
      shutdown = true;
    }
  }

  @Override
  public List<Runnable> shutdownNow() {
    synchronized (running) {
      shutdown = true;
      for (Thread t : running) {
        t.interrupt();
      }
    }
    return new ArrayList<>();
  }

  @Override
  public boolean isShutdown() {
    synchronized (running) {
      return shutdown;
    }
  }

  @Override
  public boolean isTerminated() {
    synchronized (running) {
      return shutdown && active == 0;
    }
  }

  /**
   * As {@link java.util.concurrent.ExecutorService#awaitTermination}; a job of this executor that
   * awaits does not wait for itself.
   */
  @Override
  public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
    long deadline = System.nanoTime() + unit.toNanos(timeout);
    synchronized (running) {
      while (true) {
        int self = running.contains(Thread.currentThread()) ? 1 : 0;
        if (shutdown && active - self <= 0) {
          return true;
        }
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return false;
        }
        TimeUnit.NANOSECONDS.timedWait(running, left);
      }
    }
  }
}
