package dev.goplugin4j.host;

import dev.goplugin4j.host.internal.supervisor.RestartPolicy;
import dev.goplugin4j.protocol.PluginException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * Keeps named plugins alive: starts one {@link PluginClient} per name, restarts it when the plugin
 * exits without being asked to (a crash) or fails its health check (a hang), with exponential
 * back-off up to a ceiling, and gives up on a plugin that fails too often within a window. Callers
 * borrow the current client for the length of a call, so a restart or an {@linkplain #upgrade
 * upgrade} never closes a client under a call that is still running on it.
 *
 * <pre>{@code
 * try (PluginSupervisor supervisor = PluginSupervisor.builder()
 *     .plugin("kv", () -> PluginClient.builder()
 *         .handshake(1, "BASIC_PLUGIN", "hello")
 *         .plugin("kv", new KvPlugin())
 *         .command("./kv-plugin"))
 *     .build()) {
 *   supervisor.start();
 *   byte[] v = supervisor.call("kv", client -> client.dispense("kv", Kv.class).get("hello"));
 * }
 * }</pre>
 *
 * <p><b>Restarts.</b> The supervisor watches each client's {@link PluginEvent.Exited} event: an
 * exit the client did not ask for is a failure. So is a failed health check ({@link
 * PluginClient#ping()}, every {@link Builder#healthCheckInterval} — 10 s by default, 5 s to
 * answer), after which the hung plugin is killed. After a failure the plugin is started again
 * from its spec (a fresh {@link PluginClient.Builder} each time) after {@code initial × 2^(n−1)},
 * at most {@code max} ({@link Builder#restartBackoff}), where {@code n} counts the failures within
 * the window; a failed restart is a failure too. When the window holds {@link Builder#giveUpAfter
 * K} failures the supervisor gives up: the plugin's state becomes {@link State#GAVE_UP}, a {@link
 * GaveUp} event is sent, callers get {@link PluginGaveUpException}, and {@link #restart(String)}
 * tries again. {@link #status(String)} reports the state, restarts and recent failures, for
 * metrics.
 *
 * <p><b>Callers during a restart.</b> {@link #call(String, Function)} waits for the plugin up to
 * {@link Builder#waitForRestart} (default zero: fail at once) and {@link #call(String, Duration,
 * Function)} up to the caller's own deadline; then it throws {@link PluginRestartingException}.
 *
 * <p><b>Upgrades.</b> {@link #upgrade(String, Supplier)} starts the new version from a new spec
 * while the old one serves, switches callers to it, waits until no call holds the old client
 * (at most {@link Builder#drainTimeout}), then closes the old one. Later restarts use the new
 * spec.
 *
 * <p><b>Threads.</b> One daemon thread per supervisor ({@code goplugin4j-supervisor}), made at
 * {@link #start()}, runs restarts and health checks, one at a time: a plugin that takes long to
 * start or to answer its health check delays the others' by that long. Supervisor events are
 * delivered on that thread (upgrade events on the upgrading thread); a listener that throws is
 * logged once at WARN and ignored. All methods are thread-safe. {@link #close()} stops the
 * thread and closes every client: nothing is left running.
 */
public final class PluginSupervisor implements AutoCloseable {
  /** Where a supervised plugin stands. */
  public enum State {
    /** {@link #start()} has not been called yet. */
    NEW,
    /** A client is running and handed to callers. */
    RUNNING,
    /** The plugin failed and is waiting for, or going through, its restart. */
    RESTARTING,
    /** The plugin failed too often; nothing is restarted until {@link #restart(String)}. */
    GAVE_UP,
    /** The supervisor is closed. */
    CLOSED
  }

  /**
   * A supervised plugin's state, for health endpoints and metrics.
   *
   * @param state where it stands
   * @param restarts successful restarts since the supervisor started (upgrades not counted)
   * @param failuresInWindow failures within the give-up window, now
   * @param lastFailure the last failure, worded for a log, or empty
   */
  public record Status(State state, int restarts, int failuresInWindow, String lastFailure) {}

  /** What the supervisor did; see {@link Listener}. */
  public sealed interface Event permits Restarting, Restarted, GaveUp, Upgraded {
    /**
     * The supervised plugin's name.
     *
     * @return the name given to {@link Builder#plugin}
     */
    String pluginName();

    /**
     * When it happened.
     *
     * @return the instant
     */
    Instant time();
  }

  /**
   * The plugin failed and will be started again after {@code delay}.
   *
   * @param pluginName the plugin
   * @param time when
   * @param cause what failed, worded for a log
   * @param failuresInWindow failures within the window, this one included
   * @param delay the back-off before the restart
   */
  public record Restarting(
      String pluginName, Instant time, String cause, int failuresInWindow, Duration delay)
      implements Event {}

  /**
   * The plugin was started again and serves callers.
   *
   * @param pluginName the plugin
   * @param time when
   * @param restarts successful restarts so far, this one included
   */
  public record Restarted(String pluginName, Instant time, int restarts) implements Event {}

  /**
   * The supervisor gave up on the plugin.
   *
   * @param pluginName the plugin
   * @param time when
   * @param cause the last failure, worded for a log
   * @param failuresInWindow the failures within the window
   * @param window the window
   */
  public record GaveUp(
      String pluginName, Instant time, String cause, int failuresInWindow, Duration window)
      implements Event {}

  /**
   * An upgrade finished: the new client serves, the old one is closed.
   *
   * @param pluginName the plugin
   * @param time when
   * @param drained whether every call on the old client ended before it was closed (false when
   *     the drain timeout ran out)
   */
  public record Upgraded(String pluginName, Instant time, boolean drained) implements Event {}

  /** Receives the supervisor's events; see the class comment for the thread. */
  @FunctionalInterface
  public interface Listener {
    /**
     * Called once per event.
     *
     * @param event never null
     */
    void onEvent(Event event);
  }

  // the machinery, by phase: start and close (the thread, events), calls (leases, drain),
  // restarts (failures, back-off, give-up, upgrade); each slot is one plugin's state
  private final Map<String, SupervisorSlot> slots;
  private final Duration healthCheckInterval;
  private final Duration waitForRestart;
  private final SupervisorLifecycle life;
  private final SupervisorCalls calls;
  private final SupervisorRestarts restarts;

  private PluginSupervisor(Builder b) {
    this.healthCheckInterval = b.healthCheckInterval;
    this.waitForRestart = b.waitForRestart;
    Map<String, SupervisorSlot> m = new LinkedHashMap<>();
    b.specs.forEach((name, spec) -> m.put(name,
        new SupervisorSlot(name, spec, new RestartPolicy(b.initialBackoff, b.maxBackoff,
            b.maxFailures, b.window))));
    this.slots = Collections.unmodifiableMap(m);
    this.life = new SupervisorLifecycle(slots.values(), b.listeners);
    this.calls = new SupervisorCalls(life, b.clock, b.window, b.drainTimeout);
    this.restarts = new SupervisorRestarts(life, calls, slots.values(), b.clock, b.window);
  }

  /**
   * A new builder with the defaults documented on each setter.
   *
   * @return a builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Starts every plugin, in the order they were added, and the supervisor's thread. Blocks until
   * all are running. Idempotent.
   *
   * @throws PluginException the first plugin's start failure (see {@link PluginClient#start()});
   *     every plugin started so far is closed again and the supervisor is closed
   * @throws IllegalStateException if the supervisor is closed
   */
  public void start() {
    life.start(restarts, healthCheckInterval);
  }

  /**
   * Runs {@code call} with the plugin's current client, waiting for a restart up to {@link
   * Builder#waitForRestart}. The client is not closed by a restart or an upgrade while {@code
   * call} runs (a crash of the plugin itself still fails the call's RPCs). Do not keep the client
   * or what it dispensed after {@code call} returns.
   *
   * @param name the plugin's name
   * @param call what to do with the client; its exceptions pass through
   * @param <R> the result type
   * @return what {@code call} returned
   * @throws PluginRestartingException if no client is running within the wait
   * @throws PluginGaveUpException if the supervisor gave up on the plugin
   * @throws IllegalArgumentException for an unknown name
   * @throws IllegalStateException if the supervisor is not started or closed
   */
  public <R> R call(String name, Function<PluginClient, R> call) {
    return call(name, waitForRestart, call);
  }

  /**
   * Runs {@code call} with the plugin's current client, waiting up to {@code wait} while the
   * plugin restarts; as {@link #call(String, Function)} otherwise.
   *
   * @param name the plugin's name
   * @param wait how long to wait for a restarting plugin; zero to fail at once; not negative
   * @param call what to do with the client
   * @param <R> the result type
   * @return what {@code call} returned
   * @throws PluginRestartingException if no client is running within the wait, or the thread was
   *     interrupted while waiting (its interrupt flag is then set)
   * @throws PluginGaveUpException if the supervisor gave up on the plugin
   * @throws IllegalArgumentException for an unknown name or a negative wait
   * @throws IllegalStateException if the supervisor is not started or closed
   */
  public <R> R call(String name, Duration wait, Function<PluginClient, R> call) {
    Objects.requireNonNull(wait, "wait");
    Objects.requireNonNull(call, "call");
    if (wait.isNegative()) {
      throw new IllegalArgumentException("wait must not be negative, got " + wait);
    }
    SupervisorSlot s = slot(name);
    return calls.call(s, wait, call);
  }

  /**
   * The plugin's current client, without waiting and without holding it: a restart or an upgrade
   * may close it at any time. Prefer {@link #call}.
   *
   * @param name the plugin's name
   * @return the running client
   * @throws PluginRestartingException if none is running now
   * @throws PluginGaveUpException if the supervisor gave up on the plugin
   * @throws IllegalArgumentException for an unknown name
   * @throws IllegalStateException if the supervisor is not started or closed
   */
  public PluginClient current(String name) {
    return calls.current(slot(name));
  }

  /**
   * Where a plugin stands, for health endpoints and metrics.
   *
   * @param name the plugin's name
   * @return its status now
   * @throws IllegalArgumentException for an unknown name
   */
  public Status status(String name) {
    return calls.status(slot(name));
  }

  /**
   * The supervised plugins' names, in the order they were added.
   *
   * @return an immutable list
   */
  public List<String> names() {
    return List.copyOf(slots.keySet());
  }

  /**
   * Replaces a plugin with a new version: starts a client from {@code newSpec} while the old one
   * serves, hands new calls to it, waits until no call holds the old client (at most {@link
   * Builder#drainTimeout}), closes the old client and sends {@link Upgraded}. Later restarts use
   * {@code newSpec}, and the failure count starts over. Works in any state, also after the
   * supervisor gave up. Blocks; one upgrade per plugin at a time.
   *
   * @param name the plugin's name
   * @param newSpec makes the builder of the new version, as for {@link Builder#plugin}
   * @throws PluginException if the new version does not start; the old one keeps serving
   * @throws IllegalArgumentException for an unknown name
   * @throws IllegalStateException if the supervisor is not started or closed
   */
  public void upgrade(String name, Supplier<PluginClient.Builder> newSpec) {
    Objects.requireNonNull(newSpec, "newSpec");
    SupervisorSlot s = slot(name);
    restarts.upgrade(s, newSpec);
  }

  /**
   * Starts a plugin the supervisor gave up on again, with its failure count cleared. Returns at
   * once; the start runs on the supervisor's thread. Does nothing for a plugin in another state.
   *
   * @param name the plugin's name
   * @throws IllegalArgumentException for an unknown name
   * @throws IllegalStateException if the supervisor is not started or closed
   */
  public void restart(String name) {
    restarts.restart(slot(name));
  }

  /**
   * Stops the supervisor's thread (an ongoing restart is interrupted and undone) and closes every
   * client, without draining: calls still running fail. Waiters get {@link
   * IllegalStateException}. Idempotent.
   */
  @Override
  public void close() {
    life.close();
  }

  @Override
  public String toString() {
    return "PluginSupervisor" + slots.keySet();
  }

  // ---------------------------------------------------------------------------------------------

  private SupervisorSlot slot(String name) {
    Objects.requireNonNull(name, "name");
    SupervisorSlot s = slots.get(name);
    if (s == null) {
      throw new IllegalArgumentException(
          "no supervised plugin named \"" + name + "\"; known: " + slots.keySet());
    }
    return s;
  }

  /**
   * Builds a {@link PluginSupervisor}. Each setter checks its argument at once. Not thread-safe;
   * the built supervisor is.
   */
  public static final class Builder {
    /** Default first back-off: 200 ms. */
    public static final Duration DEFAULT_INITIAL_BACKOFF = Duration.ofMillis(200);
    /** Default back-off ceiling: 30 s. */
    public static final Duration DEFAULT_MAX_BACKOFF = Duration.ofSeconds(30);
    /** Default failures that make the supervisor give up: 5 (within the window). */
    public static final int DEFAULT_MAX_FAILURES = 5;
    /** Default give-up window: 5 minutes. */
    public static final Duration DEFAULT_WINDOW = Duration.ofMinutes(5);
    /** Default health check interval: 10 s. */
    public static final Duration DEFAULT_HEALTH_CHECK_INTERVAL = Duration.ofSeconds(10);
    /** Default drain timeout of an upgrade: 30 s. */
    public static final Duration DEFAULT_DRAIN_TIMEOUT = Duration.ofSeconds(30);

    private final Map<String, Supplier<PluginClient.Builder>> specs = new LinkedHashMap<>();
    private Duration initialBackoff = DEFAULT_INITIAL_BACKOFF;
    private Duration maxBackoff = DEFAULT_MAX_BACKOFF;
    private int maxFailures = DEFAULT_MAX_FAILURES;
    private Duration window = DEFAULT_WINDOW;
    private Duration healthCheckInterval = DEFAULT_HEALTH_CHECK_INTERVAL;
    private Duration waitForRestart = Duration.ZERO;
    private Duration drainTimeout = DEFAULT_DRAIN_TIMEOUT;
    private final List<Listener> listeners = new ArrayList<>();
    private LongSupplier clock = System::nanoTime;

    Builder() {}

    /**
     * Adds a plugin to keep alive. The spec is called for the first start and for every restart,
     * and must return a new, fully configured builder each time (do not share one: a builder is
     * not thread-safe). The supervisor adds a listener of its own; the builder's listeners keep
     * receiving the client's events.
     *
     * @param name the name callers use; not empty, unique
     * @param spec makes the plugin's client builder; not null
     * @return this builder
     */
    public Builder plugin(String name, Supplier<PluginClient.Builder> spec) {
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(spec, "spec");
      if (name.isEmpty()) {
        throw new IllegalArgumentException("plugin name must not be empty");
      }
      if (specs.containsKey(name)) {
        throw new IllegalArgumentException("plugin \"" + name + "\" was already added");
      }
      specs.put(name, spec);
      return this;
    }

    /**
     * The back-off between a failure and the restart: {@code initial × 2^(n−1)}, at most {@code
     * max}, where {@code n} is the number of failures within the window. Default 200 ms and 30 s.
     *
     * @param initial positive
     * @param max at least {@code initial}
     * @return this builder
     */
    public Builder restartBackoff(Duration initial, Duration max) {
      positive(initial, "initial");
      positive(max, "max");
      if (max.compareTo(initial) < 0) {
        throw new IllegalArgumentException(
            "max back-off " + max + " is shorter than the initial back-off " + initial);
      }
      this.initialBackoff = initial;
      this.maxBackoff = max;
      return this;
    }

    /**
     * When to give up: after {@code failures} failures (unexpected exits, failed health checks,
     * failed restarts) within {@code window}. Default 5 within 5 minutes.
     *
     * @param failures at least 1
     * @param window positive
     * @return this builder
     */
    public Builder giveUpAfter(int failures, Duration window) {
      if (failures < 1) {
        throw new IllegalArgumentException("failures must be >= 1, got " + failures);
      }
      positive(window, "window");
      this.maxFailures = failures;
      this.window = window;
      return this;
    }

    /**
     * How often the supervisor checks each running plugin's health ({@link PluginClient#ping()},
     * which gives the plugin 5 s); a failed check counts as a failure and the plugin is killed
     * and restarted. This is how a plugin that hangs without exiting is found. Default 10 s;
     * {@link Duration#ZERO} turns the checks off.
     *
     * @param interval zero, or at least 100 ms
     * @return this builder
     */
    public Builder healthCheckInterval(Duration interval) {
      Objects.requireNonNull(interval, "interval");
      if (!interval.isZero() && interval.compareTo(Duration.ofMillis(100)) < 0) {
        throw new IllegalArgumentException(
            "healthCheckInterval must be zero (off) or at least 100 ms, got " + interval);
      }
      this.healthCheckInterval = interval;
      return this;
    }

    /**
     * How long {@link PluginSupervisor#call(String, Function)} waits for a restarting plugin
     * before it throws {@link PluginRestartingException}. Default zero: fail at once.
     *
     * @param wait not negative
     * @return this builder
     */
    public Builder waitForRestart(Duration wait) {
      Objects.requireNonNull(wait, "wait");
      if (wait.isNegative()) {
        throw new IllegalArgumentException("waitForRestart must not be negative, got " + wait);
      }
      this.waitForRestart = wait;
      return this;
    }

    /**
     * How long an {@linkplain PluginSupervisor#upgrade upgrade} waits for calls on the old client
     * to end before it closes it anyway. Default 30 s.
     *
     * @param timeout not negative
     * @return this builder
     */
    public Builder drainTimeout(Duration timeout) {
      Objects.requireNonNull(timeout, "timeout");
      if (timeout.isNegative()) {
        throw new IllegalArgumentException("drainTimeout must not be negative, got " + timeout);
      }
      this.drainTimeout = timeout;
      return this;
    }

    /**
     * Adds a listener for the supervisor's events (restarting, restarted, gave up, upgraded).
     *
     * @param listener not null
     * @return this builder
     */
    public Builder listener(Listener listener) {
      listeners.add(Objects.requireNonNull(listener, "listener"));
      return this;
    }

    /** The clock of the give-up window, for tests. */
    Builder clock(LongSupplier nanoClock) {
      this.clock = Objects.requireNonNull(nanoClock, "nanoClock");
      return this;
    }

    /**
     * Builds the supervisor. Nothing is started until {@link PluginSupervisor#start()}.
     *
     * @return the supervisor
     * @throws IllegalStateException if no plugin was added
     */
    public PluginSupervisor build() {
      if (specs.isEmpty()) {
        throw new IllegalStateException("add at least one plugin(name, spec) to supervise");
      }
      return new PluginSupervisor(this);
    }

    private static void positive(Duration d, String what) {
      Objects.requireNonNull(d, what);
      if (d.isZero() || d.isNegative()) {
        throw new IllegalArgumentException(what + " must be positive, got " + d);
      }
    }
  }
}
