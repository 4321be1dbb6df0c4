package dev.goplugin4j.host;

import static dev.goplugin4j.host.SupervisorLifecycle.closeQuietly;

import dev.goplugin4j.host.PluginSupervisor.GaveUp;
import dev.goplugin4j.host.PluginSupervisor.Restarted;
import dev.goplugin4j.host.PluginSupervisor.Restarting;
import dev.goplugin4j.host.PluginSupervisor.State;
import dev.goplugin4j.host.PluginSupervisor.Upgraded;
import dev.goplugin4j.host.SupervisorSlot.Incarnation;
import dev.goplugin4j.host.internal.supervisor.RestartPolicy;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.Objects;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link PluginSupervisor}'s restarts: starts a slot's client from its spec and installs it,
 * turns an unexpected exit or a failed health check into a failure, counts it against the slot's
 * {@link RestartPolicy}, and restarts the plugin after the back-off or gives up; also a manual
 * restart and an upgrade, which replace the client in the same way.
 *
 * <p>Thread-safety: thread-safe. Failures are handled and restarts run on the supervisor's thread
 * ({@link SupervisorLifecycle}), the first start and an upgrade on the caller's; a slot's state
 * changes under the slot's monitor, an upgrade under the slot's upgrade lock first.
 */
final class SupervisorRestarts {
  // the supervisor's logger, so that its messages keep their category
  private static final Logger log = LoggerFactory.getLogger(PluginSupervisor.class);

  private final SupervisorLifecycle life;
  private final SupervisorCalls calls;
  private final Collection<SupervisorSlot> slots;
  private final LongSupplier clock;
  private final Duration window;

  SupervisorRestarts(SupervisorLifecycle life, SupervisorCalls calls,
      Collection<SupervisorSlot> slots, LongSupplier clock, Duration window) {
    this.life = life;
    this.calls = calls;
    this.slots = slots;
    this.clock = clock;
    this.window = window;
  }

  /** {@link PluginSupervisor#upgrade(String, Supplier)} once its arguments are checked. */
  void upgrade(SupervisorSlot s, Supplier<PluginClient.Builder> newSpec) {
    String name = s.name;
    synchronized (s.upgradeLock) {
      life.checkStarted();
      Incarnation fresh = launch(s, newSpec);
      Incarnation old;
      String pending;
      synchronized (s) {
        if (life.closed) {
          fresh.client.close();
          throw new IllegalStateException("the plugin supervisor was closed during the upgrade of "
              + name);
        }
        old = s.current;
        s.spec = newSpec;
        s.policy.reset();
        s.current = fresh;
        fresh.installed = true;
        s.state = State.RUNNING;
        pending = fresh.pendingFailure;
        s.notifyAll();
      }
      if (pending != null) {
        life.submit(() -> handleFailure(fresh, pending, null));
      }
      boolean drained = true;
      if (old != null) {
        drained = calls.drain(old);
        old.client.close();
      }
      life.fire(new Upgraded(name, Instant.now(), drained));
    }
  }

  /** {@link PluginSupervisor#restart(String)}. */
  void restart(SupervisorSlot s) {
    synchronized (s) {
      calls.checkUsable(s);
      if (s.state != State.GAVE_UP) {
        return;
      }
      s.policy.reset();
      s.state = State.RESTARTING;
    }
    life.submit(() -> restartNow(s));
  }

  /** Builds and starts a client from a spec; the supervisor listens to its exit. */
  Incarnation launch(SupervisorSlot s, Supplier<PluginClient.Builder> spec) {
    Incarnation inc = new Incarnation(s);
    PluginClient.Builder b = Objects.requireNonNull(spec.get(),
        "the spec of plugin " + s.name + " returned no builder");
    b.listener(e -> onClientEvent(inc, e));
    PluginClient c = b.build();
    inc.client = c;
    try {
      c.start();
    } catch (RuntimeException | Error e) {
      closeQuietly(c);
      throw e;
    }
    return inc;
  }

  /** Makes a started client the current one, unless the supervisor closed meanwhile. */
  boolean install(SupervisorSlot s, Incarnation inc) {
    String pending;
    boolean installed;
    synchronized (s) {
      // decided once, under the lock: a close() right after the install must not make this
      // report "not installed" for a client that callers already got (its Restarted event would
      // be lost; close() closes the installed client itself)
      installed = !life.closed;
      if (installed) {
        s.current = inc;
        inc.installed = true;
        s.state = State.RUNNING;
        pending = inc.pendingFailure;
        s.notifyAll();
      } else {
        pending = null;
      }
    }
    if (!installed) {
      closeQuietly(inc.client);
      return false;
    }
    if (pending != null) {
      life.submit(() -> handleFailure(inc, pending, null));
    }
    return true;
  }

  private void onClientEvent(Incarnation inc, PluginEvent e) {
    if (!(e instanceof PluginEvent.Exited exited) || exited.requested()) {
      return;
    }
    String cause = "the plugin exited with status " + exited.status()
        + (exited.hint().isEmpty() ? "" : " (" + exited.hint() + ")");
    synchronized (inc.slot) {
      if (!inc.installed) {
        inc.pendingFailure = cause;
        return;
      }
    }
    life.submit(() -> handleFailure(inc, cause, null));
  }

  /** On the supervisor's thread, every health check interval: ping every running plugin. */
  void probeAll() {
    for (SupervisorSlot s : slots) {
      Incarnation inc;
      synchronized (s) {
        inc = s.current;
      }
      if (inc == null || life.closed) {
        continue;
      }
      try {
        inc.client.ping();
      } catch (RuntimeException e) {
        handleFailure(inc, "the health check failed: " + e.getMessage(), e);
      }
    }
  }

  /** On the supervisor's thread: retire a failed client and restart or give up. */
  private void handleFailure(Incarnation inc, String cause, RuntimeException failure) {
    SupervisorSlot s = inc.slot;
    RestartPolicy.Decision d;
    synchronized (s) {
      if (life.closed || s.current != inc) {
        return;
      }
      s.current = null;
      d = recordFailure(s, cause, failure);
    }
    log.warn("supervised plugin {} failed: {}; {}", s.name, cause,
        d.giveUp() ? "giving up" : "restarting in " + d.delay().toMillis() + " ms");
    // the plugin crashed or hangs: nothing to drain, calls on it fail anyway
    if (!calls.drain(inc, Duration.ZERO)) {
      log.debug("plugin {}: {} calls still hold the failed client", s.name, inc.leases);
    }
    try {
      inc.client.kill();
    } catch (RuntimeException e) {
      log.debug("killing the failed client of plugin {}: {}", s.name, e.toString());
    }
    afterFailure(s, d, cause);
  }

  private RestartPolicy.Decision recordFailure(SupervisorSlot s, String cause,
      RuntimeException failure) {
    RestartPolicy.Decision d = s.policy.onFailure(clock.getAsLong());
    s.lastCause = cause;
    s.lastFailure = failure;
    s.state = d.giveUp() ? State.GAVE_UP : State.RESTARTING;
    s.notifyAll();
    return d;
  }

  private void afterFailure(SupervisorSlot s, RestartPolicy.Decision d, String cause) {
    if (d.giveUp()) {
      log.error("the supervisor gave up on plugin {} after {} failures within {}; the last: {}",
          s.name, d.failuresInWindow(), window, cause);
      life.fire(new GaveUp(s.name, Instant.now(), cause, d.failuresInWindow(), window));
      return;
    }
    life.fire(new Restarting(s.name, Instant.now(), cause, d.failuresInWindow(), d.delay()));
    try {
      life.executor.schedule(() -> restartNow(s), d.delay().toNanos(), TimeUnit.NANOSECONDS);
    } catch (RejectedExecutionException closing) {
      // the supervisor is closing
    }
  }

  /** On the supervisor's thread: start a failed plugin again. */
  private void restartNow(SupervisorSlot s) {
    synchronized (s) {
      if (life.closed || s.state != State.RESTARTING) {
        return;
      }
    }
    Incarnation inc;
    try {
      inc = launch(s, s.spec);
    } catch (RuntimeException e) {
      if (life.closed) {
        return;
      }
      String cause = "the restart failed: " + e.getMessage();
      RestartPolicy.Decision d;
      synchronized (s) {
        if (s.state != State.RESTARTING) {
          return; // an upgrade took over
        }
        d = recordFailure(s, cause, e);
      }
      log.warn("supervised plugin {}: {}", s.name, cause);
      afterFailure(s, d, cause);
      return;
    }
    int restarts;
    synchronized (s) {
      if (s.state != State.RESTARTING) {
        // an upgrade installed another client meanwhile
        closeQuietly(inc.client);
        return;
      }
      restarts = ++s.restarts;
    }
    if (install(s, inc)) {
      log.info("supervised plugin {} restarted", s.name);
      life.fire(new Restarted(s.name, Instant.now(), restarts));
    }
  }
}
