package dev.goplugin4j.server.internal.serve;

import dev.goplugin4j.protocol.GrpcBroker;
import dev.goplugin4j.protocol.Handshake;
import dev.goplugin4j.protocol.NetAddress;
import dev.goplugin4j.protocol.PluginEnv;
import dev.goplugin4j.protocol.TlsConfig;
import dev.goplugin4j.protocol.internal.broker.BrokerImpl;
import dev.goplugin4j.protocol.internal.proto.Empty;
import dev.goplugin4j.protocol.internal.proto.GRPCControllerGrpc;
import dev.goplugin4j.protocol.internal.proto.StdioData;
import dev.goplugin4j.server.internal.tls.PluginTls;
import dev.goplugin4j.server.internal.tls.SelfSignedCertificate;
import dev.goplugin4j.protocol.internal.transport.GrpcTransport;
import dev.goplugin4j.server.GrpcServerPlugin;
import dev.goplugin4j.server.NotLaunchedByHostException;
import dev.goplugin4j.server.PluginServeException;
import dev.goplugin4j.server.ServeConfig;
import dev.goplugin4j.server.ServiceRegistrar;
import dev.goplugin4j.server.internal.log.JulBridge;
import io.grpc.BindableService;
import io.grpc.ClientInterceptor;
import io.grpc.Server;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import dev.goplugin4j.protocol.internal.broker.Muxer;
import dev.goplugin4j.protocol.internal.broker.YamuxMuxer;
import dev.goplugin4j.protocol.internal.yamux.YamuxConfig;
import dev.goplugin4j.protocol.internal.yamux.YamuxGrpc;
import dev.goplugin4j.protocol.internal.yamux.YamuxGrpc.YamuxGrpcServer;
import dev.goplugin4j.protocol.internal.yamux.YamuxSession;
import io.grpc.netty.shaded.io.netty.bootstrap.ServerBootstrap;
import io.grpc.netty.shaded.io.netty.channel.Channel;
import io.grpc.netty.shaded.io.netty.channel.ChannelFuture;
import io.grpc.netty.shaded.io.netty.channel.ChannelOption;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollServerSocketChannel;
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
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One run of a plugin server: NEW → SERVING → STOPPING → STOPPED (or NEW → STOPPED on a failed
 * start). {@link #start()} does everything up to and including the handshake line; {@link
 * #stop(String)} (from {@code GRPCController/Shutdown}, SIGTERM, the host watch or the owner) ends
 * it. Every resource it makes is a field released by {@link #cleanup}, whichever way we leave.
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
    avoidMacAddressLookup();
    Negotiated negotiated = negotiateVersion(env);
    int version = negotiated.version();
    Map<String, GrpcServerPlugin> plugins = config.versionedPlugins().get(version);

    // TLS set-up (key generation, JDK TLS initialisation) is the slowest part of a start: run it
    // beside the gRPC set-up and join before the server binds.
    CompletableFuture<TlsSetup> tlsFuture = new CompletableFuture<>();
    Thread tlsThread = new Thread(() -> {
      try {
        tlsFuture.complete(setUpTls(env));
      } catch (Throwable t) {
        tlsFuture.completeExceptionally(t);
      }
    }, "plugin-tls-setup");
    tlsThread.setDaemon(true);
    tlsThread.start();

    String muxEnv = env.get(PluginEnv.MULTIPLEX_GRPC);
    Optional<String> muxField = muxEnv == null || muxEnv.isEmpty() ? Optional.empty() : Optional.of("true");
    boolean multiplex = Boolean.TRUE.equals(parseGoBool(muxEnv));
    if (multiplex && config.listenOnTcp()) {
      throw new PluginServeException(
          "the host asked for the multiplexed gRPC broker, which this SDK serves on Unix sockets"
              + " only; turn listenOnTcp off or multiplexing off in the host");
    }
    sessionMuxer = multiplex ? new SessionMuxer(log) : null;

    group = GrpcTransport.newEventLoopGroup(2, "plugin-io");
    executor = callExecutor(log);
    timer = Executors.newSingleThreadScheduledExecutor(daemon("plugin-timer"));
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
    services.addAll(registerPlugins(plugins, userBroker));
    // go-plugin registers gRPC server reflection too; tools (grpcurl, `goplugin4j run`) list the
    // plugin's services with it
    services.add(ProtoReflectionServiceV1.newInstance());
    Path path = config.listenOnTcp() ? null : sockets.newSocketPath();

    TlsSetup tls = joinTls(tlsFuture);
    SslContext serverTls = tls.server();
    broker = newBroker(sockets, serverTls, tls.client(), sessionMuxer);
    brokerStream.receiver(broker::onMessage);
    userBroker.target(broker);

    NetAddress address;
    if (config.listenOnTcp()) {
      address = listenTcp(sockets, serverTls, services);
    } else if (multiplex) {
      address = NetAddress.unix(path.toString());
      YamuxGrpcServer main = YamuxGrpc.server(group, serverTls, services, this::customize);
      server = main.server();
      listener = listenMultiplexed(path, main);
      socketFile = path;
      sockets.applyGroup(path);
    } else {
      address = NetAddress.unix(path.toString());
      server = startServer(address, serverTls, services);
      socketFile = path;
      sockets.applyGroup(path);
    }
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

  /**
   * Netty derives channel ids from a MAC address: enumerating interfaces costs start-up time and,
   * in a container without network, logs a warning the host would show. A random machine id
   * serves the same purpose. Only set when the user did not set it.
   */
  private static void avoidMacAddressLookup() {
    String property = "io.grpc.netty.shaded.io.netty.machineId";
    if (System.getProperty(property) == null) {
      byte[] id = new byte[8];
      java.util.concurrent.ThreadLocalRandom.current().nextBytes(id);
      id[0] |= 0x02; // locally administered, as a random MAC should be
      StringBuilder sb = new StringBuilder(23);
      for (byte b : id) {
        if (sb.length() > 0) {
          sb.append(':');
        }
        sb.append(Character.forDigit((b >> 4) & 0xf, 16)).append(Character.forDigit(b & 0xf, 16));
      }
      System.setProperty(property, sb.toString());
    }
  }

  /** TLS contexts for the server and for dialling the host's brokered services; nulls: plaintext. */
  private record TlsSetup(SslContext server, SslContext client, String certField) {}

  /** The provider wins; else AutoMTLS when the host sent its certificate; else plaintext. */
  private TlsSetup setUpTls(Map<String, String> env) {
    if (config.tlsProvider().isPresent()) {
      TlsConfig tls;
      try {
        tls = config.tlsProvider().get().get();
      } catch (RuntimeException e) {
        throw new PluginServeException("the plugin's TLS provider failed: " + e, e);
      }
      if (tls == null) {
        throw new PluginServeException("the plugin's TLS provider returned null");
      }
      return new TlsSetup(PluginTls.server(tls), PluginTls.client(tls), "");
    }
    String hostPem = env.get(PluginEnv.CLIENT_CERT);
    if (hostPem == null || hostPem.isEmpty()) {
      return new TlsSetup(null, null, "");
    }
    X509Certificate hostCert;
    try {
      hostCert = SelfSignedCertificate.parsePem(hostPem);
    } catch (CertificateException | RuntimeException e) {
      throw new PluginServeException(
          "the host's AutoMTLS certificate in " + PluginEnv.CLIENT_CERT + " cannot be parsed ("
              + e.getMessage() + "); the host must pass one PEM certificate", e);
    }
    log.debug("configuring server automatic mTLS");
    SelfSignedCertificate own = SelfSignedCertificate.generate();
    ownCertificate = own;
    return new TlsSetup(PluginTls.server(own, hostCert), PluginTls.client(own, hostCert), own.base64Der());
  }

  private static TlsSetup joinTls(CompletableFuture<TlsSetup> f) {
    try {
      return f.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new PluginServeException("interrupted while setting up TLS", e);
    } catch (ExecutionException e) {
      Throwable c = e.getCause();
      if (c instanceof PluginServeException pse) {
        throw pse;
      }
      throw new PluginServeException("cannot set up TLS: " + c, c);
    }
  }

  /** The version to print and whether the host supports it (false: the host will refuse it). */
  private record Negotiated(int version, boolean shared) {}

  private Negotiated negotiateVersion(Map<String, String> env) {
    List<Integer> hostVersions = new ArrayList<>();
    String raw = env.get(PluginEnv.PROTOCOL_VERSIONS);
    if (raw != null && !raw.isEmpty()) {
      for (String s : raw.split(",")) {
        try {
          hostVersions.add(Integer.parseInt(s));
        } catch (NumberFormatException e) {
          log.warn("the host sent an invalid plugin protocol version \"{}\" in {}; ignoring it", s,
              PluginEnv.PROTOCOL_VERSIONS);
        }
      }
    }
    int version = Handshake.negotiate(hostVersions, config.versionedPlugins().keySet());
    boolean shared = hostVersions.isEmpty() || hostVersions.contains(version);
    if (!shared) {
      log.warn(
          "no common protocol version: the host supports {}, this plugin {}; printing version {} so"
              + " that the host can report the mismatch, without listening (the host will not"
              + " connect). Upgrade the plugin or the host",
          hostVersions, config.versionedPlugins().keySet(), version);
    }
    return new Negotiated(version, shared);
  }

  private BrokerImpl newBroker(
      PluginSockets sockets, SslContext serverTls, SslContext clientTls, Muxer muxer) {
    BrokerImpl.Listeners listeners = new BrokerImpl.Listeners() {
      @Override
      public NetAddress newAddress() {
        return config.listenOnTcp()
            ? sockets.freeTcpAddress()
            : NetAddress.unix(sockets.newSocketPath().toString());
      }

      @Override
      public void prepare(NetAddress listening) {
        if (NetAddress.UNIX.equals(listening.network())) {
          sockets.applyGroup(Path.of(listening.address()));
        }
      }
    };
    // Addresses pass untranslated: a host's runner translates between its view and ours.
    List<ClientInterceptor> dialInterceptors = config.clientInterceptors();
    return new BrokerImpl(
        brokerStream::send, serverTls, clientTls, listeners, a -> a, a -> a, group, muxer, timer,
        dialInterceptors.isEmpty() ? null : b -> b.intercept(dialInterceptors),
        config.interceptors());
  }

  private List<Object> registerPlugins(Map<String, GrpcServerPlugin> plugins, GrpcBroker userBroker) {
    Map<String, Object> byName = new LinkedHashMap<>();
    for (Map.Entry<String, GrpcServerPlugin> e : plugins.entrySet()) {
      String pluginName = e.getKey();
      ServiceRegistrar registrar = new ServiceRegistrar() {
        @Override
        public ServiceRegistrar addService(BindableService service) {
          java.util.Objects.requireNonNull(service, "service");
          return add(service.bindService(), service);
        }

        @Override
        public ServiceRegistrar addService(ServerServiceDefinition service) {
          java.util.Objects.requireNonNull(service, "service");
          return add(service, service);
        }

        private ServiceRegistrar add(ServerServiceDefinition def, Object service) {
          String name = def.getServiceDescriptor().getName();
          if (RESERVED_SERVICES.contains(name)) {
            throw new IllegalArgumentException(
                "plugin \"" + pluginName + "\" registers " + name + ", which the plugin server"
                    + " provides itself; pick another service name");
          }
          if (byName.containsKey(name)) {
            throw new IllegalArgumentException(
                "plugin \"" + pluginName + "\" registers " + name + ", which another plugin of"
                    + " this server already registered; gRPC service names must be unique");
          }
          List<ServerInterceptor> interceptors = config.interceptors();
          byName.put(name, interceptors.isEmpty() ? def
              : ServerInterceptors.intercept(def, interceptors));
          return this;
        }
      };
      try {
        e.getValue().register(registrar, userBroker);
      } catch (Exception ex) {
        throw new PluginServeException(
            "plugin \"" + pluginName + "\" failed to register its gRPC services: " + ex, ex);
      }
    }
    return new ArrayList<>(byName.values());
  }

  private NetAddress listenTcp(PluginSockets sockets, SslContext tls, List<Object> services) {
    PluginServeException last = null;
    for (NetAddress candidate : sockets.tcpCandidates()) {
      try {
        server = startServer(candidate, tls, services);
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

  private Server startServer(NetAddress address, SslContext tls, List<Object> services) {
    boolean unix = NetAddress.UNIX.equals(address.network());
    NettyServerBuilder b =
        NettyServerBuilder.forAddress(GrpcTransport.socketAddress(address))
            .bossEventLoopGroup(group)
            .workerEventLoopGroup(group)
            .channelType(unix ? EpollServerDomainSocketChannel.class : EpollServerSocketChannel.class);
    if (unix) {
      // grpc sets SO_KEEPALIVE on every accepted channel; Unix sockets do not know it.
      b.withChildOption(ChannelOption.SO_KEEPALIVE, null);
    }
    // sizes, TLS, the services, and no look for an absent grpc-census: as every go-plugin server
    GrpcTransport.configure(b, tls, services);
    customize(b);
    try {
      return b.build().start();
    } catch (IOException e) {
      throw new PluginServeException("cannot listen on " + address + ": " + e.getMessage(), e);
    }
  }

  /** What every main server gets, direct or multiplexed: our executor, call tracking, the user's tuning. */
  private void customize(NettyServerBuilder b) {
    b.executor(executor).intercept(inFlight);
    Consumer<io.grpc.ServerBuilder<?>> customizer = config.serverCustomizer().orElse(null);
    if (customizer != null) {
      customizer.accept(b);
    }
  }

  /**
   * Listens on the socket for the host's one connection and runs the yamux server role on it, as
   * go-plugin's {@code GRPCServerMuxer}: streams the host opens without a knock are gRPC
   * connections to the main server; knocked ones go to brokered servers. Later connections are
   * refused: a go-plugin host makes one.
   */
  private Channel listenMultiplexed(Path path, YamuxGrpcServer main) {
    ServerBootstrap b = new ServerBootstrap()
        .group(group)
        .channel(EpollServerDomainSocketChannel.class)
        .childHandler(YamuxSession.initializer(false, YamuxConfig.defaults(), session -> {
          if (!sessionMuxer.attach(new YamuxMuxer(session, group, executor, main::serve))) {
            log.warn("refusing a second connection to the multiplexed plugin socket: the host keeps"
                + " one yamux session per plugin");
            session.close();
          }
        }));
    ChannelFuture f = b.bind(new DomainSocketAddress(path.toString())).awaitUninterruptibly();
    if (!f.isSuccess()) {
      throw new PluginServeException("cannot listen on " + path + ": " + f.cause().getMessage(), f.cause());
    }
    return f.channel();
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

  static Boolean parseGoBool(String s) {
    if (s == null) {
      return null;
    }
    switch (s) {
      case "1", "t", "T", "TRUE", "true", "True":
        return Boolean.TRUE;
      case "0", "f", "F", "FALSE", "false", "False":
        return Boolean.FALSE;
      default:
        return null;
    }
  }

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

  /**
   * The executor for gRPC calls: a cached pool of daemon threads that, once shut down, drops late
   * tasks with a DEBUG line instead of throwing. They come from streams torn down with the server
   * (a frame Netty read just before), and a refusal thrown back into an event loop is logged by
   * Netty as a WARN with a long stack trace, on a normal shutdown.
   *
   * @param log where a dropped task is noted, at DEBUG
   * @return a new executor; thread-safe
   */
  static ExecutorService callExecutor(Logger log) {
    return new ThreadPoolExecutor(0, Integer.MAX_VALUE, 60, TimeUnit.SECONDS,
        new SynchronousQueue<>(), daemon("plugin-grpc"), (task, pool) -> {
          if (!pool.isShutdown()) {
            throw new RejectedExecutionException("the plugin's gRPC executor refused a task");
          }
          log.debug("dropped a gRPC task that arrived after shutdown: {}", task);
        });
  }

  private static ThreadFactory daemon(String prefix) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }
}
