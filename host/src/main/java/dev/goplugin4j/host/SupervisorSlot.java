package dev.goplugin4j.host;

import dev.goplugin4j.host.PluginSupervisor.State;
import dev.goplugin4j.host.internal.supervisor.RestartPolicy;
import java.util.function.Supplier;

/**
 * One plugin a {@link PluginSupervisor} keeps alive: its spec, where it stands, its current client
 * and the failures counted against it.
 *
 * <p>Thread-safety: the slot is its own monitor. Every mutable field but {@link #spec} (volatile)
 * is read and written while holding the slot, and so are an {@link Incarnation}'s leases and
 * flags; callers wait on it for a restart, an upgrade waits on it for a drain. {@link
 * #upgradeLock} keeps one upgrade per plugin at a time and is taken before the slot, never while
 * holding it.
 */
final class SupervisorSlot {
  /**
   * One started client of a slot, and the calls that hold it. Thread-safety: the fields marked
   * below are guarded by the slot; {@link #client} is set before the incarnation is shared.
   */
  static final class Incarnation {
    final SupervisorSlot slot;
    PluginClient client;
    int leases; // guarded by slot
    boolean installed; // guarded by slot
    String pendingFailure; // guarded by slot: a failure seen before it was installed

    Incarnation(SupervisorSlot slot) {
      this.slot = slot;
    }
  }

  final String name;
  final RestartPolicy policy;
  final Object upgradeLock = new Object();
  volatile Supplier<PluginClient.Builder> spec;
  State state = State.NEW;
  Incarnation current;
  int restarts;
  String lastCause = "";
  RuntimeException lastFailure;

  SupervisorSlot(String name, Supplier<PluginClient.Builder> spec, RestartPolicy policy) {
    this.name = name;
    this.spec = spec;
    this.policy = policy;
  }
}
