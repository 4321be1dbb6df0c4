package dev.goplugin4j.server.internal.serve;

import dev.goplugin4j.protocol.Handshake;
import dev.goplugin4j.protocol.NetAddress;
import dev.goplugin4j.protocol.PluginEnv;
import dev.goplugin4j.protocol.internal.broker.BrokerImpl;
import dev.goplugin4j.protocol.internal.proto.Empty;
import dev.goplugin4j.protocol.internal.proto.GRPCControllerGrpc;
import dev.goplugin4j.protocol.internal.proto.StdioData;
import dev.goplugin4j.server.internal.tls.SelfSignedCertificate;
import dev.goplugin4j.protocol.internal.transport.GrpcTransport;
import dev.goplugin4j.server.GrpcServerPlugin;
import dev.goplugin4j.server.NotLaunchedByHostException;
import dev.goplugin4j.server.PluginServeException;
import dev.goplugin4j.server.ServeConfig;
import dev.goplugin4j.server.internal.log.JulBridge;
import dev.goplugin4j.server.internal.serve.ServeSetup.Negotiated;
import dev.goplugin4j.server.internal.serve.ServeSetup.TlsSetup;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import dev.goplugin4j.protocol.internal.yamux.YamuxGrpc;
import dev.goplugin4j.protocol.internal.yamux.YamuxGrpc.YamuxGrpcServer;
import io.grpc.netty.shaded.io.netty.channel.Channel;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import io.grpc.stub.StreamObserver;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One run of a plugin server: NEW → SERVING → STOPPING → STOPPED (or NEW → STOPPED on a failed
 * start). {@link #start()} does everything up to and including the handshake line; {@link
 * #stop(String)} (from {@code GRPCController/Shutdown}, SIGTERM, the host watch or the owner) ends
 * it. Every resource it makes is a field released by {@link #cleanup}, whichever way we leave.
 * This class keeps that sequence, the state and the resources; the pieces a start builds (version,
 * TLS, services, broker, listeners, threads) come from {@link ServeSetup}.
 *
 * <p>Environment, stdout and whether to take over the process (redirect {@code System.out/err},
 * signals, shutdown hook, host watch) come from {@link Io}, so tests can run servers in-process.
 */
public final class ServerRuntime {
  /** The server's own services; user services must not reuse these names. */
  static final List<String> RESERVED_SERVICES =
      List.of("plugin.GRPCBroker", "plugin.GRPCController", "plugin.GRPCStdio", "grpc.health.v1.Health",
          "grpc.reflection.v1.ServerReflection");

  /** go-plugin's health service name. */
  public static final String HEALTH_SERVICE = "plugin";

  /** How long queued stdio may take to reach the host at shutdown. */
  private static final long STDIO_DRAIN_MILLIS = 200;

  /**
   * The process around the server.
   *
   * @param env the environment to read ({@code System.getenv()} for a real plugin)
   * @param stdout where the handshake line goes (file descriptor 1 for a real plugin)
   * @param takeOverProcess redirect {@code System.out/err}, ignore SIGINT, stop on SIGTERM and
   *     when the host exits, bridge java.util.logging
   */
  public record Io(Map<String, String> env, OutputStream stdout, boolean takeOverProcess) {
    /** The real process: environment, file descriptor 1, take-over on. */
    public static Io process() {
      return new Io(System.getenv(), new FileOutputStream(FileDescriptor.out), true);
    }
  }

  private enum State {
    NEW,
    SERVING,
    STOPPING,
    STOPPED
  }

  private final ServeConfig config;
  private final Io io;
  private final Logger log;
  private final Object lock = new Object();
  private final CountDownLatch terminated = new CountDownLatch(1);

  private State state = State.NEW;
  private String stopReason;

  // resources, released by cleanup()
  private StdioForwarder stdio;
  private PrintStream savedOut;
  private PrintStream savedErr;
  private EventLoopGroup group;
  private ExecutorService executor;
  private ScheduledExecutorService timer;
  private HealthStatusManager health;
  private BrokerStreamService brokerStream;
  private BrokerImpl broker;
  private InFlightCalls inFlight;
  private Server server;
  private Channel listener;
  private SessionMuxer sessionMuxer;
  private Path socketFile;
  private ScheduledFuture<?> hostWatch;
  private Thread shutdownHook;

  // results
  private Handshake handshake;
  private volatile SelfSignedCertificate ownCertificate;

  /**
   * @param config what to serve
   * @param io the process around the server
   */
  public ServerRuntime(ServeConfig config, Io io) {
    this.config = config;
    this.io = io;
    this.log = config.logger().orElseGet(() -> LoggerFactory.getLogger("dev.goplugin4j.server.PluginServer"));
  }

  // ---------------------------------------------------------------------------------------------
  // start

  /**
   * Checks the cookie, negotiates, listens and prints the handshake line.
   *
   * @return the handshake printed
   * @throws NotLaunchedByHostException if the magic cookie is missing or wrong
   * @throws PluginServeException if serving cannot start; everything made so far is released
   */
  public Handshake start() {
    synchronized (lock) {
      if (state != State.NEW) {
        throw new IllegalStateException("a server runtime starts once");
      }
      String cookie = io.env().get(config.magicCookieKey());
      if (!config.magicCookieValue().equals(cookie)) {
        state = State.STOPPED;
        terminated.countDown();
        throw new NotLaunchedByHostException(config.magicCookieKey());
      }
      try {
        if (io.takeOverProcess()) {
          takeOverStdio();
        }
        doStart();
        state = State.SERVING;
        return handshake;
      } catch (RuntimeException | Error e) {
        state = State.STOPPED;
        cleanup(true);
        terminated.countDown();
        if (e instanceof PluginServeException || e instanceof Error) {
          throw e;
        }
        throw new PluginServeException("the plugin server failed to start: " + e, e);
      }
    }
  }

  private void takeOverStdio() {
    stdio = new StdioForwarder(log);
    savedOut = System.out;
    savedErr = System.err;
    // Whatever user code printed before serve() goes out first, as Go's unbuffered writes would.
    savedOut.flush();
    savedErr.flush();
    System.setOut(new PrintStream(stdio.stream(StdioData.Channel.STDOUT), true, StandardCharsets.UTF_8));
    System.setErr(new PrintStream(stdio.stream(StdioData.Channel.STDERR), true, StandardCharsets.UTF_8));
  }

  private void doStart() {
    Map<String, String> env = io.env();
    ServeSetup.avoidMacAddressLookup();
    Negotiated negotiated = ServeSetup.negotiateVersion(config, log, env);
    int version = negotiated.version();
    Map<String, GrpcServerPlugin> plugins = config.versionedPlugins().get(version);

    // TLS set-up (key generation, JDK TLS initialisation) is the slowest part of a start: run it
    // beside the gRPC set-up and the main server's bind, and join before the broker and the
    // handshake line.
    CompletableFuture<TlsSetup> tlsFuture = new CompletableFuture<>();
    Thread tlsThread = new Thread(() -> {
      try {
        tlsFuture.complete(ServeSetup.setUpTls(config, log, env, own -> ownCertificate = own));
      } catch (Throwable t) {
        tlsFuture.completeExceptionally(t);
      }
    }, "plugin-tls-setup");
    tlsThread.setDaemon(true);
    tlsThread.start();

    String muxEnv = env.get(PluginEnv.MULTIPLEX_GRPC);
    Optional<String> muxField = muxEnv == null || muxEnv.isEmpty() ? Optional.empty() : Optional.of("true");
    boolean multiplex = Boolean.TRUE.equals(ServeSetup.parseGoBool(muxEnv));
    if (multiplex && config.listenOnTcp()) {
      throw new PluginServeException(
          "the host asked for the multiplexed gRPC broker, which this SDK serves on Unix sockets"
              + " only; turn listenOnTcp off or multiplexing off in the host");
    }
    sessionMuxer = multiplex ? new SessionMuxer(log) : null;

    group = GrpcTransport.newEventLoopGroup(2, "plugin-io");
    executor = ServeSetup.callExecutor(log);
    timer = Executors.newSingleThreadScheduledExecutor(ServeSetup.daemon("plugin-timer"));
    health = new HealthStatusManager();
    inFlight = new InFlightCalls(log);
    brokerStream = new BrokerStreamService(log);
    PluginSockets sockets = new PluginSockets(env);
    DeferredBroker userBroker = new DeferredBroker();

    List<Object> services = new ArrayList<>();
    services.add(health.getHealthService());
    services.add(brokerStream);
    services.add(new Controller());
    services.add(stdio != null ? stdio : new StdioForwarder(log));
    services.addAll(ServeSetup.registerPlugins(config, plugins, userBroker));
    // go-plugin registers gRPC server reflection too; tools (grpcurl, `goplugin4j run`) list the
    // plugin's services with it
    services.add(ProtoReflectionServiceV1.newInstance());
    Path path = config.listenOnTcp() ? null : sockets.newSocketPath();

    // the main server's TLS context is the set-up's, handed over when it is done (DeferredSslContext)
    SslContext serverTls = ServeSetup.tlsWanted(config, env)
        ? new DeferredSslContext(tlsFuture.thenApply(TlsSetup::server)) : null;
    NetAddress address;
    if (config.listenOnTcp()) {
      address = listenTcp(sockets, serverTls, services);
    } else if (multiplex) {
      address = NetAddress.unix(path.toString());
      YamuxGrpcServer main = YamuxGrpc.server(group, serverTls, services, this::customize);
      server = main.server();
      listener = ServeSetup.listenMultiplexed(group, executor, sessionMuxer, log, path, main);
      socketFile = path;
      sockets.applyGroup(path);
    } else {
      address = NetAddress.unix(path.toString());
      server = ServeSetup.startServer(group, address, serverTls, services, this::customize);
      socketFile = path;
      sockets.applyGroup(path);
    }

    TlsSetup tls = ServeSetup.joinTls(tlsFuture);
    broker = ServeSetup.newBroker(
        config, sockets, tls.server(), tls.client(), sessionMuxer, brokerStream, group, timer);
    brokerStream.receiver(broker::onMessage);
    userBroker.target(broker);

    health.setStatus(HEALTH_SERVICE, ServingStatus.SERVING);
    log.debug("plugin address network={} address={}", address.network(), address.address());

    handshake = new Handshake(
        PluginEnv.CORE_PROTOCOL_VERSION, version, address, Handshake.GRPC, tls.certField(), muxField);
    if (!negotiated.shared()) {
      withdrawListener();
    }
    if (io.takeOverProcess()) {
      installProcessHooks();
    }
    writeHandshake(handshake);
  }

  /**
   * No version is shared: go-plugin's server prints its lowest version anyway so that the host can
   * name the mismatch, and the host then kills the plugin without connecting. A killed plugin
   * cannot remove its socket, so the listener goes and the socket file is removed before the line
   * is printed: no host will connect, and nothing is left behind whenever the kill comes. The
   * process keeps running, as go-plugin's does, so that the host reads the version mismatch and
   * not "plugin exited before we could connect".
   */
  private void withdrawListener() {
    health.setStatus(HEALTH_SERVICE, ServingStatus.NOT_SERVING);
    if (listener != null) {
      quietly(() -> listener.close().awaitUninterruptibly(2, TimeUnit.SECONDS));
    }
    quietly(() -> {
      server.shutdownNow();
      server.awaitTermination(2, TimeUnit.SECONDS);
    });
    if (socketFile != null) {
      try {
        Files.deleteIfExists(socketFile);
      } catch (IOException e) {
        log.warn("cannot remove the plugin socket {} after the version mismatch: {}", socketFile, e.toString());
      }
    }
  }

  private NetAddress listenTcp(PluginSockets sockets, SslContext tls, List<Object> services) {
    PluginServeException last = null;
    for (NetAddress candidate : sockets.tcpCandidates()) {
      try {
        server = ServeSetup.startServer(group, candidate, tls, services, this::customize);
        int port = ((java.net.InetSocketAddress) server.getListenSockets().get(0)).getPort();
        return NetAddress.tcp("127.0.0.1:" + port);
      } catch (PluginServeException e) {
        last = e;
      }
    }
    throw new PluginServeException(
        "couldn't bind plugin TCP listener between " + PluginEnv.MIN_PORT + " and "
            + PluginEnv.MAX_PORT + (last == null ? "" : ": " + last.getMessage()), last);
  }

  /** What every main server gets, direct or multiplexed: our executor, call tracking, the user's tuning. */
  private void customize(NettyServerBuilder b) {
    b.executor(executor).intercept(inFlight);
    Consumer<io.grpc.ServerBuilder<?>> customizer = config.serverCustomizer().orElse(null);
    if (customizer != null) {
      customizer.accept(b);
    }
  }

  private void writeHandshake(Handshake h) {
    byte[] line = (h.format() + "\n").getBytes(StandardCharsets.US_ASCII);
    try {
      io.stdout().write(line);
      io.stdout().flush();
    } catch (IOException e) {
      throw new PluginServeException(
          "cannot print the handshake line on stdout (" + e.getMessage() + "); was the plugin started"
              + " by a go-plugin host?", e);
    }
  }

  private void installProcessHooks() {
    if (config.ignoreInterrupts() && !Signals.ignoreInterrupts()) {
      log.debug("cannot ignore SIGINT (no sun.misc.Signal); an interrupt stops the plugin gracefully");
    }
    shutdownHook = new Thread(this::onJvmShutdown, "plugin-shutdown-hook");
    Runtime.getRuntime().addShutdownHook(shutdownHook);
    if (config.exitWhenHostExits()) {
      hostWatch = HostWatch.start(timer, pid -> stop(
          "the process that started this plugin (pid " + pid + ") exited")).orElse(null);
    }
    JulBridge.installIfHclog();
  }

  // ---------------------------------------------------------------------------------------------
  // stop

  /**
   * Starts a graceful stop on a new thread and returns at once; idempotent. In-flight calls get
   * the configured grace period, then are cancelled.
   *
   * @param reason why, for the log
   */
  public void stop(String reason) {
    synchronized (lock) {
      if (state != State.SERVING) {
        return;
      }
      state = State.STOPPING;
      stopReason = reason;
    }
    Thread t = new Thread(this::stopNow, "plugin-shutdown");
    t.setDaemon(true);
    t.start();
  }

  private void onJvmShutdown() {
    stop("the JVM is shutting down (SIGTERM or System.exit)");
    try {
      terminated.await(config.shutdownGracePeriod().toMillis() + 3_000, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void stopNow() {
    try {
      log.debug("plugin server stopping: {}", stopReason);
      health.enterTerminalState();
      inFlight.stopping();
      brokerStream.close();
      if (stdio != null) {
        stdio.drain(STDIO_DRAIN_MILLIS);
        stdio.close();
      }
      server.shutdown();
      long grace = config.shutdownGracePeriod().toMillis();
      if (!awaitServer(grace)) {
        List<String> ended = inFlight.closeAll(Status.UNAVAILABLE.withDescription(
            "the plugin is shutting down (" + stopReason + ") and the call did not finish within"
                + " the " + grace + " ms grace period"));
        if (!ended.isEmpty()) {
          log.warn("cancelled {} call(s) still running {} ms after the shutdown request: {}",
              ended.size(), grace, ended);
        }
        server.shutdownNow();
        awaitServer(1_000);
      }
    } catch (RuntimeException e) {
      log.warn("error while stopping the plugin server: {}", e.toString());
    } finally {
      synchronized (lock) {
        cleanup(false);
        state = State.STOPPED;
      }
      terminated.countDown();
    }
  }

  private boolean awaitServer(long millis) {
    try {
      return server.awaitTermination(millis, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** Releases everything; each step guarded so that one failure does not leak the rest. */
  private void cleanup(boolean failedStart) {
    if (hostWatch != null) {
      hostWatch.cancel(false);
    }
    if (brokerStream != null) {
      quietly(brokerStream::close);
    }
    if (server != null) {
      quietly(() -> {
        server.shutdownNow();
        server.awaitTermination(2, TimeUnit.SECONDS);
      });
    }
    if (broker != null) {
      quietly(broker::close);
    }
    if (listener != null) {
      quietly(() -> listener.close().awaitUninterruptibly(2, TimeUnit.SECONDS));
    }
    if (sessionMuxer != null) {
      quietly(sessionMuxer::close);
    }
    if (socketFile != null) {
      quietly(() -> Files.deleteIfExists(socketFile));
    }
    // The executor before the event loops: a call still running after the grace period may
    // write its last frames (to a live event loop); frames Netty reads after this point are for
    // torn-down streams, and the executor drops their tasks at DEBUG (callExecutor) instead of
    // refusing them, which Netty logged as a 55-line WARN.
    if (executor != null) {
      executor.shutdownNow();
      quietly(() -> executor.awaitTermination(2, TimeUnit.SECONDS));
    }
    if (group != null) {
      quietly(() -> GrpcTransport.shutdown(group));
    }
    if (timer != null) {
      timer.shutdownNow();
    }
    if (stdio != null) {
      stdio.close();
      if (savedOut != null) {
        System.setOut(savedOut);
        System.setErr(savedErr);
      }
      if (failedStart) {
        // what the plugin printed goes to stderr, where the host shows it with the failure
        stdio.dumpTo(savedErr != null ? savedErr : System.err);
      }
    }
    if (shutdownHook != null) {
      try {
        Runtime.getRuntime().removeShutdownHook(shutdownHook);
      } catch (IllegalStateException e) {
        // the JVM is shutting down: the hook is running us
      }
    }
  }

  /**
   * Blocks until the server stopped and released everything.
   *
   * @throws InterruptedException if interrupted
   */
  public void awaitTermination() throws InterruptedException {
    terminated.await();
  }

  /**
   * Waits up to {@code timeout} for the server to stop.
   *
   * @return true if stopped
   * @throws InterruptedException if interrupted
   */
  public boolean awaitTermination(Duration timeout) throws InterruptedException {
    return terminated.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** The handshake printed, once started. */
  public Handshake handshake() {
    synchronized (lock) {
      return handshake;
    }
  }

  /** The broker, once started (null before). */
  public BrokerImpl broker() {
    return broker;
  }

  /** The plugin's own AutoMTLS certificate, if AutoMTLS is on. */
  public Optional<SelfSignedCertificate> ownCertificate() {
    return Optional.ofNullable(ownCertificate);
  }

  /** The socket file, if listening on a Unix socket. */
  public Optional<Path> socketFile() {
    return Optional.ofNullable(socketFile);
  }

  /** Whether the server stopped. */
  public boolean stopped() {
    return terminated.getCount() == 0;
  }

  private final class Controller extends GRPCControllerGrpc.GRPCControllerImplBase {
    @Override
    public void shutdown(Empty request, StreamObserver<Empty> responses) {
      responses.onNext(Empty.getDefaultInstance());
      responses.onCompleted();
      stop("the host asked the plugin to shut down (plugin.GRPCController/Shutdown)");
    }
  }

  // ---------------------------------------------------------------------------------------------
  // helpers

  private interface Step {
    void run() throws Exception;
  }

  private void quietly(Step s) {
    try {
      s.run();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Exception e) {
      log.debug("cleanup step failed: {}", e.toString());
    }
  }
}
