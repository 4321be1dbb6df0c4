package dev.goplugin4j.host.internal.events;

import dev.goplugin4j.host.PluginClient;
import dev.goplugin4j.host.PluginEvent;
import dev.goplugin4j.host.PluginListener;
import java.util.ArrayDeque;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Delivers one client's events to its listeners, in order and one at a time, on the thread that
 * fires them, without holding any lock while a listener runs: an event fired while another thread
 * delivers is queued, and that thread delivers it next (a serializing trampoline, as grpc's {@code
 * SynchronizationContext}). After a final event ({@link PluginEvent.Closed}, {@link
 * PluginEvent.Detached}) every later event is dropped. A listener's exception is logged (the first
 * one of each listener at WARN, later ones at DEBUG) and ignored.
 *
 * <p>With no listeners, {@link #active()} is false and {@link #fire} returns at once. Thread-safe.
 */
public final class EventDispatcher {
  private static final Logger log = LoggerFactory.getLogger(PluginClient.class);

  private final CopyOnWriteArrayList<PluginListener> listeners;
  private final Object lock = new Object();
  private final ArrayDeque<PluginEvent> queue = new ArrayDeque<>();
  private final Set<PluginListener> failed = Collections.newSetFromMap(new IdentityHashMap<>());
  private boolean draining;
  private boolean ended;

  /**
   * A dispatcher with initial listeners.
   *
   * @param listeners called in this order; copied
   */
  public EventDispatcher(List<PluginListener> listeners) {
    this.listeners = new CopyOnWriteArrayList<>(listeners);
  }

  /**
   * Adds a listener; it receives the events fired from now on.
   *
   * @param listener not null
   */
  public void add(PluginListener listener) {
    listeners.add(Objects.requireNonNull(listener, "listener"));
  }

  /**
   * Removes a listener (the first registration of that instance).
   *
   * @param listener the listener
   * @return whether it was registered
   */
  public boolean remove(PluginListener listener) {
    return listeners.remove(listener);
  }

  /**
   * Whether any listener is registered: callers skip making events otherwise.
   *
   * @return true with at least one listener
   */
  public boolean active() {
    return !listeners.isEmpty();
  }

  /**
   * Whether the final event was fired.
   *
   * @return true after Closed or Detached
   */
  public boolean ended() {
    synchronized (lock) {
      return ended;
    }
  }

  /**
   * Delivers an event, or queues it for the thread that is delivering now: {@link #post} then
   * {@link #flush}.
   *
   * @param event not null
   */
  public void fire(PluginEvent event) {
    post(event);
    flush();
  }

  /**
   * Queues an event without delivering it: for callers that hold a lock, which {@link #flush()}
   * after releasing it. The order of posts is the order of delivery.
   *
   * @param event not null
   */
  public void post(PluginEvent event) {
    Objects.requireNonNull(event, "event");
    synchronized (lock) {
      if (ended) {
        return;
      }
      if (event instanceof PluginEvent.Closed || event instanceof PluginEvent.Detached) {
        ended = true;
      }
      if (!listeners.isEmpty()) {
        queue.addLast(event);
      }
    }
  }

  /** Delivers the queued events on this thread, unless another thread is delivering them. */
  public void flush() {
    synchronized (lock) {
      if (draining || queue.isEmpty()) {
        return;
      }
      draining = true;
    }
    drain();
  }

  private void drain() {
    boolean done = false;
    try {
      while (true) {
        PluginEvent e;
        synchronized (lock) {
          e = queue.pollFirst();
          if (e == null) {
            draining = false;
            done = true;
            return;
          }
        }
        for (PluginListener l : listeners) {
          deliver(l, e);
        }
      }
    } finally {
      if (!done) {
        // only a VirtualMachineError gets here; let a later fire() deliver what is queued
        synchronized (lock) {
          draining = false;
        }
      }
    }
  }

  private void deliver(PluginListener l, PluginEvent e) {
    try {
      l.onEvent(e);
    } catch (VirtualMachineError fatal) {
      throw fatal;
    } catch (Throwable t) {
      boolean first;
      synchronized (failed) {
        first = failed.add(l);
      }
      String what = e.getClass().getSimpleName();
      if (first) {
        log.warn("plugin listener {} threw on event {} of plugin {}; the event is ignored (later"
            + " failures of this listener are logged at DEBUG): fix the listener",
            l, what, e.source().name(), t);
      } else {
        log.debug("plugin listener {} threw on event {} of plugin {}: {}", l, what,
            e.source().name(), t.toString());
      }
    }
  }
}
