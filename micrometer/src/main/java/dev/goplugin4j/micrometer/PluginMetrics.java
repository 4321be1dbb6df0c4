package dev.goplugin4j.micrometer;

import dev.goplugin4j.host.PluginChannel;
import dev.goplugin4j.host.PluginClient;
import dev.goplugin4j.host.PluginClientDefaults;
import dev.goplugin4j.host.PluginEvent;
import dev.goplugin4j.host.PluginListener;
import dev.goplugin4j.host.PluginSupervisor;
import dev.goplugin4j.host.TransportStats;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall.SimpleForwardingClientCall;
import io.grpc.ForwardingClientCallListener.SimpleForwardingClientCallListener;
import io.grpc.ForwardingServerCall.SimpleForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Micrometer metrics for the plugins of a host: one object that is a {@link PluginListener} (the
 * lifecycle), a gRPC {@link ClientInterceptor} (the calls to the plugin, on the main channel and
 * on every brokered channel), a {@link ServerInterceptor} (the plugin's calls back into the
 * host's brokered servers) and a {@link PluginSupervisor.Listener} (restarts). Make one per
 * registry and give it to every client, most simply with {@link #instrument(PluginClient.Builder)}
 * or {@link #defaults()}:
 *
 * <pre>{@code
 * PluginMetrics metrics = new PluginMetrics(registry);
 * PluginClient kv = metrics.instrument(PluginClient.builder())
 *     .handshake(1, "BASIC_PLUGIN", "hello")
 *     .plugin("kv", new KvPlugin())
 *     .command("./kv-plugin")
 *     .build();
 * }</pre>
 *
 * <h2>Meters</h2>
 *
 * Every meter has the tags {@code plugin} (the client's plugin name, {@link
 * PluginEvent.Source#name()}: the executable's file name) and {@code runner} ({@code process},
 * {@code container} or a custom runner's kind), plus the common tags given to the constructor.
 *
 * <table>
 *   <caption>Meters</caption>
 *   <tr><th>name</th><th>type</th><th>more tags</th><th>what</th></tr>
 *   <tr><td>{@value #LIVE}</td><td>gauge</td><td></td><td>clients started (or reattached)
 *       whose plugin has not exited, detached or been closed</td></tr>
 *   <tr><td>{@value #STARTS}</td><td>counter</td><td>{@code result} ({@code started}, {@code
 *       reattached}, {@code failed}), {@code cause} (the failure's exception class, simple name;
 *       {@code none} on success)</td><td>starts</td></tr>
 *   <tr><td>{@value #START_TIME}</td><td>timer, with a percentile histogram</td><td>{@code
 *       result}</td><td>from the start to ready (or to the failure)</td></tr>
 *   <tr><td>{@value #START_PHASE}</td><td>timer</td><td>{@code phase} (as {@link
 *       PluginEvent.Started#phases()} names it: {@code prepare}, {@code runner start}, {@code
 *       handshake line}, ...)</td><td>each phase of a successful launch</td></tr>
 *   <tr><td>{@value #EXITS}</td><td>counter</td><td>{@code cause} ({@code requested}: the host
 *       closed or killed it; {@code exit}: it exited by itself; {@code signal}: a signal the host
 *       did not send killed it; {@code unknown}: the runner cannot tell), {@code status} (the
 *       exit status, {@code -1} when unknown)</td><td>plugin exits</td></tr>
 *   <tr><td>{@value #STDERR}</td><td>counter</td><td>{@code level} ({@code warn}, {@code
 *       error})</td><td>stderr lines at WARN and above</td></tr>
 *   <tr><td>{@value #RPC}</td><td>timer</td><td>{@code method} (gRPC full method name), {@code
 *       status} (gRPC status code, such as {@code OK}), {@code channel} ({@code main} or {@code
 *       brokered})</td><td>calls the host makes to the plugin, from start to close</td></tr>
 *   <tr><td>{@value #BROKERED_CHANNELS}</td><td>counter</td><td></td><td>brokered channels the
 *       host dialled ({@code GrpcBroker.dial}), counted at their first call</td></tr>
 *   <tr><td>{@value #CALLBACKS}</td><td>timer</td><td>{@code method}, {@code status}</td><td>calls
 *       the plugin makes into servers the host serves through the broker (needs {@link
 *       PluginClient.Builder#serverInterceptors}, which {@link #instrument} sets)</td></tr>
 *   <tr><td>{@value #YAMUX_BYTES}</td><td>function counter, base unit bytes</td><td>{@code
 *       direction} ({@code sent}, {@code received})</td><td>bytes over the multiplexed
 *       connection of the clients given to {@link #bindTransport}</td></tr>
 *   <tr><td>{@value #SUPERVISOR_RESTARTS}</td><td>counter</td><td>({@code plugin} is the
 *       supervisor's name for it; no {@code runner})</td><td>successful restarts by a {@link
 *       PluginSupervisor}</td></tr>
 *   <tr><td>{@value #SUPERVISOR_FAILURES}</td><td>counter</td><td>(as above)</td><td>failures
 *       the supervisor restarts after</td></tr>
 *   <tr><td>{@value #SUPERVISOR_GIVE_UPS}</td><td>counter</td><td>(as above)</td><td>times the
 *       supervisor gave up on a plugin</td></tr>
 * </table>
 *
 * <p>The client's own calls on the main channel (the health check, go-plugin's broker, stdio and
 * controller streams) are not recorded in {@value #RPC}: they are the client's machinery, not the
 * application's calls, and the streams last as long as the plugin.
 *
 * <p><b>Counting live plugins.</b> Events do not name the client they come from, so {@value
 * #LIVE} counts per plugin name and runner: a start adds one; an exit, a detach, or a close
 * without an exit before it removes one. With several clients of one name the count is exact
 * once each is closed; it can be off by one meanwhile only when a test-mode reattached client
 * (closed without an exit) is closed after another client of that name exited.
 *
 * <p><b>Cost.</b> A call costs one registry lookup and a {@link System#nanoTime()} pair (from the
 * registry's clock) when it closes; a client that is not instrumented pays nothing.
 *
 * <p>Thread-safe: one instance serves any number of clients, supervisors and threads.
 */
public final class PluginMetrics
    implements PluginListener, ClientInterceptor, ServerInterceptor, PluginSupervisor.Listener,
        MeterBinder {
  /** Gauge: live plugins. */
  public static final String LIVE = "goplugin4j.plugins.live";
  /** Counter: starts by result and cause. */
  public static final String STARTS = "goplugin4j.plugin.starts";
  /** Timer: start time, with a percentile histogram. */
  public static final String START_TIME = "goplugin4j.plugin.start";
  /** Timer: start phases. */
  public static final String START_PHASE = "goplugin4j.plugin.start.phase";
  /** Counter: exits by cause. */
  public static final String EXITS = "goplugin4j.plugin.exits";
  /** Counter: stderr lines at WARN and above. */
  public static final String STDERR = "goplugin4j.plugin.stderr";
  /** Timer: calls to the plugin. */
  public static final String RPC = "goplugin4j.plugin.rpc";
  /** Counter: brokered channels dialled by the host. */
  public static final String BROKERED_CHANNELS = "goplugin4j.plugin.broker.channels";
  /** Timer: the plugin's calls into the host's brokered servers. */
  public static final String CALLBACKS = "goplugin4j.plugin.callbacks";
  /** Counter: supervisor restarts. */
  public static final String SUPERVISOR_RESTARTS = "goplugin4j.supervisor.restarts";
  /** Counter: failures a supervisor saw (each is followed by a restart). */
  public static final String SUPERVISOR_FAILURES = "goplugin4j.supervisor.failures";
  /** Counter: supervisor give-ups. */
  public static final String SUPERVISOR_GIVE_UPS = "goplugin4j.supervisor.give.ups";
  /** Function counter: bytes over a client's yamux connection (see {@link #bindTransport}). */
  public static final String YAMUX_BYTES = "goplugin4j.plugin.yamux.bytes";

  /** go-plugin's own services and the health service: the client's machinery. */
  private static final Set<String> INTERNAL_SERVICES = Set.of(
      "plugin.GRPCBroker", "plugin.GRPCStdio", "plugin.GRPCController", "grpc.health.v1.Health");

  private final MeterRegistry registry;
  private final Tags commonTags;
  /** Per plugin and runner: clients started and not exited. */
  private final Map<Tags, Live> live = new ConcurrentHashMap<>();
  /** Brokered channels seen; PluginChannel equality is identity, so each channel counts once. */
  private final Set<PluginChannel> brokeredSeen =
      Collections.synchronizedSet(Collections.newSetFromMap(new WeakHashMap<>()));

  /** Per plugin and runner: the yamux bytes of the clients given to {@link #bindTransport}. */
  private final Map<Tags, YamuxBytes> yamux = new ConcurrentHashMap<>();

  /**
   * The bytes of the bound clients of one plugin and runner: the sum over the clients still
   * running plus what those that finished had carried, so each direction only grows while the
   * finished clients' views are let go.
   */
  private static final class YamuxBytes {
    private final List<TransportStats> running = new ArrayList<>();
    private long finishedSent;
    private long finishedReceived;

    synchronized void add(TransportStats stats) {
      running.add(stats);
    }

    synchronized double sent() {
      fold();
      long n = finishedSent;
      for (TransportStats t : running) {
        n += t.bytesSent();
      }
      return n;
    }

    synchronized double received() {
      fold();
      long n = finishedReceived;
      for (TransportStats t : running) {
        n += t.bytesReceived();
      }
      return n;
    }

    private void fold() {
      for (Iterator<TransportStats> it = running.iterator(); it.hasNext(); ) {
        TransportStats t = it.next();
        if (t.finished()) {
          finishedSent += t.bytesSent();
          finishedReceived += t.bytesReceived();
          it.remove();
        }
      }
    }
  }

  /** The live count of one plugin and runner, and exits not yet followed by their close. */
  private static final class Live {
    final AtomicInteger running = new AtomicInteger();
    final AtomicInteger exitedNotClosed = new AtomicInteger();
  }

  /**
   * Metrics into {@code registry}, without common tags.
   *
   * @param registry where the meters go; not null
   */
  public PluginMetrics(MeterRegistry registry) {
    this(registry, Tags.empty());
  }

  /**
   * Metrics into {@code registry}, with tags added to every meter (such as the application's
   * name).
   *
   * @param registry where the meters go; not null
   * @param commonTags added to every meter; not null, may be empty
   */
  public PluginMetrics(MeterRegistry registry, Iterable<Tag> commonTags) {
    this.registry = Objects.requireNonNull(registry, "registry");
    this.commonTags = Tags.of(Objects.requireNonNull(commonTags, "commonTags"));
  }

  /**
   * Does nothing: the meters are registered in the constructor's registry as plugins appear
   * (their tags are known only then). Present so that frameworks that collect {@link
   * MeterBinder}s accept this object.
   *
   * @param registry ignored
   */
  @Override
  public void bindTo(MeterRegistry registry) {
    // meters are made lazily in the constructor's registry
  }

  /**
   * Registers this object on a client builder: as a listener, as a client interceptor on every
   * channel, and as a server interceptor on the host's brokered servers.
   *
   * @param builder not null
   * @return the same builder
   */
  public PluginClient.Builder instrument(PluginClient.Builder builder) {
    return builder.listener(this).interceptors(this).serverInterceptors(this);
  }

  /**
   * Defaults that register this object on every builder made from them, as {@link #instrument}
   * does.
   *
   * @return new defaults
   */
  public PluginClientDefaults defaults() {
    return instrument(PluginClientDefaults.none());
  }

  /**
   * The given defaults plus this object, as {@link #instrument} registers it.
   *
   * @param defaults not null
   * @return new defaults; {@code defaults} is unchanged
   */
  public PluginClientDefaults instrument(PluginClientDefaults defaults) {
    return defaults.withListener(this).withInterceptors(this).withServerInterceptors(this);
  }

  /**
   * Counts the bytes over a client's multiplexed connection into {@value #YAMUX_BYTES}, a
   * function counter with the tag {@code direction} ({@code sent}: host to plugin, {@code
   * received}: plugin to host) besides {@code plugin} and {@code runner}. Counts are yamux
   * frames, headers included ({@link TransportStats}). The clients of one plugin name and runner
   * add up; a closed client's bytes stay counted. Call it once per client, after {@code build()}
   * and before or after {@code start()}; a client without the multiplexed broker ({@link
   * PluginClient#transportStats()} empty) is returned unchanged and counted nowhere. Reading the
   * meter costs a sum over the bound clients still running.
   *
   * <pre>{@code
   * PluginClient kv = metrics.bindTransport(metrics.instrument(PluginClient.builder())
   *     .multiplexBroker(true)
   *     ...
   *     .build());
   * }</pre>
   *
   * @param client not null
   * @return {@code client}
   */
  public PluginClient bindTransport(PluginClient client) {
    Objects.requireNonNull(client, "client");
    client.transportStats().ifPresent(stats -> {
      Tags tags = sourceTags(stats.source());
      yamux.computeIfAbsent(tags, t -> {
        YamuxBytes bytes = new YamuxBytes();
        FunctionCounter.builder(YAMUX_BYTES, bytes, YamuxBytes::sent)
            .description("Bytes over a plugin's multiplexed (yamux) connection")
            .baseUnit("bytes").tags(t).tag("direction", "sent").register(registry);
        FunctionCounter.builder(YAMUX_BYTES, bytes, YamuxBytes::received)
            .description("Bytes over a plugin's multiplexed (yamux) connection")
            .baseUnit("bytes").tags(t).tag("direction", "received").register(registry);
        return bytes;
      }).add(stats);
    });
    return client;
  }

  // ------------------------------------------------------------------ lifecycle events

  /**
   * Records a client's event; see the class comment for the meters.
   *
   * @param event not null
   */
  @Override
  public void onEvent(PluginEvent event) {
    Tags source = sourceTags(event.source());
    if (event instanceof PluginEvent.Started s) {
      started(source, "started", s.total());
      s.phases().forEach((phase, d) ->
          Timer.builder(START_PHASE).description("A phase of a plugin's start")
              .tags(source).tag("phase", phase).register(registry).record(d));
    } else if (event instanceof PluginEvent.Reattached r) {
      started(source, "reattached", r.total());
    } else if (event instanceof PluginEvent.StartFailed f) {
      Counter.builder(STARTS).description("Plugin starts").tags(source)
          .tag("result", "failed").tag("cause", f.failure().getClass().getSimpleName())
          .register(registry).increment();
      startTimer(source, "failed").record(f.elapsed());
    } else if (event instanceof PluginEvent.Exited x) {
      Counter.builder(EXITS).description("Plugin exits").tags(source)
          .tag("cause", exitCause(x)).tag("status", Integer.toString(x.status()))
          .register(registry).increment();
      Live l = live(source);
      l.running.decrementAndGet();
      l.exitedNotClosed.incrementAndGet();
    } else if (event instanceof PluginEvent.Closed c) {
      if (c.started()) {
        Live l = live(source);
        if (l.exitedNotClosed.getAndUpdate(n -> n > 0 ? n - 1 : 0) == 0) {
          l.running.decrementAndGet();
        }
      }
    } else if (event instanceof PluginEvent.Detached) {
      live(source).running.decrementAndGet();
    } else if (event instanceof PluginEvent.Stderr e) {
      Counter.builder(STDERR).description("Plugin stderr lines at WARN and above").tags(source)
          .tag("level", e.level() == PluginEvent.Level.WARN ? "warn" : "error")
          .register(registry).increment();
    }
  }

  private void started(Tags source, String result, Duration total) {
    Counter.builder(STARTS).description("Plugin starts").tags(source)
        .tag("result", result).tag("cause", "none").register(registry).increment();
    startTimer(source, result).record(total);
    live(source).running.incrementAndGet();
  }

  private Timer startTimer(Tags source, String result) {
    return Timer.builder(START_TIME).description("Time from a plugin's start to ready or failure")
        .tags(source).tag("result", result)
        .publishPercentileHistogram()
        .minimumExpectedValue(Duration.ofMillis(10))
        .maximumExpectedValue(Duration.ofMinutes(2))
        .register(registry);
  }

  private static String exitCause(PluginEvent.Exited x) {
    if (x.requested()) {
      return "requested";
    }
    if (x.signal().isPresent()) {
      return "signal";
    }
    return x.status() < 0 ? "unknown" : "exit";
  }

  private Live live(Tags source) {
    return live.computeIfAbsent(source, t -> {
      Live l = new Live();
      Gauge.builder(LIVE, l.running, AtomicInteger::get)
          .description("Plugins started and not yet exited, detached or closed")
          .tags(t).strongReference(true).register(registry);
      return l;
    });
  }

  private Tags sourceTags(PluginEvent.Source source) {
    return commonTags.and("plugin", source.name(), "runner", source.runnerKind());
  }

  // ------------------------------------------------------------------ supervisor events

  /**
   * Records a supervisor's event: restarts, failures and give-ups.
   *
   * @param event not null
   */
  @Override
  public void onEvent(PluginSupervisor.Event event) {
    String name;
    String description;
    if (event instanceof PluginSupervisor.Restarted) {
      name = SUPERVISOR_RESTARTS;
      description = "Plugins a supervisor started again";
    } else if (event instanceof PluginSupervisor.Restarting) {
      name = SUPERVISOR_FAILURES;
      description = "Plugin failures a supervisor restarts after";
    } else if (event instanceof PluginSupervisor.GaveUp) {
      name = SUPERVISOR_GIVE_UPS;
      description = "Plugins a supervisor gave up on";
    } else {
      return;
    }
    Counter.builder(name).description(description).tags(commonTags)
        .tag("plugin", event.pluginName()).register(registry).increment();
  }

  // ------------------------------------------------------------------ calls to the plugin

  /**
   * Times the call into {@value #RPC} when it closes, unless it is one of the client's own
   * calls; counts a brokered channel at its first call.
   */
  @Override
  public <Q, A> ClientCall<Q, A> interceptCall(
      MethodDescriptor<Q, A> method, CallOptions options, Channel next) {
    ClientCall<Q, A> call = next.newCall(method, options);
    if (INTERNAL_SERVICES.contains(method.getServiceName())) {
      return call;
    }
    PluginChannel channel = options.getOption(PluginChannel.CALL_OPTION);
    Tags tags = channel == null
        ? commonTags.and("plugin", "unknown", "runner", "unknown", "channel", "main")
        : commonTags.and("plugin", channel.pluginName(), "runner", channel.runnerKind(),
            "channel", channel.brokered() ? "brokered" : "main");
    if (channel != null && channel.brokered() && brokeredSeen.add(channel)) {
      Counter.builder(BROKERED_CHANNELS).description("Brokered channels the host dialled")
          .tags(commonTags).tag("plugin", channel.pluginName()).tag("runner", channel.runnerKind())
          .register(registry).increment();
    }
    String fullName = method.getFullMethodName();
    return new SimpleForwardingClientCall<>(call) {
      @Override
      public void start(Listener<A> listener, Metadata headers) {
        Timer.Sample sample = Timer.start(registry);
        super.start(new SimpleForwardingClientCallListener<>(listener) {
          @Override
          public void onClose(Status status, Metadata trailers) {
            sample.stop(Timer.builder(RPC).description("Calls to a plugin")
                .tags(tags).tag("method", fullName).tag("status", status.getCode().name())
                .register(registry));
            super.onClose(status, trailers);
          }
        }, headers);
      }
    };
  }

  // ------------------------------------------------------------------ the plugin's calls back

  /** Times a call the plugin makes into a brokered server of the host into {@value #CALLBACKS}. */
  @Override
  public <Q, A> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, A> call, Metadata headers, ServerCallHandler<Q, A> next) {
    Tags tags = PluginChannel.current()
        .map(c -> commonTags.and("plugin", c.pluginName(), "runner", c.runnerKind()))
        .orElse(commonTags.and("plugin", "unknown", "runner", "unknown"))
        .and("method", call.getMethodDescriptor().getFullMethodName());
    Timer.Sample sample = Timer.start(registry);
    return next.startCall(new SimpleForwardingServerCall<>(call) {
      @Override
      public void close(Status status, Metadata trailers) {
        sample.stop(Timer.builder(CALLBACKS)
            .description("Calls a plugin makes into the host's brokered servers")
            .tags(tags).tag("status", status.getCode().name()).register(registry));
        super.close(status, trailers);
      }
    }, headers);
  }

  @Override
  public String toString() {
    return "PluginMetrics[" + registry.getClass().getSimpleName() + ", " + commonTags + "]";
  }
}
