package dev.goplugin4j.host.internal.client;

import static dev.goplugin4j.host.internal.client.Cleanup.quietly;
import static dev.goplugin4j.host.internal.client.RunnerStart.since;

import dev.goplugin4j.host.AttachedRunner;
import dev.goplugin4j.host.GrpcPlugin;
import dev.goplugin4j.host.PluginClient;
import dev.goplugin4j.host.PluginCommand;
import dev.goplugin4j.host.PluginEvent;
import dev.goplugin4j.host.PluginListener;
import dev.goplugin4j.host.PluginStartException;
import dev.goplugin4j.host.ReattachConfig;
import dev.goplugin4j.host.Reattacher;
import dev.goplugin4j.host.Runner;
import dev.goplugin4j.host.TransportStats;
import dev.goplugin4j.host.internal.events.EventDispatcher;
import dev.goplugin4j.host.internal.log.StderrPump;
import dev.goplugin4j.host.internal.process.Checksums;
import dev.goplugin4j.host.internal.process.ProcessReattacher;
import dev.goplugin4j.host.internal.process.ProcessRunner;
import dev.goplugin4j.protocol.AutoMtlsCertificate;
import dev.goplugin4j.protocol.GrpcBroker;
import dev.goplugin4j.protocol.Handshake;
import dev.goplugin4j.protocol.NetAddress;
import dev.goplugin4j.protocol.PluginException;
import dev.goplugin4j.protocol.internal.broker.BrokerImpl;
import dev.goplugin4j.protocol.internal.proto.ConnInfo;
import dev.goplugin4j.protocol.internal.tls.TlsWarmUp;
import dev.goplugin4j.protocol.internal.transport.GrpcTransport;
import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The state machine behind {@link PluginClient}: NEW → RUNNING → CLOSED (or NEW → CLOSED on a
 * failed start). Every resource it makes is recorded in a field and released by {@link
 * #teardown}, whichever path we leave by.
 *
 * <p>It coordinates the lifecycle (start, use, stop) under its lock; the phases of a start live
 * in their own classes: {@link LaunchEnvironment} (socket dir, environment, host certificate),
 * {@link RunnerStart} (runner start, phase timings), {@link HandshakeLineReader} (stdout and the
 * handshake line), {@link Negotiation} (handshake and reattach checks), {@link AddressChecks},
 * {@link Connector} (TLS, channel or muxer, readiness) and {@link BrokerAndStdio}; {@link
 * SessionResources} holds what a start makes and releases it (stop phase), {@link Cleanup} the
 * teardown steps (graceful shutdown included) and {@link ExitEvents} the Exited event. Each
 * phase words its failures through {@link #failure} ({@link FailureDiagnosis}).
 */
public final class ClientSession {
  private static final Logger log = LoggerFactory.getLogger(PluginClient.class);
  /** What a plugin's name loses in its logger's name; compiled once, not at every client. */
  private static final Pattern NOT_IN_LOGGER_NAME = Pattern.compile("[^A-Za-z0-9_-]");

  private enum State {
    NEW,
    RUNNING,
    CLOSED
  }

  private final PluginClient.Config config;
  private final String name;
  private final Logger pluginLog;
  private final Object lock = new Object();
  /** The client's listeners; events are made only when it is active. */
  private final EventDispatcher events;
  private final PluginEvent.Source source;
  /** The single Exited event, whichever thread sees the exit. */
  private final ExitEvents exitEvents;
  private long startingNanos;
  private volatile long startedNanos;
  private Map<String, Duration> startPhases = Map.of();

  private State state = State.NEW;
  /** Closes this client if the JVM exits while it is open; null when off or not started. */
  private JvmExitHook exitHook; // guarded by lock
  private volatile boolean exited;
  private volatile boolean closing;

  /** Everything a start makes; released by {@link #teardown}. Guarded by lock. */
  private final SessionResources res = new SessionResources();
  private NetAddress address;
  private int version;
  private Map<String, GrpcPlugin<?>> pluginSet;
  private ReattachConfig reattachConfig;
  /** Bytes over the yamux session; null unless multiplexed. */
  private final MuxTransportStats transportStats;

  public ClientSession(PluginClient.Config config) {
    this.config = config;
    this.name = config.pluginName();
    this.pluginLog =
        config.logger() != null
            ? config.logger()
            : LoggerFactory.getLogger(
                "goplugin4j.plugin." + NOT_IN_LOGGER_NAME.matcher(name).replaceAll("_"));
    this.events = new EventDispatcher(config.listeners());
    String kind =
        config.reattach() != null ? config.reattach().runnerKind()
            : config.runnerFactory() != null ? config.runnerFactory().kind()
            : ReattachConfig.KIND_PROCESS;
    this.source = new PluginEvent.Source(name, config.command(), kind);
    this.transportStats = config.multiplexBroker() ? new MuxTransportStats(source) : null;
    this.exitEvents = new ExitEvents(events, source, () -> closing, this::uptime);
  }

  // ---------------------------------------------------------------------------------------------
  // events

  public void addListener(PluginListener listener) {
    events.add(listener);
  }

  public boolean removeListener(PluginListener listener) {
    return events.remove(listener);
  }

  private Duration uptime() {
    long s = startedNanos;
    return s == 0 ? Duration.ZERO : since(s, System.nanoTime());
  }

  private void onStderrLine(org.slf4j.event.Level level, String message) {
    if (!events.active()) {
      return;
    }
    events.fire(new PluginEvent.Stderr(source, Instant.now(),
        level == org.slf4j.event.Level.ERROR ? PluginEvent.Level.ERROR : PluginEvent.Level.WARN,
        message));
  }

  // ---------------------------------------------------------------------------------------------
  // start

  public void start() {
    try {
      startLocked();
    } finally {
      events.flush();
    }
  }

  private void startLocked() {
    synchronized (lock) {
      if (state == State.RUNNING) {
        return;
      }
      if (state == State.CLOSED) {
        throw new IllegalStateException("the plugin client is closed; build a new one");
      }
      startingNanos = System.nanoTime();
      if (events.active()) {
        events.fire(new PluginEvent.Starting(source, Instant.now(), config.reattach() != null));
      }
      if (config.closeOnJvmExit() && exitHook == null) {
        // before the plugin exists: an exit during the start waits for it, then closes
        exitHook = JvmExitHook.register(name, () -> close(true, true));
        if (exitHook == null) {
          throw new PluginStartException("not starting plugin " + name + ": the JVM is exiting,"
              + " and a plugin started now would outlive it (its exit hooks already run). Start"
              + " plugins before the exit, or build the client with closeOnJvmExit(false) to start"
              + " one that is meant to outlive this JVM");
        }
      }
      try {
        if (config.reattach() != null) {
          doReattach();
        } else {
          doLaunch();
        }
        state = State.RUNNING;
      } catch (RuntimeException | Error e) {
        state = State.CLOSED;
        removeExitHook();
        teardown(true, true);
        if (events.active()) {
          RuntimeException failure = e instanceof RuntimeException re ? re
              : new PluginStartException("the start of plugin " + name + " failed: " + e, e);
          events.post(new PluginEvent.StartFailed(source, Instant.now(), failure,
              since(startingNanos, System.nanoTime())));
          events.post(new PluginEvent.Closed(source, Instant.now(), false, Duration.ZERO));
        }
        throw e;
      }
      startedNanos = System.nanoTime();
      if (events.active()) {
        AttachedRunner r = res.runner;
        String id = r == null ? "" : r.id();
        if (config.reattach() != null) {
          events.post(new PluginEvent.Reattached(source, Instant.now(), version, address, id,
              since(startingNanos, startedNanos)));
        } else {
          events.post(new PluginEvent.Started(source, Instant.now(), version, Handshake.GRPC,
              address, id, startPhases, since(startingNanos, startedNanos)));
        }
      }
      exitEvents.watch(res.runner);
    }
  }

  private void doLaunch() {
    long t0 = System.nanoTime();
    long deadline = t0 + config.startTimeout().toNanos();
    res.initExecutors(name);
    res.socketDir = LaunchEnvironment.createSocketDir(config);
    res.deleteSocketDir = true;
    res.hostCert = LaunchEnvironment.hostCertificate(config);
    if (res.hostCert != null && TlsWarmUp.pending()) {
      // the JVM's first AutoMTLS start: load the TLS code on another thread while the plugin starts
      AutoMtlsCertificate own = res.hostCert;
      res.grpcExecutor.execute(() -> TlsWarmUp.runOnce(own));
    }
    Map<String, String> env = LaunchEnvironment.pluginEnv(config, res.socketDir, res.hostCert);
    long tPrepared = System.nanoTime();
    if (config.sha256() != null) {
      Checksums.verify(LaunchEnvironment.resolveExecutable(config.command().get(0)),
          HexFormat.of().parseHex(config.sha256()));
    }
    PluginCommand command = new PluginCommand(config.command(), env);
    Runner r =
        config.runnerFactory() != null
            ? config.runnerFactory().create(command, res.socketDir)
            // the owner record is written on the pool while the plugin starts (1-3 ms of file I/O)
            : new ProcessRunner(command, null, res.grpcExecutor);
    res.runner = r;
    RunnerStart.startRunner(config, r, deadline, res.grpcExecutor, this::failure);
    long tRunner = System.nanoTime();
    log.debug("started plugin {} ({}), id {}", name, r.name(), r.id());

    res.stderrPump = StderrPump.start(name, r.stderr(), pluginLog, config.stderr(),
        config.logLineBufferSize(), this::onStderrLine);

    HandshakeLineReader stdout =
        new HandshakeLineReader(r, pluginLog, () -> closing, config.startTimeout(), this::failure);
    res.stdoutThread = newThread("goplugin4j-stdout-" + name, stdout::readStdout);
    res.stdoutThread.start();
    // the event loops only now: in a fresh JVM making them (Netty's platform set-up, its epoll
    // library) takes tens of milliseconds, which the plugin's own start hides from here on
    res.eventLoops();

    String line = stdout.awaitHandshakeLine(deadline);
    long tLine = System.nanoTime();
    Handshake h = stdout.parseHandshake(line);
    Negotiation.Negotiated n = Negotiation.negotiate(config, name, h, r, this::failure);
    res.pluginCertBase64 = n.pluginCertBase64();
    res.pluginCert = n.pluginCert();
    version = n.version();
    pluginSet = n.pluginSet();
    address = AddressChecks.checkAddress(r.pluginToHost(h.address()), res.socketDir,
        config.allowNonLoopbackTcp(), "its handshake line", r, this::failure);
    long tNegotiated = System.nanoTime();
    long[] connected = connect(deadline, r, false);
    if (r instanceof ProcessRunner pr) {
      // done long ago in practice; a started client's socket dir names its plugin, as before
      pr.ownerRecorded().join();
    }
    reattachConfig = res.reattachConfig(r, version, address, config.multiplexBroker());
    r.onExit().thenAccept(this::onPluginExit);
    long end = System.nanoTime();
    startPhases = RunnerStart.phases(name, t0, tPrepared, tRunner, tLine, tNegotiated,
        connected[0], connected[1], end);
  }

  private void doReattach() {
    ReattachConfig rc = config.reattach();
    Reattacher reattacher =
        config.reattacher() != null ? config.reattacher() : new ProcessReattacher();
    // before the reattacher runs: a refused config touches no process or container
    Negotiation.checkReattachProtocol(config, rc);
    // before the reattacher runs: a config that points elsewhere touches no process or container
    Path ownDir = AddressChecks.checkReattachAddress(rc, config.allowNonLoopbackTcp());
    long deadline = System.nanoTime() + config.startTimeout().toNanos();
    res.initExecutors(name);
    if (ownDir != null) {
      res.socketDir = ownDir;
    }
    try {
      res.runner = reattacher.reattach(rc);
    } catch (RuntimeException | Error e) {
      // the plugin is gone (or is not ours): its socket dir is only worth keeping while it serves
      res.deleteSocketDir = ownDir != null && AddressChecks.nobodyServes(rc.address());
      if (res.deleteSocketDir) {
        log.debug("reattach of plugin {} failed and nothing serves {}: removing its socket"
            + " directory {}", name, rc.address(), ownDir);
      }
      throw e;
    }
    version = rc.protocolVersion();
    pluginSet = config.versionedPlugins().get(version);
    Negotiation.checkReattached(config, rc, pluginSet);
    if (rc.autoMtls()) {
      res.hostCert = AutoMtlsCertificate.fromPem(rc.hostCertificate(), rc.hostPrivateKey());
      res.pluginCertBase64 = rc.pluginCertificate();
      res.pluginCert = AutoMtlsCertificate.parseBase64Der(res.pluginCertBase64);
    }
    res.deleteSocketDir = ownDir != null;
    address = rc.address();
    connect(deadline, res.runner, true);
    reattachConfig = rc;
    res.runner.onExit().thenAccept(this::onPluginExit);
  }

  /**
   * Connects, starts the broker and stdio streams, and proves the plugin's gRPC server reachable.
   * Each resource goes into its field as soon as it exists, so that teardown releases it
   * whichever way the start fails.
   *
   * <p>A launch opens the streams with the channel, as go-plugin's host does: they go out with
   * the connection's first bytes while this thread waits for the channel to be READY (no health
   * RPC; ~1.5 ms less of a warm host's start, A/B). A reattach keeps its health RPC first: there
   * the process on the other end is not one we just started.
   *
   * @return the {@link System#nanoTime()} readings after the channel was built and after the
   *     streams were opened (phase timings)
   */
  private long[] connect(long deadline, AttachedRunner r, boolean reattach) {
    EventLoopGroup group = res.eventLoops();
    Connector connector =
        new Connector(config, name, address, group, res.grpcExecutor, this::failure);
    Connector.Tls tls = connector.tls(res.hostCert, res.pluginCert);
    Consumer<NettyChannelBuilder> tune = connector.tune();
    if (config.multiplexBroker()) {
      res.muxer = connector.connectMuxer(deadline, r);
      transportStats.attach(res.muxer.session());
      res.channel = res.muxer.mainChannel(tls.client(), tune);
    } else {
      res.channel = GrpcTransport.channel(address, tls.client(), group, tune);
    }
    if (!reattach) {
      // the event loop connects while this thread makes the broker and opens the streams
      res.channel.getState(true);
    }
    long channelBuilt = System.nanoTime();
    BrokerAndStdio streams = new BrokerAndStdio(config, name, () -> closing, () -> exited);
    if (reattach) {
      connector.healthCheck(res.channel, deadline, r);
    }
    res.broker = streams.newBroker(this::sendBrokerMessage, tls.server(), tls.client(), r,
        res.socketDir, group, res.muxer, res.timer, tune);
    // the first brokered server binds on the timer meanwhile: a plugin's first callback finds it
    res.broker.startSpare();
    openStreams(streams);
    long streamsOpened = System.nanoTime();
    if (!reattach && !connector.awaitReachable(res.channel, deadline, r)) {
      // the first connection failed and a health check's retry found the plugin: the streams
      // opened with that connection failed with it
      reopenStreams(streams);
    }
    return new long[] {channelBuilt, streamsOpened};
  }

  private void openStreams(BrokerAndStdio streams) {
    res.brokerOut = streams.openBrokerStream(res.channel, res.broker);
    res.stdioContext = Context.current().withCancellation();
    ManagedChannel ch = res.channel;
    res.stdioContext.run(() -> streams.streamStdio(ch));
  }

  private void reopenStreams(BrokerAndStdio streams) {
    log.debug("plugin {} answered on a later connection: opening its broker and stdio streams"
        + " again", name);
    res.stdioContext.cancel(null);
    if (res.brokerOut instanceof ClientCallStreamObserver<ConnInfo> failed) {
      failed.cancel("opened again on a new connection", null);
    }
    openStreams(streams);
  }

  private void sendBrokerMessage(ConnInfo msg) {
    StreamObserver<ConnInfo> out = res.brokerOut;
    if (out == null) {
      throw new PluginException("the broker stream of plugin " + name + " is closed");
    }
    out.onNext(msg);
  }

  private void onPluginExit(Integer code) {
    exited = true;
    if (!closing) {
      log.debug("plugin {} exited with status {}", name, code);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // use

  public <T> T dispense(String pluginName, Class<T> type) {
    start();
    GrpcPlugin<?> p;
    ManagedChannel ch;
    BrokerImpl b;
    int v;
    synchronized (lock) {
      if (state != State.RUNNING) {
        throw new IllegalStateException("the plugin client is closed");
      }
      p = pluginSet.get(pluginName);
      ch = res.channel;
      b = res.broker;
      v = version;
    }
    if (p == null) {
      throw new PluginException("unknown plugin type \"" + pluginName + "\"; protocol version "
          + version + " has " + new TreeSet<>(pluginSet.keySet()));
    }
    Object client = p.client(ch, b, v);
    if (!type.isInstance(client)) {
      throw new PluginException("plugin \"" + pluginName + "\" gave a "
          + (client == null ? "null" : client.getClass().getName()) + ", not a " + type.getName()
          + "; check the GrpcPlugin registered under that name");
    }
    return type.cast(client);
  }

  public GrpcBroker broker() {
    synchronized (lock) {
      if (state != State.RUNNING) {
        throw new IllegalStateException("the plugin client is not running; call start() first");
      }
      return res.broker;
    }
  }

  public void ping() {
    ManagedChannel ch;
    synchronized (lock) {
      if (state != State.RUNNING) {
        throw new IllegalStateException("the plugin client is not running; call start() first");
      }
      ch = res.channel;
    }
    try {
      HealthCheckResponse r = HealthGrpc.newBlockingStub(ch).withDeadlineAfter(5, TimeUnit.SECONDS)
          .check(HealthCheckRequest.newBuilder().setService("plugin").build());
      if (r.getStatus() != HealthCheckResponse.ServingStatus.SERVING) {
        throw new PluginException("plugin " + name + " is " + r.getStatus());
      }
    } catch (StatusRuntimeException e) {
      throw new PluginException("plugin " + name + " does not answer its health check: " + e.getStatus(), e);
    }
  }

  public Optional<Integer> negotiatedVersion() {
    synchronized (lock) {
      return state == State.NEW || pluginSet == null ? Optional.empty() : Optional.of(version);
    }
  }

  public Optional<ReattachConfig> reattachConfig() {
    synchronized (lock) {
      return Optional.ofNullable(reattachConfig);
    }
  }

  public boolean exited() {
    return exited || state == State.CLOSED;
  }

  public Optional<TransportStats> transportStats() {
    return Optional.ofNullable(transportStats);
  }

  public String describe() {
    synchronized (lock) {
      return name + ", " + state.name().toLowerCase(java.util.Locale.ROOT)
          + (res.runner != null ? ", id " + res.runner.id()
              : res.runnerId != null ? ", id " + res.runnerId : "")
          + (address != null ? ", at " + address : "");
    }
  }

  // ---------------------------------------------------------------------------------------------
  // stop

  public void close(boolean graceful, boolean kill) {
    try {
      closeLocked(graceful, kill);
    } finally {
      events.flush();
    }
  }

  private void closeLocked(boolean graceful, boolean kill) {
    synchronized (lock) {
      if (state == State.CLOSED) {
        return;
      }
      boolean wasRunning = state == State.RUNNING;
      state = State.CLOSED;
      removeExitHook();
      if (!wasRunning) {
        if (transportStats != null && res.muxer == null) {
          transportStats.finish(); // never connected: nothing will be counted
        }
        return;
      }
      boolean testMode = reattachConfig != null && reattachConfig.test();
      // from here on, streams ending because the plugin leaves are expected, not failures
      closing = true;
      long closeStart = System.nanoTime();
      AttachedRunner r = res.runner;
      if (graceful && !exited && !testMode) {
        Cleanup.shutdownGracefully(name, res.channel, res.runner);
      }
      teardown(!testMode && kill, !testMode);
      if (events.active()) {
        if (!testMode && kill) {
          exitEvents.postRequestedExit(r);
        }
        events.post(new PluginEvent.Closed(source, Instant.now(), true,
            since(closeStart, System.nanoTime())));
      }
    }
  }

  public void detach() {
    try {
      detachLocked();
    } finally {
      events.flush();
    }
  }

  private void detachLocked() {
    synchronized (lock) {
      if (state == State.CLOSED) {
        return;
      }
      state = State.CLOSED;
      removeExitHook();
      if (res.muxer != null) {
        log.warn("detaching from plugin {}, which uses the multiplexed broker: go-plugin serves only"
            + " its first host connection on a multiplexed socket and exits when it closes, so no"
            + " later host can reattach; use multiplexBroker(false) for plugins you detach", name);
      }
      AttachedRunner r = res.runner;
      teardown(false, false);
      if (r != null) {
        // the plugin keeps running; only this JVM's threads and connections for it go
        quietly(r::release);
      }
      if (events.active() && startedNanos != 0) {
        events.post(new PluginEvent.Detached(source, Instant.now(), uptime()));
      }
    }
  }

  private void removeExitHook() {
    if (exitHook != null) {
      exitHook.remove();
      exitHook = null;
    }
  }

  /** Releases everything ({@link SessionResources#release}), then forgets it. */
  private void teardown(boolean killPlugin, boolean removeSocketDir) {
    closing = true;
    res.release(killPlugin, removeSocketDir, transportStats);
    exited = exited || killPlugin;
    res.dropReferences(name);
  }

  // ---------------------------------------------------------------------------------------------
  // diagnosis

  private String failure(String what, AttachedRunner r) {
    return FailureDiagnosis.describe(what, r, res.stderrPump);
  }

  private static Thread newThread(String name, Runnable r) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    return t;
  }
}
