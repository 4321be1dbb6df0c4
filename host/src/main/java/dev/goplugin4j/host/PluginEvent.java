package dev.goplugin4j.host;

import dev.goplugin4j.protocol.NetAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * Something that happened to a plugin run by a {@link PluginClient}, delivered to its {@link
 * PluginListener}s. Every event names its {@link Source} (the plugin's name, command and runner
 * kind) and the wall-clock {@link #time()} it happened.
 *
 * <p><b>Order.</b> The events of one client follow this grammar, delivered in order and one at a
 * time ({@code *} zero or more, {@code ?} at most once, {@code |} one of):
 *
 * <pre>
 * Starting ( StartFailed Closed
 *          | (Started | Reattached) Exited? (Closed | Detached) )
 * </pre>
 *
 * with any number of {@link Stderr} events anywhere between {@code Starting} and the final event.
 * {@link Closed} or {@link Detached} is always the last event; nothing follows it. A plugin that
 * stops by itself gives {@code Exited} with {@link Exited#requested()} false as soon as the
 * runner sees it (the client stays open until it is closed: closing it then gives {@code Closed}
 * only); {@link PluginClient#close()} and {@link PluginClient#kill()} give {@code Exited} with
 * {@code requested} true, then {@code Closed}. A reattached plugin in test mode ({@link
 * ReattachConfig#test()}), which {@code close()} leaves running, and {@link
 * PluginClient#detach()} give no {@code Exited}.
 *
 * <p>All events are immutable values, safe to keep and to pass between threads.
 */
public sealed interface PluginEvent
    permits PluginEvent.Starting,
        PluginEvent.Started,
        PluginEvent.StartFailed,
        PluginEvent.Reattached,
        PluginEvent.Stderr,
        PluginEvent.Exited,
        PluginEvent.Detached,
        PluginEvent.Closed {

  /**
   * The plugin the event is about.
   *
   * @return its name, command and runner kind
   */
  Source source();

  /**
   * When the event happened (wall clock).
   *
   * @return the instant
   */
  Instant time();

  /**
   * Names the plugin an event is about; the same value for every event of one client, so it can
   * serve as a metric's tags.
   *
   * @param name the client's plugin name: the executable's file name, {@code <kind>-<id>} for a
   *     reattached plugin, or {@code plugin} for a runner without a command
   * @param command the command line ({@link PluginClient.Builder#command}); empty for a runner
   *     factory without one and for a reattached plugin
   * @param runnerKind {@value ReattachConfig#KIND_PROCESS}, {@value ReattachConfig#KIND_CONTAINER}
   *     or a custom runner's {@link RunnerFactory#kind()}
   */
  record Source(String name, List<String> command, String runnerKind) {
    /**
     * Checks and copies the components.
     *
     * @param name not null
     * @param command not null; copied
     * @param runnerKind not null
     */
    public Source {
      Objects.requireNonNull(name, "name");
      command = List.copyOf(command);
      Objects.requireNonNull(runnerKind, "runnerKind");
    }
  }

  /**
   * The client begins to start the plugin ({@link PluginClient#start()} or the first {@link
   * PluginClient#dispense}); nothing has been made yet. Followed by {@link Started}, {@link
   * Reattached} or {@link StartFailed}.
   *
   * @param source the plugin
   * @param time when
   * @param reattach whether the client reattaches to a running plugin instead of launching one
   */
  record Starting(Source source, Instant time, boolean reattach) implements PluginEvent {
    /**
     * Checks the components.
     *
     * @param source not null
     * @param time not null
     * @param reattach whether reattaching
     */
    public Starting {
      Objects.requireNonNull(source, "source");
      Objects.requireNonNull(time, "time");
    }
  }

  /**
   * The plugin was launched, handshook and its gRPC server is reachable: the client is ready
   * for {@link PluginClient#dispense}.
   *
   * @param source the plugin
   * @param time when
   * @param protocolVersion the app protocol version the plugin chose
   * @param protocol the plugin protocol of its handshake ({@code grpc})
   * @param address where the host reaches it (after the runner's address translation)
   * @param runnerId the runner's id: the process id, or the container id
   * @param phases how long each phase of the start took, in order: {@code prepare} (executors,
   *     socket directory, environment, host certificate), {@code runner start}, {@code handshake
   *     line} (the wait for it; the JVM's first start makes the shared event loops meanwhile),
   *     {@code handshake parse}, {@code channel} (built, its connection started), {@code
   *     broker and stdio} (opened with the connection), {@code connect} (until the channel is
   *     ready: connected, TLS handshook, the server's HTTP/2 settings read; a health check when
   *     the first connection fails)
   * @param total from {@link Starting} to ready
   */
  record Started(
      Source source,
      Instant time,
      int protocolVersion,
      String protocol,
      NetAddress address,
      String runnerId,
      Map<String, Duration> phases,
      Duration total)
      implements PluginEvent {
    /**
     * Checks and copies the components (the phases keep their order).
     *
     * @param source not null
     * @param time not null
     * @param protocolVersion the negotiated version
     * @param protocol not null
     * @param address not null
     * @param runnerId not null
     * @param phases not null
     * @param total not null
     */
    public Started {
      Objects.requireNonNull(source, "source");
      Objects.requireNonNull(time, "time");
      Objects.requireNonNull(protocol, "protocol");
      Objects.requireNonNull(address, "address");
      Objects.requireNonNull(runnerId, "runnerId");
      phases = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(phases));
      Objects.requireNonNull(total, "total");
    }

    /**
     * The container's id when the plugin runs in a container.
     *
     * @return the container id, or empty for other runners
     */
    public Optional<String> containerId() {
      return ReattachConfig.KIND_CONTAINER.equals(source.runnerKind())
          ? Optional.of(runnerId)
          : Optional.empty();
    }
  }

  /**
   * The start failed; everything the client made is already released, and {@link Closed}
   * follows. The same exception is thrown to the caller of {@link PluginClient#start()}.
   *
   * @param source the plugin
   * @param time when
   * @param failure what {@code start()} throws, with the runner's diagnosis in its message
   * @param elapsed from {@link Starting} to the failure
   */
  record StartFailed(Source source, Instant time, RuntimeException failure, Duration elapsed)
      implements PluginEvent {
    /**
     * Checks the components.
     *
     * @param source not null
     * @param time not null
     * @param failure not null
     * @param elapsed not null
     */
    public StartFailed {
      Objects.requireNonNull(source, "source");
      Objects.requireNonNull(time, "time");
      Objects.requireNonNull(failure, "failure");
      Objects.requireNonNull(elapsed, "elapsed");
    }
  }

  /**
   * The client reattached to a plugin that was already running ({@link
   * PluginClient.Builder#reattach}) and it answered its health check.
   *
   * @param source the plugin
   * @param time when
   * @param protocolVersion the app protocol version of the reattach config
   * @param address where the host reaches it
   * @param runnerId the runner's id (process or container id)
   * @param total from {@link Starting} to ready
   */
  record Reattached(
      Source source, Instant time, int protocolVersion, NetAddress address, String runnerId,
      Duration total)
      implements PluginEvent {
    /**
     * Checks the components.
     *
     * @param source not null
     * @param time not null
     * @param protocolVersion the version
     * @param address not null
     * @param runnerId not null
     * @param total not null
     */
    public Reattached {
      Objects.requireNonNull(source, "source");
      Objects.requireNonNull(time, "time");
      Objects.requireNonNull(address, "address");
      Objects.requireNonNull(runnerId, "runnerId");
      Objects.requireNonNull(total, "total");
    }
  }

  /** The level of a {@link Stderr} event. */
  enum Level {
    /** A warning: hclog {@code warn}, or a plain line starting with {@code [WARN]}. */
    WARN,
    /**
     * An error: hclog {@code error}, a plain line starting with {@code [ERROR]}, or a Go panic
     * ({@code panic: }, {@code fatal error: }) and every plain line after it.
     */
    ERROR
  }

  /**
   * The plugin wrote a line at WARN or above to its stderr (levels as the client logs them, see
   * {@link PluginClient.Builder#logger}). Lower levels are not events. A line longer than {@link
   * PluginClient.Builder#logLineBufferSize} gives one event, with its first chunk.
   *
   * @param source the plugin
   * @param time when the client read it
   * @param level WARN or ERROR
   * @param message hclog's {@code @message} for a JSON line, else the line as written
   */
  record Stderr(Source source, Instant time, Level level, String message) implements PluginEvent {
    /**
     * Checks the components.
     *
     * @param source not null
     * @param time not null
     * @param level not null
     * @param message not null
     */
    public Stderr {
      Objects.requireNonNull(source, "source");
      Objects.requireNonNull(time, "time");
      Objects.requireNonNull(level, "level");
      Objects.requireNonNull(message, "message");
    }
  }

  /**
   * The plugin stopped.
   *
   * @param source the plugin
   * @param time when the client saw it
   * @param status the exit status the runner reports: the exit code, 128 + the signal number when
   *     a signal killed it (processes and containers alike), or {@code -1} when unknown (a
   *     reattached process that is not our child, a runner killed before it knew)
   * @param requested whether the client asked for it ({@link PluginClient#close()} or {@link
   *     PluginClient#kill()}); false for a crash or any exit the host did not ask for
   * @param hint what the status usually means (for containers the runner's hint, such as "killed
   *     for exceeding its memory limit"); empty when there is nothing to say
   * @param uptime from {@link Started} or {@link Reattached} to the exit
   */
  record Exited(
      Source source, Instant time, int status, boolean requested, String hint, Duration uptime)
      implements PluginEvent {
    /**
     * Checks the components.
     *
     * @param source not null
     * @param time not null
     * @param status the status, {@code -1} when unknown
     * @param requested whether asked for
     * @param hint not null
     * @param uptime not null
     */
    public Exited {
      Objects.requireNonNull(source, "source");
      Objects.requireNonNull(time, "time");
      Objects.requireNonNull(hint, "hint");
      Objects.requireNonNull(uptime, "uptime");
    }

    /**
     * The signal that killed the plugin, read from a status of 129 to 192 (128 + signal, the
     * convention of shells, the JDK on Linux and container engines).
     *
     * @return the signal number, or empty for a normal exit or an unknown status
     */
    public OptionalInt signal() {
      return status > 128 && status <= 128 + 64 ? OptionalInt.of(status - 128) : OptionalInt.empty();
    }

    /**
     * The exit code of a normal exit.
     *
     * @return the code, or empty when a signal killed the plugin or the status is unknown
     */
    public OptionalInt exitCode() {
      return status < 0 || signal().isPresent() ? OptionalInt.empty() : OptionalInt.of(status);
    }
  }

  /**
   * The client detached ({@link PluginClient#detach()}): it released its own resources and left
   * the plugin running. The last event.
   *
   * @param source the plugin
   * @param time when
   * @param uptime from {@link Started} or {@link Reattached} to the detach
   */
  record Detached(Source source, Instant time, Duration uptime) implements PluginEvent {
    /**
     * Checks the components.
     *
     * @param source not null
     * @param time not null
     * @param uptime not null
     */
    public Detached {
      Objects.requireNonNull(source, "source");
      Objects.requireNonNull(time, "time");
      Objects.requireNonNull(uptime, "uptime");
    }
  }

  /**
   * The client is closed and released every thread, socket, file and directory it made (after
   * {@link PluginClient#close()}, {@link PluginClient#kill()} or a failed start). The last event.
   *
   * @param source the plugin
   * @param time when
   * @param started whether the plugin had started (false after {@link StartFailed})
   * @param closeDuration how long the close took (Shutdown, the wait for the exit, the release);
   *     zero after a failed start
   */
  record Closed(Source source, Instant time, boolean started, Duration closeDuration)
      implements PluginEvent {
    /**
     * Checks the components.
     *
     * @param source not null
     * @param time not null
     * @param started whether the plugin had started
     * @param closeDuration not null
     */
    public Closed {
      Objects.requireNonNull(source, "source");
      Objects.requireNonNull(time, "time");
      Objects.requireNonNull(closeDuration, "closeDuration");
    }
  }
}
