package dev.goplugin4j.host.internal.client;

import dev.goplugin4j.host.AttachedRunner;
import dev.goplugin4j.host.PluginEvent;
import dev.goplugin4j.host.internal.events.EventDispatcher;
import java.time.Duration;
import java.time.Instant;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Exit handling for the client's events: the single Exited event, whether the runner's exit is
 * seen on its own thread or a close stopped the plugin, so it is queued before Closed whichever
 * thread sees it.
 */
final class ExitEvents {
  private final EventDispatcher events;
  private final PluginEvent.Source source;
  /** The session's closing flag: an exit while it is set was requested. */
  private final BooleanSupplier closing;
  private final Supplier<Duration> uptime;
  /** Guards the single Exited event, so it is queued before Closed whichever thread sees it. */
  private final Object exitEventLock = new Object();
  private boolean exitEventSent; // guarded by exitEventLock

  ExitEvents(EventDispatcher events, PluginEvent.Source source, BooleanSupplier closing,
      Supplier<Duration> uptime) {
    this.events = events;
    this.source = source;
    this.closing = closing;
    this.uptime = uptime;
  }

  /** After Started or Reattached: the runner's exit, seen on its own thread, becomes Exited. */
  void watch(AttachedRunner r) {
    r.onExit().whenComplete((code, err) -> {
      int status = code == null ? -1 : code;
      boolean requested = closing.getAsBoolean();
      synchronized (exitEventLock) {
        if (exitEventSent) {
          return;
        }
        exitEventSent = true;
        events.post(exitedEvent(r, status, requested));
      }
      events.flush();
    });
  }

  private PluginEvent.Exited exitedEvent(AttachedRunner r, int status, boolean requested) {
    String hint;
    try {
      hint = r == null ? "" : r.describeExit(status);
    } catch (RuntimeException e) {
      hint = "";
    }
    return new PluginEvent.Exited(source, Instant.now(), status, requested,
        hint == null ? "" : hint, uptime.get());
  }

  /** Under the session's lock, once a close stopped a started plugin: Exited (if not seen yet). */
  void postRequestedExit(AttachedRunner r) {
    if (!events.active()) {
      return;
    }
    synchronized (exitEventLock) {
      if (exitEventSent) {
        return;
      }
      exitEventSent = true;
      int status = r == null ? -1 : r.onExit().getNow(-1);
      events.post(exitedEvent(r, status, true));
    }
  }
}
