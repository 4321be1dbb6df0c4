package dev.goplugin4j.host;

import dev.goplugin4j.host.PluginSupervisor.State;
import dev.goplugin4j.host.PluginSupervisor.Status;
import dev.goplugin4j.host.SupervisorSlot.Incarnation;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link PluginSupervisor}'s calls: lends a slot's current client to a call (a lease), waits for
 * a restarting plugin, tells why no client can be lent, and waits until no call holds a client
 * (a drain) before a restart or an upgrade closes it.
 *
 * <p>Thread-safety: thread-safe. Leases and waits take the slot's monitor ({@link
 * SupervisorSlot}); a lease's end wakes the slot's waiters.
 */
final class SupervisorCalls {
  // the supervisor's logger, so that its messages keep their category
  private static final Logger log = LoggerFactory.getLogger(PluginSupervisor.class);

  private final SupervisorLifecycle life;
  private final LongSupplier clock;
  private final Duration window;
  private final Duration drainTimeout;

  SupervisorCalls(SupervisorLifecycle life, LongSupplier clock, Duration window,
      Duration drainTimeout) {
    this.life = life;
    this.clock = clock;
    this.window = window;
    this.drainTimeout = drainTimeout;
  }

  /** {@link PluginSupervisor#call(String, Duration, Function)} once its arguments are checked. */
  <R> R call(SupervisorSlot s, Duration wait, Function<PluginClient, R> call) {
    Incarnation inc = lease(s, wait);
    try {
      return call.apply(inc.client);
    } finally {
      synchronized (s) {
        inc.leases--;
        if (inc.leases == 0) {
          s.notifyAll();
        }
      }
    }
  }

  /** {@link PluginSupervisor#current(String)}. */
  PluginClient current(SupervisorSlot s) {
    synchronized (s) {
      checkUsable(s);
      if (s.current == null) {
        throw restarting(s, Duration.ZERO);
      }
      return s.current.client;
    }
  }

  /** {@link PluginSupervisor#status(String)}. */
  Status status(SupervisorSlot s) {
    synchronized (s) {
      return new Status(life.closed ? State.CLOSED : s.state, s.restarts,
          s.policy.failuresInWindow(clock.getAsLong()), s.lastCause);
    }
  }

  void checkUsable(SupervisorSlot s) {
    life.checkStarted();
    if (s.state == State.GAVE_UP) {
      throw new PluginGaveUpException(s.name, "the supervisor gave up on plugin " + s.name
          + " after " + s.policy.failuresInWindow(clock.getAsLong()) + " failures within "
          + window + "; the last: " + s.lastCause + ". Fix the plugin (its log says why), then"
          + " call restart(\"" + s.name + "\") or upgrade it", s.lastFailure);
    }
  }

  private Incarnation lease(SupervisorSlot s, Duration wait) {
    long deadline = System.nanoTime() + wait.toNanos();
    synchronized (s) {
      while (true) {
        checkUsable(s);
        if (s.current != null) {
          s.current.leases++;
          return s.current;
        }
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          throw restarting(s, wait);
        }
        try {
          TimeUnit.NANOSECONDS.timedWait(s, left);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw restarting(s, wait);
        }
      }
    }
  }

  private PluginRestartingException restarting(SupervisorSlot s, Duration waited) {
    return new PluginRestartingException(s.name, "plugin " + s.name + " is "
        + (s.state == State.NEW ? "starting" : "restarting after a failure (" + s.lastCause + ")")
        + (waited.isZero() ? "" : " and did not come back within " + waited)
        + ": retry later, or call with a longer wait (call(name, wait, ...) or"
        + " PluginSupervisor.Builder.waitForRestart)");
  }

  /** Waits until no call holds {@code inc}, at most the drain timeout; whether it got there. */
  boolean drain(Incarnation inc) {
    return drain(inc, drainTimeout);
  }

  boolean drain(Incarnation inc, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    synchronized (inc.slot) {
      while (inc.leases > 0) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          if (!timeout.isZero()) {
            log.warn("plugin {}: {} calls still hold the old client after the drain timeout of {};"
                + " closing it anyway", inc.slot.name, inc.leases, timeout);
          }
          return false;
        }
        try {
          TimeUnit.NANOSECONDS.timedWait(inc.slot, left);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return false;
        }
      }
      return true;
    }
  }
}
