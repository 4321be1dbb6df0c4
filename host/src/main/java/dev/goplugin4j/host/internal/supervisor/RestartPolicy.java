package dev.goplugin4j.host.internal.supervisor;

import java.time.Duration;
import java.util.ArrayDeque;

/**
 * The supervisor's restart arithmetic, apart from any clock or thread so that it can be tested
 * with plain numbers: exponential back-off by the number of failures in the window, capped at a
 * ceiling, and giving up when the window holds the configured number of failures.
 *
 * <p>The delay after a failure is {@code initial × 2^(n−1)}, at most {@code max}, where {@code n}
 * is the number of failures within the last {@code window} (this one included): a plugin that
 * stays up for a window is back to the initial delay. When {@code n} reaches {@code maxFailures}
 * the answer is "give up".
 *
 * <p>Not thread-safe: the supervisor calls it under the plugin's lock.
 */
public final class RestartPolicy {
  /** What to do after a failure. */
  public record Decision(boolean giveUp, Duration delay, int failuresInWindow) {}

  private final Duration initial;
  private final Duration max;
  private final int maxFailures;
  private final Duration window;
  private final ArrayDeque<Long> failures = new ArrayDeque<>();

  /**
   * A policy.
   *
   * @param initial the first delay; positive
   * @param max the ceiling; at least {@code initial}
   * @param maxFailures failures within the window that make the supervisor give up; at least 1
   * @param window the window; positive
   */
  public RestartPolicy(Duration initial, Duration max, int maxFailures, Duration window) {
    this.initial = initial;
    this.max = max;
    this.maxFailures = maxFailures;
    this.window = window;
  }

  /**
   * Records a failure and decides.
   *
   * @param nowNanos the current {@link System#nanoTime()} (or a test's clock)
   * @return give up, or the delay before the next start
   */
  public Decision onFailure(long nowNanos) {
    failures.addLast(nowNanos);
    int n = failuresInWindow(nowNanos);
    if (n >= maxFailures) {
      return new Decision(true, Duration.ZERO, n);
    }
    Duration d = initial;
    for (int i = 1; i < n && d.compareTo(max) < 0; i++) {
      d = d.multipliedBy(2);
    }
    return new Decision(false, d.compareTo(max) > 0 ? max : d, n);
  }

  /**
   * How many failures lie within the window before {@code nowNanos}; forgets older ones.
   *
   * @param nowNanos the current time in nanoseconds
   * @return the count
   */
  public int failuresInWindow(long nowNanos) {
    long oldest = nowNanos - window.toNanos();
    while (!failures.isEmpty() && failures.peekFirst() - oldest <= 0) {
      failures.removeFirst();
    }
    return failures.size();
  }

  /** Forgets every failure (after a manual restart). */
  public void reset() {
    failures.clear();
  }
}
