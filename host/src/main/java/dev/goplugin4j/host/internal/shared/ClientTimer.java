package dev.goplugin4j.host.internal.shared;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * One client's view of the shared timer: {@link #shutdownNow} cancels this client's pending jobs
 * and rejects later ones; the thread goes on for the others. Thread-safe.
 */
final class ClientTimer extends AbstractExecutorService implements ScheduledExecutorService {
  private final ScheduledExecutorService timer;
  private final Set<Future<?>> pending = ConcurrentHashMap.newKeySet();
  private volatile boolean shutdown;

  ClientTimer(ScheduledExecutorService timer) {
    this.timer = timer;
  }

  private <F extends Future<?>> F track(F f) {
    pending.removeIf(Future::isDone);
    pending.add(f);
    if (shutdown) {
      f.cancel(false); // shut down meanwhile: shutdownNow may have missed it
    }
    return f;
  }

  private void checkOpen() {
    if (shutdown) {
      throw new RejectedExecutionException("the plugin client's timer is shut down");
    }
  }

  @Override
  public ScheduledFuture<?> schedule(Runnable command, long delay, TimeUnit unit) {
    checkOpen();
    return track(timer.schedule(command, delay, unit));
  }

  @Override
  public <V> ScheduledFuture<V> schedule(Callable<V> callable, long delay, TimeUnit unit) {
    checkOpen();
    return track(timer.schedule(callable, delay, unit));
  }

  @Override
  public ScheduledFuture<?> scheduleAtFixedRate(
      Runnable command, long initialDelay, long period, TimeUnit unit) {
    checkOpen();
    return track(timer.scheduleAtFixedRate(command, initialDelay, period, unit));
  }

  @Override
  public ScheduledFuture<?> scheduleWithFixedDelay(
      Runnable command, long initialDelay, long delay, TimeUnit unit) {
    checkOpen();
    return track(timer.scheduleWithFixedDelay(command, initialDelay, delay, unit));
  }

  @Override
  public void execute(Runnable command) {
    schedule(command, 0, TimeUnit.NANOSECONDS);
  }

  @Override
  public void shutdown() {
    shutdown = true;
  }

  @Override
  public List<Runnable> shutdownNow() {
    shutdown = true;
    for (Future<?> f : pending) {
      f.cancel(false);
    }
    pending.clear();
    return new ArrayList<>();
  }

  @Override
  public boolean isShutdown() {
    return shutdown;
  }

  @Override
  public boolean isTerminated() {
    return shutdown && pending.stream().allMatch(Future::isDone);
  }

  @Override
  public boolean awaitTermination(long timeout, TimeUnit unit) {
    // jobs are cancelled, not awaited: a running one is short and the thread is not ours
    return isTerminated();
  }
}
