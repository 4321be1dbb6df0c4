package dev.goplugin4j.host;

import dev.goplugin4j.host.PluginSupervisor.Event;
import dev.goplugin4j.host.PluginSupervisor.Listener;
import dev.goplugin4j.host.PluginSupervisor.State;
import dev.goplugin4j.host.SupervisorSlot.Incarnation;
import java.time.Duration;
import java.util.Collection;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link PluginSupervisor}'s start and close: the started and closed flags, the one thread
 * ({@code goplugin4j-supervisor}) that runs restarts and health checks, and the delivery of events
 * to the listeners.
 *
 * <p>Thread-safety: thread-safe. The flags are volatile and change under {@link #lifecycle}, which
 * also guards the thread's executor; a slot's state is changed under the slot's own monitor, never
 * while holding {@link #lifecycle}.
 */
final class SupervisorLifecycle {
  // the supervisor's logger, so that its messages keep their category
  private static final Logger log = LoggerFactory.getLogger(PluginSupervisor.class);

  private final Collection<SupervisorSlot> slots;
  private final List<Listener> listeners;
  private final Set<Listener> failedListeners =
      Collections.newSetFromMap(new IdentityHashMap<>());
  private final Object lifecycle = new Object();
  ScheduledExecutorService executor; // guarded by lifecycle
  volatile boolean started;
  volatile boolean closed;

  SupervisorLifecycle(Collection<SupervisorSlot> slots, List<Listener> listeners) {
    this.slots = slots;
    this.listeners = List.copyOf(listeners);
  }

  /** {@link PluginSupervisor#start()}: the first start of every plugin, then the health checks. */
  void start(SupervisorRestarts restarts, Duration healthCheckInterval) {
    synchronized (lifecycle) {
      if (closed) {
        throw new IllegalStateException("the plugin supervisor is closed; build a new one");
      }
      if (started) {
        return;
      }
      executor = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "goplugin4j-supervisor");
        t.setDaemon(true);
        return t;
      });
      started = true;
    }
    try {
      for (SupervisorSlot s : slots) {
        Incarnation inc = restarts.launch(s, s.spec);
        restarts.install(s, inc);
      }
    } catch (RuntimeException | Error e) {
      close();
      throw e;
    }
    if (!healthCheckInterval.isZero()) {
      long every = healthCheckInterval.toNanos();
      submit(() -> executor.scheduleWithFixedDelay(restarts::probeAll, every, every,
          TimeUnit.NANOSECONDS));
    }
  }

  /** {@link PluginSupervisor#close()}: stops the thread, then closes every slot's client. */
  void close() {
    ScheduledExecutorService ex;
    synchronized (lifecycle) {
      if (closed) {
        return;
      }
      closed = true;
      ex = executor;
    }
    if (ex != null) {
      ex.shutdownNow();
      try {
        if (!ex.awaitTermination(2, TimeUnit.MINUTES)) {
          log.warn("the plugin supervisor's thread did not end within 2 minutes");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    for (SupervisorSlot s : slots) {
      Incarnation inc;
      synchronized (s) {
        inc = s.current;
        s.current = null;
        s.state = State.CLOSED;
        s.notifyAll();
      }
      if (inc != null) {
        closeQuietly(inc.client);
      }
    }
  }

  void checkStarted() {
    if (closed) {
      throw new IllegalStateException("the plugin supervisor is closed");
    }
    if (!started) {
      throw new IllegalStateException("the plugin supervisor is not started: call start() first");
    }
  }

  void submit(Runnable task) {
    ScheduledExecutorService ex;
    synchronized (lifecycle) {
      ex = executor;
    }
    if (ex == null || closed) {
      return;
    }
    try {
      ex.execute(task);
    } catch (RejectedExecutionException closing) {
      // the supervisor is closing
    }
  }

  void fire(Event e) {
    for (Listener l : listeners) {
      try {
        l.onEvent(e);
      } catch (RuntimeException ex) {
        boolean first;
        synchronized (failedListeners) {
          first = failedListeners.add(l);
        }
        if (first) {
          log.warn("supervisor listener {} threw on {}; ignored (later failures at DEBUG)", l,
              e.getClass().getSimpleName(), ex);
        } else {
          log.debug("supervisor listener {} threw on {}: {}", l, e.getClass().getSimpleName(),
              ex.toString());
        }
      }
    }
  }

  static void closeQuietly(PluginClient c) {
    try {
      c.close();
    } catch (RuntimeException e) {
      log.debug("closing {}: {}", c, e.toString());
    }
  }
}
