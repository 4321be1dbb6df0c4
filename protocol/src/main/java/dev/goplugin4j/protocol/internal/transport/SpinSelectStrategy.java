package dev.goplugin4j.protocol.internal.transport;

import io.grpc.netty.shaded.io.netty.channel.SelectStrategy;
import io.grpc.netty.shaded.io.netty.channel.SelectStrategyFactory;
import io.grpc.netty.shaded.io.netty.util.IntSupplier;

/**
 * An event loop's select strategy that polls without blocking for a short window after the loop
 * last had work, and blocks in {@code epoll_wait} only once the window has passed without any.
 *
 * <p>Netty's default blocks as soon as the loop's task queue is empty. A request–response call
 * then costs a wake-up of the loop thread at each end: the caller's write reaches the loop through
 * its eventfd, the answer through {@code epoll_wait}, each a futex wake and a trip through the
 * scheduler (tens of microseconds on a VM), where Go's runtime spins briefly before it parks. Within
 * the window the loop sees the next task or the peer's answer on its next pass, and a thread that
 * hands it a task skips the eventfd write (the loop is awake).
 *
 * <p>"Work" is a pass with tasks, a non-blocking poll that found ready descriptors, or a return
 * from a blocking wait (I/O, a wake-up or a timer). A loop that has had no work for the window
 * blocks as Netty's default does, so an idle loop costs no CPU; a busy one spends at most the window
 * after its last work polling. {@link Thread#onSpinWait()} between empty polls.
 *
 * <p>Not thread-safe: one instance per event loop, called only by that loop's thread, as Netty's
 * {@link SelectStrategyFactory#newSelectStrategy()} contract has it.
 */
final class SpinSelectStrategy implements SelectStrategy {
  private final long windowNanos;
  private long lastWork;
  private boolean working;
  private boolean blocked;

  /**
   * @param windowNanos how long after its last work the loop keeps polling, at least 1
   */
  SpinSelectStrategy(long windowNanos) {
    if (windowNanos < 1) {
      throw new IllegalArgumentException("spin window must be at least 1 ns, got " + windowNanos);
    }
    this.windowNanos = windowNanos;
  }

  /**
   * A factory of strategies with the given window, or Netty's default for 0.
   *
   * @param windowMicros the window in microseconds, 0 (off) to 10,000
   * @return the factory
   */
  static SelectStrategyFactory factory(long windowMicros) {
    if (windowMicros < 0 || windowMicros > 10_000) {
      throw new IllegalArgumentException(
          "spin window must be 0 (off) to 10000 microseconds, got " + windowMicros);
    }
    if (windowMicros == 0) {
      return io.grpc.netty.shaded.io.netty.channel.DefaultSelectStrategyFactory.INSTANCE;
    }
    long nanos = windowMicros * 1_000L;
    return () -> new SpinSelectStrategy(nanos);
  }

  @Override
  public int calculateStrategy(IntSupplier selectNow, boolean hasTasks) throws Exception {
    long now = System.nanoTime();
    if (blocked) {
      // back from a blocking wait: something happened (I/O, a task's wake-up or a timer)
      blocked = false;
      working = true;
      lastWork = now;
    }
    if (hasTasks) {
      working = true;
      lastWork = now;
      return selectNow.get();
    }
    if (working && now - lastWork < windowNanos) {
      int ready = selectNow.get();
      if (ready > 0) {
        lastWork = now;
      } else {
        Thread.onSpinWait();
      }
      return ready;
    }
    working = false;
    blocked = true;
    return SelectStrategy.SELECT;
  }
}
