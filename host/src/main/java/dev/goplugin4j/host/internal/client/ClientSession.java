package dev.goplugin4j.host.internal.client;

import dev.goplugin4j.host.AttachedRunner;
import dev.goplugin4j.host.GrpcPlugin;
import dev.goplugin4j.host.PluginClient;
import dev.goplugin4j.host.PluginCommand;
import dev.goplugin4j.host.PluginStartException;
import dev.goplugin4j.host.ReattachConfig;
import dev.goplugin4j.host.Reattacher;
import dev.goplugin4j.host.Runner;
import dev.goplugin4j.host.internal.log.BoundedLineReader;
import dev.goplugin4j.host.internal.log.StderrPump;
import dev.goplugin4j.host.internal.process.Checksums;
import dev.goplugin4j.host.internal.process.ProcessReattacher;
import dev.goplugin4j.host.internal.process.ProcessRunner;
import dev.goplugin4j.host.internal.process.SocketDirOwner;
import dev.goplugin4j.protocol.AddressRefusedException;
import dev.goplugin4j.protocol.AutoMtlsCertificate;
import dev.goplugin4j.protocol.GrpcBroker;
import dev.goplugin4j.protocol.Handshake;
import dev.goplugin4j.protocol.HandshakeException;
import dev.goplugin4j.protocol.NetAddress;
import dev.goplugin4j.protocol.PluginEnv;
import dev.goplugin4j.protocol.PluginException;
import dev.goplugin4j.protocol.internal.broker.AddressRules;
import dev.goplugin4j.protocol.internal.broker.BrokerImpl;
import dev.goplugin4j.protocol.internal.broker.YamuxMuxer;
import dev.goplugin4j.protocol.internal.yamux.YamuxConfig;
import dev.goplugin4j.protocol.internal.yamux.YamuxSession;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.util.function.Consumer;
import dev.goplugin4j.protocol.internal.proto.ConnInfo;
import dev.goplugin4j.protocol.internal.proto.Empty;
import dev.goplugin4j.protocol.internal.proto.GRPCBrokerGrpc;
import dev.goplugin4j.protocol.internal.proto.GRPCControllerGrpc;
import dev.goplugin4j.protocol.internal.proto.GRPCStdioGrpc;
import dev.goplugin4j.protocol.internal.proto.StdioData;
import dev.goplugin4j.protocol.internal.tls.TlsContexts;
import dev.goplugin4j.protocol.internal.transport.GrpcTransport;
import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The state machine behind {@link PluginClient}: NEW → RUNNING → CLOSED (or NEW → CLOSED on a
 * failed start). Every resource it makes is recorded in a field and released by {@link
 * #teardown}, whichever path we leave by.
 */
public final class ClientSession {
  private static final Logger log = LoggerFactory.getLogger(PluginClient.class);
  /** How long a plugin gets to exit after Shutdown before it is killed, as go-plugin. */
  private static final long GRACE_MILLIS = 2_000;
  private static final SecureRandom RANDOM = new SecureRandom();
  /** Longest handshake line, as go-plugin's host reads it (bufio.Scanner): 64 KiB. */
  static final int MAX_STDOUT_LINE = BoundedLineReader.DEFAULT_MAX_LINE_BYTES;

  private enum State {
    NEW,
    RUNNING,
    CLOSED
  }

  private final PluginClient.Config config;
  private final String name;
  private final Logger pluginLog;
  private final Object lock = new Object();

  private State state = State.NEW;
  private volatile boolean exited;
  private volatile boolean closing;

  private ScheduledExecutorService timer;
  private ExecutorService grpcExecutor;
  private EventLoopGroup group;
  private Path socketDir;
  private boolean deleteSocketDir;
  private AttachedRunner runner;
  private StderrPump stderrPump;
  private Thread stdoutThread;
  private AutoMtlsCertificate hostCert;
  private X509Certificate pluginCert;
  private String pluginCertBase64 = "";
  private NetAddress address;
  private int version;
  private Map<String, GrpcPlugin<?>> pluginSet;
  private ManagedChannel channel;
  private BrokerImpl broker;
  private YamuxMuxer muxer;
  private StreamObserver<ConnInfo> brokerOut;
  private Context.CancellableContext stdioContext;
  private ReattachConfig reattachConfig;
  /** The runner's id once the runner reference is dropped. */
  private String runnerId;

  public ClientSession(PluginClient.Config config) {
    this.config = config;
    this.name = config.pluginName();
    this.pluginLog =
        config.logger() != null
            ? config.logger()
            : LoggerFactory.getLogger("goplugin4j.plugin." + name.replaceAll("[^A-Za-z0-9_-]", "_"));
  }

  // ---------------------------------------------------------------------------------------------
  // start

  public void start() {
    synchronized (lock) {
      if (state == State.RUNNING) {
        return;
      }
      if (state == State.CLOSED) {
        throw new IllegalStateException("the plugin client is closed; build a new one");
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
        teardown(true, true);
        throw e;
      }
    }
  }

  private void doLaunch() {
    long t0 = System.nanoTime();
    long deadline = t0 + config.startTimeout().toNanos();
    initExecutors();
    socketDir = createSocketDir();
    deleteSocketDir = true;
    Map<String, String> env = pluginEnv();
    long tPrepared = System.nanoTime();
    if (config.sha256() != null) {
      Checksums.verify(resolveExecutable(config.command().get(0)), HexFormat.of().parseHex(config.sha256()));
    }
    PluginCommand command = new PluginCommand(config.command(), env);
    Runner r =
        config.runnerFactory() != null
            ? config.runnerFactory().create(command, socketDir)
            : new ProcessRunner(command);
    runner = r;
    startRunner(r, deadline);
    long tRunner = System.nanoTime();
    log.debug("started plugin {} ({}), id {}", name, r.name(), r.id());

    stderrPump = StderrPump.start(name, r.stderr(), pluginLog, config.stderr(), config.logLineBufferSize());

    CompletableFuture<String> firstLine = new CompletableFuture<>();
    stdoutThread = newThread("goplugin4j-stdout-" + name, () -> readStdout(r, firstLine));
    stdoutThread.start();

    String line = awaitHandshakeLine(r, firstLine, deadline);
    long tLine = System.nanoTime();
    Handshake h = parseHandshake(line, r);
    negotiate(h, r);
    address = checkAddress(r.pluginToHost(h.address()), "its handshake line", r);
    long tNegotiated = System.nanoTime();
    long[] connected = connect(deadline, r);
    reattachConfig = reattachConfigFor(r);
    r.onExit().thenAccept(this::onPluginExit);
    if (log.isDebugEnabled()) {
      long end = System.nanoTime();
      log.debug("plugin {} start phases (ms): prepare (executors, socket dir, env, host"
              + " certificate) {}, runner start {}, handshake line {}, handshake parse {}, channel"
              + " {}, health check (incl. connect and TLS) {}, broker and stdio {}; total {}",
          name, ms(t0, tPrepared), ms(tPrepared, tRunner), ms(tRunner, tLine),
          ms(tLine, tNegotiated), ms(tNegotiated, connected[0]), ms(connected[0], connected[1]),
          ms(connected[1], end), ms(t0, end));
    }
  }

  /** Milliseconds between two {@link System#nanoTime()} readings, to a tenth. */
  private static double ms(long from, long to) {
    return Math.round((to - from) / 100_000.0) / 10.0;
  }

  /**
   * {@code r.start()} within the start timeout: a runner stuck there (a container engine that
   * does not answer) must not hang the host. On timeout the caller's teardown kills the runner,
   * which ends or undoes its start.
   */
  private void startRunner(Runner r, long deadline) {
    CompletableFuture<Void> started = CompletableFuture.runAsync(r::start, grpcExecutor);
    try {
      started.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
    } catch (TimeoutException e) {
      throw new PluginStartException(failure(
          "timeout while starting the plugin: the runner (" + r.name() + ") did not start it within "
              + config.startTimeout().toMillis() + " ms", r));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new PluginStartException(failure("interrupted while starting the plugin", r), e);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException re) {
        throw re;
      }
      if (e.getCause() instanceof Error err) {
        throw err;
      }
      throw new PluginStartException(failure("error starting the plugin", r), e.getCause());
    }
  }

  private void doReattach() {
    ReattachConfig rc = config.reattach();
    Reattacher reattacher =
        config.reattacher() != null ? config.reattacher() : new ProcessReattacher();
    if (!config.allowedProtocols().contains(rc.protocol())) {
      // before the reattacher runs: a refused config touches no process or container
      throw new HandshakeException("cannot reattach to a \"" + rc.protocol()
          + "\" plugin: allowedProtocols is " + new TreeSet<>(config.allowedProtocols())
          + "; goplugin4j hosts speak gRPC only");
    }
    // before the reattacher runs: a config that points elsewhere touches no process or container
    Path ownDir = checkReattachAddress(rc);
    long deadline = System.nanoTime() + config.startTimeout().toNanos();
    initExecutors();
    if (ownDir != null) {
      socketDir = ownDir;
    }
    try {
      runner = reattacher.reattach(rc);
    } catch (RuntimeException | Error e) {
      // the plugin is gone (or is not ours): its socket dir is only worth keeping while it serves
      deleteSocketDir = ownDir != null && nobodyServes(rc.address());
      if (deleteSocketDir) {
        log.debug("reattach of plugin {} failed and nothing serves {}: removing its socket"
            + " directory {}", name, rc.address(), ownDir);
      }
      throw e;
    }
    version = rc.protocolVersion();
    pluginSet = config.versionedPlugins().get(version);
    if (pluginSet == null) {
      throw new HandshakeException(
          "the reattached plugin speaks protocol version " + version
              + " but this client has plugins only for versions " + config.versionedPlugins().keySet());
    }
    if (rc.multiplexed() != config.multiplexBroker()) {
      throw new HandshakeException(
          "the reattach config says multiplexed=" + rc.multiplexed()
              + " but the client has multiplexBroker(" + config.multiplexBroker() + "); set them alike");
    }
    if (rc.autoMtls()) {
      hostCert = AutoMtlsCertificate.fromPem(rc.hostCertificate(), rc.hostPrivateKey());
      pluginCertBase64 = rc.pluginCertificate();
      pluginCert = AutoMtlsCertificate.parseBase64Der(pluginCertBase64);
    }
    deleteSocketDir = ownDir != null;
    address = rc.address();
    connect(deadline, runner);
    reattachConfig = rc;
    runner.onExit().thenAccept(this::onPluginExit);
  }

  /**
   * The address rules ({@link AddressRules}) for an address the plugin announced, with the
   * diagnosis: a Unix socket directly inside the socket dir this host made, or TCP on loopback
   * unless {@code allowNonLoopbackTcp}.
   */
  private NetAddress checkAddress(NetAddress a, String where, AttachedRunner r) {
    try {
      return AddressRules.check(a, socketDir, config.allowNonLoopbackTcp());
    } catch (AddressRefusedException e) {
      String hint = AddressRules.RULE_OUTSIDE_DIR.equals(e.rule())
          ? ". A plugin built with go-plugin older than 1.5 ignores PLUGIN_UNIX_SOCKET_DIR and"
              + " makes its socket in TMPDIR: recompile it with go-plugin 1.5 or later"
          : "";
      throw new AddressRefusedException(e.address(), e.rule(),
          failure("the plugin announced in " + where + " an address the host does not dial: "
              + e.getMessage() + hint, r));
    }
  }

  /** The address rules for an address the plugin's broker announced; no diagnosis at run time. */
  private NetAddress checkBrokerAddress(NetAddress a) {
    try {
      return AddressRules.check(a, socketDir, config.allowNonLoopbackTcp());
    } catch (AddressRefusedException e) {
      throw new AddressRefusedException(e.address(), e.rule(), "plugin " + name
          + " announced in a broker ConnInfo an address the host does not dial: " + e.getMessage());
    }
  }

  /**
   * The address rules for a reattach config, checked before anything is touched. A Unix address
   * must be a socket directly inside the config's {@code socket_dir} (or, when the config records
   * none, inside the address's own directory), and that directory must be one goplugin4j makes:
   * named {@code goplugin4j-<digits>}, a real directory owned by this process's user. TCP must be
   * on loopback unless {@code allowNonLoopbackTcp}; a container plugin is reachable only through
   * its socket directory.
   *
   * @return the checked socket directory, or null for a TCP address whose config records no
   *     directory of ours
   */
  private Path checkReattachAddress(ReattachConfig rc) {
    NetAddress a = rc.address();
    String dir = rc.runnerAttributes().get("socket_dir");
    try {
      if (NetAddress.UNIX.equals(a.network())) {
        if (dir == null) {
          int slash = a.address().lastIndexOf('/');
          dir = slash > 0 ? a.address().substring(0, slash) : "";
        }
        Path d = AddressRules.checkOwnSocketDir(dir, a.toString());
        AddressRules.check(a, d, false);
        return d;
      }
      if (ReattachConfig.KIND_CONTAINER.equals(rc.runnerKind())) {
        throw new AddressRefusedException(a.toString(), AddressRules.RULE_OUTSIDE_DIR,
            "refusing to dial " + a + ": a container plugin is reachable only through a Unix"
                + " socket in its socket directory");
      }
      AddressRules.check(a, null, config.allowNonLoopbackTcp());
    } catch (AddressRefusedException e) {
      throw new AddressRefusedException(e.address(), e.rule(), "cannot reattach to plugin "
          + rc.runnerKind() + " " + rc.runnerId() + ": the reattach config's address is refused: "
          + e.getMessage() + ". Use the config exactly as PluginClient.reattachConfig() gave it");
    }
    if (dir == null) {
      return null;
    }
    try {
      return AddressRules.checkOwnSocketDir(dir, a.toString());
    } catch (AddressRefusedException e) {
      return null; // not ours: neither used nor removed
    }
  }

  /**
   * Whether a Unix socket has no listener: missing, or a connect is refused. Only asked about an
   * address that passed the rules, after the reattacher found no plugin.
   */
  private static boolean nobodyServes(NetAddress a) {
    if (!NetAddress.UNIX.equals(a.network())) {
      return false;
    }
    Path p = Path.of(a.address());
    if (!Files.exists(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      return true;
    }
    try (java.nio.channels.SocketChannel ch =
        java.nio.channels.SocketChannel.open(java.net.StandardProtocolFamily.UNIX)) {
      ch.connect(java.net.UnixDomainSocketAddress.of(p));
      return false;
    } catch (java.net.ConnectException e) {
      return true; // ECONNREFUSED: a socket file whose process is gone
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  private void initExecutors() {
    timer = Executors.newSingleThreadScheduledExecutor(daemon("goplugin4j-timer-" + name));
    grpcExecutor = Executors.newCachedThreadPool(daemon("goplugin4j-grpc-" + name));
    group = GrpcTransport.newEventLoopGroup(2, "goplugin4j-io-" + name);
  }

  private Path createSocketDir() {
    try {
      Path parent = config.unixSocketTempDir() != null
          ? config.unixSocketTempDir()
          : Path.of(System.getProperty("java.io.tmpdir"));
      Path dir = Files.createTempDirectory(parent, "goplugin4j-",
          PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
      if (config.unixSocketGroup() != null) {
        setGroup(dir, config.unixSocketGroup());
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwx---"));
      }
      SocketDirOwner.recordHost(dir); // for ProcessReaper, should this JVM die
      return dir;
    } catch (IOException e) {
      throw new PluginStartException(
          "cannot create the plugin's socket directory under "
              + (config.unixSocketTempDir() == null ? "the system temp dir" : config.unixSocketTempDir())
              + ": " + e.getMessage() + ". Set unixSocketTempDir to a writable, short path", e);
    }
  }

  private static void setGroup(Path path, String group) throws IOException {
    GroupPrincipal gp;
    if (group.chars().allMatch(Character::isDigit)) {
      // The JDK looks groups up by name only; a numeric gid goes through chgrp semantics.
      Files.setAttribute(path, "unix:gid", Integer.parseInt(group));
      return;
    }
    try {
      gp = path.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByGroupName(group);
    } catch (IOException e) {
      throw new IOException("unknown group \"" + group + "\" for unixSocketGroup", e);
    }
    Files.getFileAttributeView(path, java.nio.file.attribute.PosixFileAttributeView.class).setGroup(gp);
  }

  private Map<String, String> pluginEnv() {
    Map<String, String> env = new LinkedHashMap<>();
    if (!config.skipHostEnv()) {
      env.putAll(System.getenv());
    }
    env.putAll(config.env());
    env.put(config.magicCookieKey(), config.magicCookieValue());
    env.put(PluginEnv.MIN_PORT, Integer.toString(config.minPort()));
    env.put(PluginEnv.MAX_PORT, Integer.toString(config.maxPort()));
    env.put(PluginEnv.PROTOCOL_VERSIONS,
        String.join(",", config.versionedPlugins().keySet().stream().map(String::valueOf).toList()));
    if (config.multiplexBroker()) {
      env.put(PluginEnv.MULTIPLEX_GRPC, "true");
    } else {
      env.remove(PluginEnv.MULTIPLEX_GRPC);
    }
    if (config.tls() == null && config.autoMtls()) {
      hostCert = AutoMtlsCertificate.generate();
      env.put(PluginEnv.CLIENT_CERT, hostCert.pem());
    } else {
      env.remove(PluginEnv.CLIENT_CERT);
    }
    if (config.unixSocketGroup() != null) {
      env.put(PluginEnv.UNIX_SOCKET_GROUP, config.unixSocketGroup());
    } else {
      env.remove(PluginEnv.UNIX_SOCKET_GROUP);
    }
    env.put(PluginEnv.UNIX_SOCKET_DIR, socketDir.toString());
    // go-plugin before 1.5 ignores PLUGIN_UNIX_SOCKET_DIR and makes its socket in TMPDIR: point
    // TMPDIR at the socket dir too, so such a plugin's socket lands where the address rules
    // accept it and goes with the dir. An application's own TMPDIR for the plugin wins. (A
    // container runner drops it: the host's path means nothing inside.)
    if (!config.env().containsKey(PluginEnv.TMPDIR)) {
      env.put(PluginEnv.TMPDIR, socketDir.toString());
    }
    return env;
  }

  private static Path resolveExecutable(String exe) {
    if (exe.contains("/")) {
      return Path.of(exe);
    }
    String pathVar = System.getenv("PATH");
    if (pathVar != null) {
      for (String dir : pathVar.split(":")) {
        Path p = Path.of(dir.isEmpty() ? "." : dir, exe);
        if (Files.isExecutable(p)) {
          return p;
        }
      }
    }
    return Path.of(exe);
  }

  /**
   * Reads the plugin's stdout with a fixed buffer: the first line is the handshake (at most {@link
   * #MAX_STDOUT_LINE} bytes, as go-plugin's {@code bufio.Scanner}; a longer one fails the start
   * with a {@link HandshakeException} that says so), later lines are logged at debug, a line
   * longer than the buffer only by its start and length, and discarded. The host never holds more
   * than one buffer of what the plugin wrote.
   */
  private void readStdout(Runner r, CompletableFuture<String> firstLine) {
    try (InputStream in = r.stdout()) {
      BoundedLineReader reader = new BoundedLineReader(in, MAX_STDOUT_LINE);
      long longLine = 0; // bytes so far of a line longer than the buffer, 0 between lines
      BoundedLineReader.Chunk c;
      while ((c = reader.next()) != null) {
        if (!firstLine.isDone()) {
          if (!c.continues()) {
            firstLine.complete(c.text());
            continue;
          }
          firstLine.completeExceptionally(new HandshakeException(
              "the plugin wrote more than " + MAX_STDOUT_LINE / 1024 + " KiB on stdout without a"
                  + " newline before its handshake line (it began \"" + abbreviate(c.text())
                  + "\"). A go-plugin plugin prints one short handshake line first, and hosts read"
                  + " at most " + MAX_STDOUT_LINE / 1024 + " KiB of it: the command does not run a"
                  + " go-plugin plugin, or the plugin writes to stdout before plugin.Serve"));
        }
        if (longLine == 0 && !c.continues()) {
          pluginLog.debug("plugin stdout: {}", c.text());
        } else if (longLine == 0) {
          longLine = c.bytes();
          pluginLog.debug("plugin stdout, a line longer than {} KiB (its start, abbreviated): {}",
              MAX_STDOUT_LINE / 1024, abbreviate(c.text()));
        } else {
          longLine += c.bytes();
          if (!c.continues()) {
            pluginLog.debug("plugin stdout: the long line ended after {} bytes, discarded",
                longLine);
            longLine = 0;
          }
        }
      }
    } catch (IOException e) {
      if (!closing) {
        log.debug("error reading plugin stdout: {}", e.toString());
      }
    } finally {
      firstLine.complete(null);
    }
  }

  private String awaitHandshakeLine(Runner r, CompletableFuture<String> firstLine, long deadline) {
    // A line wins over an exit that raced it: the line has the better story.
    CompletableFuture<Object> first = CompletableFuture.anyOf(firstLine, r.onExit());
    try {
      first.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
    } catch (TimeoutException e) {
      throwIfStdoutRefused(firstLine, r);
      throw new PluginStartException(failure(
          "timeout while waiting for plugin to start: no handshake line on stdout within "
              + config.startTimeout().toMillis() + " ms", r));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new PluginStartException(failure("interrupted while waiting for the plugin to start", r), e);
    } catch (ExecutionException e) {
      throwIfStdoutRefused(firstLine, r);
      throw new PluginStartException(failure("error waiting for the plugin to start", r), e.getCause());
    }
    throwIfStdoutRefused(firstLine, r);
    String line = firstLine.getNow(null);
    if (line == null && r.onExit().isDone()) {
      // the stdout reader may still be finishing the last line
      try {
        line = firstLine.get(500, TimeUnit.MILLISECONDS);
      } catch (TimeoutException | ExecutionException e) {
        line = null;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      // what the plugin wrote is the story, not how it then ended (a SIGPIPE, say)
      throwIfStdoutRefused(firstLine, r);
    }
    if (line == null) {
      // stdout closed: the exit itself usually follows within milliseconds; wait for it so the
      // message and the diagnosis tell the exit status instead of "still running".
      Integer code;
      try {
        code = r.onExit().get(2, TimeUnit.SECONDS);
      } catch (TimeoutException | ExecutionException e) {
        code = null;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        code = null;
      }
      if (code == null) {
        throw new PluginStartException(failure(
            "the plugin closed its stdout without printing a handshake line", r));
      }
      throw new PluginStartException(failure(
          "plugin exited before we could connect"
              + " (exit status " + code + ")", r));
    }
    return line;
  }

  /** Throws the stdout reader's verdict (an overlong handshake line) with the diagnosis. */
  private void throwIfStdoutRefused(CompletableFuture<String> firstLine, Runner r) {
    if (!firstLine.isCompletedExceptionally()) {
      return;
    }
    Throwable cause;
    try {
      firstLine.join();
      return;
    } catch (java.util.concurrent.CompletionException | java.util.concurrent.CancellationException e) {
      cause = e.getCause() != null ? e.getCause() : e;
    }
    throw new HandshakeException(failure(cause.getMessage(), r), cause);
  }

  private Handshake parseHandshake(String line, Runner r) {
    try {
      return Handshake.parse(line);
    } catch (HandshakeException e) {
      String hint = "\nLikely cause: the plugin printed to stdout before its handshake line (\""
          + abbreviate(line) + "\"). A go-plugin plugin must not write to stdout before"
          + " plugin.Serve prints the handshake; if it is not a go-plugin plugin, check the command.";
      throw new HandshakeException(failure(e.getMessage() + hint, r), e);
    }
  }

  private void negotiate(Handshake h, Runner r) {
    try {
      h.checkCoreVersion();
      h.checkAppVersion(config.versionedPlugins().keySet());
      checkAllowedProtocol(h.protocol());
      h.checkGrpc();
      if (config.multiplexBroker()) {
        h.checkMultiplexSupported();
      }
      if (config.tls() == null && config.autoMtls()) {
        if (!h.hasCertificate()) {
          throw new HandshakeException(
              "AutoMTLS is on but the plugin returned no certificate in its handshake: the plugin"
                  + " does not support AutoMTLS. Turn autoMtls(false) for this plugin or give it TLS"
                  + " material of its own");
        }
        pluginCertBase64 = h.certificate();
        pluginCert = AutoMtlsCertificate.parseBase64Der(pluginCertBase64);
      }
    } catch (HandshakeException e) {
      throw new HandshakeException(failure(e.getMessage(), r), e);
    }
    version = h.appVersion();
    pluginSet = config.versionedPlugins().get(version);
    log.debug("plugin {} negotiated protocol version {} at {}", name, version, h.address());
  }

  /** go-plugin's AllowedProtocols check, with our net/rpc explanation when that is the cause. */
  private void checkAllowedProtocol(String protocol) {
    if (config.allowedProtocols().contains(protocol)) {
      return;
    }
    String allowed = new TreeSet<>(config.allowedProtocols()).toString();
    if (Handshake.NETRPC.equals(protocol)) {
      throw new HandshakeException(
          "unsupported plugin protocol \"" + protocol + "\"; allowedProtocols is " + allowed
              + ". The plugin speaks Go's net/rpc protocol, which only Go hosts can use. Ask the"
              + " plugin author for a gRPC build (go-plugin ServeConfig.GRPCServer) or use a Go host");
    }
    throw new HandshakeException(
        "unsupported plugin protocol \"" + protocol + "\"; allowedProtocols is " + allowed
            + ". Check that the command runs a go-plugin gRPC plugin");
  }

  /**
   * Connects, checks health, starts the broker and stdio streams.
   *
   * @return the {@link System#nanoTime()} readings after the channel was built and after the
   *     health check answered (phase timings)
   */
  private long[] connect(long deadline, AttachedRunner r) {
    SslContext clientTls = null;
    // The broker's server side is first needed after the health check: build it meanwhile.
    CompletableFuture<SslContext> serverTlsBuilt = CompletableFuture.completedFuture(null);
    if (config.tls() != null) {
      serverTlsBuilt = CompletableFuture.supplyAsync(() -> TlsContexts.server(config.tls()),
          grpcExecutor);
      clientTls = TlsContexts.client(config.tls());
    } else if (hostCert != null && pluginCert != null) {
      AutoMtlsCertificate own = hostCert;
      X509Certificate peer = pluginCert;
      serverTlsBuilt = CompletableFuture.supplyAsync(() -> TlsContexts.server(own, peer),
          grpcExecutor);
      clientTls = TlsContexts.client(hostCert, pluginCert);
    }
    var customizer = config.channelCustomizer();
    ExecutorService exec = grpcExecutor;
    Consumer<NettyChannelBuilder> tune = b -> {
      b.executor(exec);
      if (customizer != null) {
        customizer.accept(b);
      }
    };
    if (config.multiplexBroker()) {
      muxer = connectMuxer(deadline, r);
      channel = muxer.mainChannel(clientTls, tune);
    } else {
      channel = GrpcTransport.channel(address, clientTls, group, tune);
    }
    long channelBuilt = System.nanoTime();
    healthCheck(deadline, r);
    long healthy = System.nanoTime();
    SslContext serverTls;
    try {
      serverTls = serverTlsBuilt.join();
    } catch (java.util.concurrent.CompletionException e) {
      if (e.getCause() instanceof RuntimeException re) {
        throw re;
      }
      throw e;
    }
    startBroker(serverTls, clientTls, r, tune);
    startStdio();
    return new long[] {channelBuilt, healthy};
  }

  /** Dials the plugin's socket once and runs the yamux client role over it. */
  private YamuxMuxer connectMuxer(long deadline, AttachedRunner r) {
    YamuxSession session;
    try {
      // Unix socket, or TCP where a runner bridges to the plugin (a remote runner).
      session = YamuxSession.connect(address, group, YamuxConfig.defaults())
          .get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
    } catch (TimeoutException e) {
      throw new PluginStartException(failure(
          "timeout while waiting for plugin to start: cannot open the multiplexed connection to "
              + address + " in time", r));
    } catch (ExecutionException e) {
      throw new PluginStartException(failure(
          "cannot open the multiplexed connection to " + address + ": " + e.getCause().getMessage(), r),
          e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new PluginStartException(failure("interrupted while connecting to the plugin", r), e);
    }
    return new YamuxMuxer(session, group, grpcExecutor, null);
  }

  private void healthCheck(long deadline, AttachedRunner r) {
    // Not waitForReady: it would hide why the connection fails (a TLS mismatch looked like a
    // start timeout). Retry UNAVAILABLE while the plugin may still be coming up; stop at once on
    // a TLS failure or when the plugin is gone.
    StatusRuntimeException last = null;
    while (true) {
      long remaining = deadline - System.nanoTime();
      if (remaining <= 0) {
        throw new PluginStartException(failure(
            "timeout while waiting for plugin to start: it handshook but its gRPC server at "
                + address + " did not answer a health check in time"
                + (last == null ? "" : "; last error: " + describe(last)), r), last);
      }
      try {
        HealthCheckResponse resp =
            HealthGrpc.newBlockingStub(channel)
                .withDeadlineAfter(Math.min(remaining, TimeUnit.SECONDS.toNanos(5)), TimeUnit.NANOSECONDS)
                .check(HealthCheckRequest.newBuilder().setService("plugin").build());
        if (resp.getStatus() != HealthCheckResponse.ServingStatus.SERVING) {
          throw new PluginStartException(failure(
              "the plugin at " + address + " reports health " + resp.getStatus() + ", not SERVING", r));
        }
        return;
      } catch (StatusRuntimeException e) {
        last = e;
        if (e.getStatus().getCode() != Status.Code.UNAVAILABLE
            && e.getStatus().getCode() != Status.Code.DEADLINE_EXCEEDED) {
          throw new PluginStartException(failure(
              "the plugin's gRPC server at " + address + " failed its health check: " + describe(e), r), e);
        }
        if (isTlsFailure(e)) {
          throw new PluginStartException(failure(
              "cannot reach the plugin's gRPC server at " + address + ": the TLS handshake failed ("
                  + describe(e) + "). Check that both sides use AutoMTLS, or TLS material that"
                  + " trusts the other side's certificate", r), e);
        }
        if (r.onExit().isDone()) {
          throw new PluginStartException(failure(
              "plugin exited before we could connect (exit status " + r.onExit().getNow(null) + ")", r), e);
        }
        log.debug("health check of plugin {} at {} not answered yet, retrying: {}", name, address,
            describe(e));
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new PluginStartException(failure("interrupted while connecting to the plugin", r), e);
      }
    }
  }

  private static boolean isTlsFailure(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof javax.net.ssl.SSLException) {
        return true;
      }
    }
    return false;
  }

  private static String describe(StatusRuntimeException e) {
    Throwable root = e;
    while (root.getCause() != null) {
      root = root.getCause();
    }
    return e.getStatus().getCode() + (e.getStatus().getDescription() == null ? "" : ": " + e.getStatus().getDescription())
        + (root != e ? " (" + root.getClass().getSimpleName() + ": " + root.getMessage() + ")" : "");
  }

  private void startBroker(
      SslContext serverTls, SslContext clientTls, AttachedRunner r, Consumer<NettyChannelBuilder> tune) {
    AtomicInteger seq = new AtomicInteger();
    BrokerImpl.Listeners listeners = new BrokerImpl.Listeners() {
      @Override
      public NetAddress newAddress() {
        Path dir = socketDir != null ? socketDir : Path.of(System.getProperty("java.io.tmpdir"));
        return NetAddress.unix(dir.resolve("host" + seq.incrementAndGet() + "-"
            + Integer.toHexString(RANDOM.nextInt(0x10000)) + ".sock").toString());
      }

      @Override
      public void prepare(NetAddress listening) {
        if (config.unixSocketGroup() != null) {
          Path p = Path.of(listening.address());
          try {
            setGroup(p, config.unixSocketGroup());
            Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rw-rw----"));
          } catch (IOException e) {
            throw new PluginException("cannot give broker socket " + p + " to group "
                + config.unixSocketGroup() + ": " + e.getMessage(), e);
          }
        }
      }
    };
    broker = new BrokerImpl(
        this::sendBrokerMessage, serverTls, clientTls, listeners,
        r::hostToPlugin, a -> checkBrokerAddress(r.pluginToHost(a)),
        group, muxer, timer, tune);
    BrokerImpl b = broker;
    brokerOut = GRPCBrokerGrpc.newStub(channel).startStream(new StreamObserver<>() {
      @Override
      public void onNext(ConnInfo value) {
        b.onMessage(value);
      }

      @Override
      public void onError(Throwable t) {
        if (!closing) {
          log.debug("broker stream of plugin {} ended: {}", name, t.toString());
        }
      }

      @Override
      public void onCompleted() {
        log.debug("broker stream of plugin {} completed", name);
      }
    });
  }

  private void sendBrokerMessage(ConnInfo msg) {
    StreamObserver<ConnInfo> out = brokerOut;
    if (out == null) {
      throw new PluginException("the broker stream of plugin " + name + " is closed");
    }
    out.onNext(msg);
  }

  private void startStdio() {
    stdioContext = Context.current().withCancellation();
    stdioContext.run(() -> GRPCStdioGrpc.newStub(channel).streamStdio(
        com.google.protobuf.Empty.getDefaultInstance(), new StreamObserver<StdioData>() {
          @Override
          public void onNext(StdioData d) {
            OutputStream sink = d.getChannel() == StdioData.Channel.STDOUT ? config.syncStdout()
                : d.getChannel() == StdioData.Channel.STDERR ? config.syncStderr() : null;
            if (sink == null) {
              return;
            }
            try {
              synchronized (sink) {
                d.getData().writeTo(sink);
                sink.flush();
              }
            } catch (IOException e) {
              log.debug("cannot forward plugin stdio: {}", e.toString());
            }
          }

          @Override
          public void onError(Throwable t) {
            Status.Code c = Status.fromThrowable(t).getCode();
            if (c == Status.Code.UNIMPLEMENTED || c == Status.Code.UNAVAILABLE || c == Status.Code.CANCELLED) {
              log.debug("plugin {} stdio stream ended: {}", name, c);
            } else if (closing || exited) {
              // the plugin went away (close, Shutdown, exit): the stream's end says nothing new
              log.debug("plugin {} stdio stream ended: {}", name, t.toString());
            } else {
              log.warn("plugin {} stdio stream failed: {}", name, t.toString());
            }
          }

          @Override
          public void onCompleted() {}
        }));
  }

  private ReattachConfig reattachConfigFor(AttachedRunner r) {
    Map<String, String> attrs = new HashMap<>(r.reattachAttributes());
    String kind = r.kind();
    if (socketDir != null) {
      attrs.putIfAbsent("socket_dir", socketDir.toString());
    }
    return new ReattachConfig(
        Handshake.GRPC, version, address, kind, r.id(), attrs, config.multiplexBroker(),
        pluginCertBase64,
        hostCert == null ? "" : hostCert.pem(),
        hostCert == null ? "" : hostCert.privateKeyPem(),
        false);
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
    synchronized (lock) {
      if (state != State.RUNNING) {
        throw new IllegalStateException("the plugin client is closed");
      }
      p = pluginSet.get(pluginName);
      ch = channel;
      b = broker;
    }
    if (p == null) {
      throw new PluginException("unknown plugin type \"" + pluginName + "\"; protocol version "
          + version + " has " + new TreeSet<>(pluginSet.keySet()));
    }
    Object client = p.client(ch, b);
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
      return broker;
    }
  }

  public void ping() {
    ManagedChannel ch;
    synchronized (lock) {
      if (state != State.RUNNING) {
        throw new IllegalStateException("the plugin client is not running; call start() first");
      }
      ch = channel;
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

  public String describe() {
    synchronized (lock) {
      return name + ", " + state.name().toLowerCase(java.util.Locale.ROOT)
          + (runner != null ? ", id " + runner.id() : runnerId != null ? ", id " + runnerId : "")
          + (address != null ? ", at " + address : "");
    }
  }

  // ---------------------------------------------------------------------------------------------
  // stop

  public void close(boolean graceful, boolean kill) {
    synchronized (lock) {
      if (state == State.CLOSED) {
        return;
      }
      boolean wasRunning = state == State.RUNNING;
      state = State.CLOSED;
      if (!wasRunning) {
        return;
      }
      boolean testMode = reattachConfig != null && reattachConfig.test();
      // from here on, streams ending because the plugin leaves are expected, not failures
      closing = true;
      if (graceful && !exited && !testMode) {
        shutdownGracefully();
      }
      teardown(!testMode && kill, !testMode);
    }
  }

  public void detach() {
    synchronized (lock) {
      if (state == State.CLOSED) {
        return;
      }
      state = State.CLOSED;
      if (muxer != null) {
        log.warn("detaching from plugin {}, which uses the multiplexed broker: go-plugin serves only"
            + " its first host connection on a multiplexed socket and exits when it closes, so no"
            + " later host can reattach; use multiplexBroker(false) for plugins you detach", name);
      }
      AttachedRunner r = runner;
      teardown(false, false);
      if (r != null) {
        // the plugin keeps running; only this JVM's threads and connections for it go
        quietly(r::release);
      }
    }
  }

  private void shutdownGracefully() {
    try {
      GRPCControllerGrpc.newBlockingStub(channel)
          .withDeadlineAfter(GRACE_MILLIS, TimeUnit.MILLISECONDS)
          .shutdown(Empty.getDefaultInstance());
    } catch (StatusRuntimeException e) {
      // The plugin may exit before answering; that is the point.
      log.debug("plugin {} shutdown call: {}", name, e.getStatus());
    }
    try {
      Integer code = runner.onExit().get(GRACE_MILLIS, TimeUnit.MILLISECONDS);
      log.debug("plugin {} exited gracefully after Shutdown, exit status {}", name, code);
    } catch (TimeoutException e) {
      log.warn("plugin {} failed to exit gracefully within {} ms; killing it", name, GRACE_MILLIS);
    } catch (ExecutionException e) {
      log.debug("waiting for plugin {} exit: {}", name, e.getCause().toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Releases everything; each step guarded so one failure does not leak the rest. */
  private void teardown(boolean killPlugin, boolean removeSocketDir) {
    closing = true;
    if (stdioContext != null) {
      stdioContext.cancel(null);
    }
    if (brokerOut != null) {
      quietly(() -> brokerOut.onCompleted());
    }
    if (broker != null) {
      quietly(broker::close);
    }
    if (killPlugin && runner != null) {
      quietly(runner::kill);
    }
    if (channel != null) {
      channel.shutdownNow();
      quietly(() -> channel.awaitTermination(2, TimeUnit.SECONDS));
    }
    if (muxer != null) {
      quietly(muxer::close);
    }
    if (stderrPump != null) {
      quietly(stderrPump::close);
    }
    if (stdoutThread != null) {
      if (killPlugin) {
        quietly(() -> stdoutThread.join(2_000));
      }
      if (stdoutThread.isAlive()) {
        // a detached plugin keeps its stdout open; closing it ends our reader
        quietly(() -> ((Runner) runner).stdout().close());
        quietly(() -> stdoutThread.join(2_000));
      }
    }
    if (group != null) {
      quietly(() -> GrpcTransport.shutdown(group));
    }
    if (grpcExecutor != null) {
      grpcExecutor.shutdownNow();
      quietly(() -> grpcExecutor.awaitTermination(2, TimeUnit.SECONDS));
    }
    if (timer != null) {
      timer.shutdownNow();
    }
    if (removeSocketDir && deleteSocketDir && socketDir != null) {
      deleteRecursively(socketDir);
      SocketDirOwner.remove(socketDir);
    }
    exited = exited || killPlugin;
    dropReferences();
  }

  /**
   * A closed client that the application still references must cost next to nothing: forget
   * everything teardown released (channel, broker, muxer, event loops, executors, pumps, runner,
   * certificates), keeping only what {@link #describe()} and {@link #reattachConfig()} report.
   */
  private void dropReferences() {
    if (runner != null) {
      runnerId = runner.id();
    }
    runner = null;
    channel = null;
    broker = null;
    muxer = null;
    brokerOut = null;
    stdioContext = null;
    group = null;
    grpcExecutor = null;
    timer = null;
    stderrPump = null;
    stdoutThread = null;
    hostCert = null;
    pluginCert = null;
    pluginCertBase64 = "";
  }

  private static void deleteRecursively(Path dir) {
    try (Stream<Path> s = Files.walk(dir)) {
      List<Path> paths = new ArrayList<>(s.sorted(Comparator.reverseOrder()).toList());
      for (Path p : paths) {
        Files.deleteIfExists(p);
      }
    } catch (IOException | UncheckedIOException e) {
      log.warn("cannot remove plugin socket directory {}: {}", dir, e.toString());
    }
  }

  private interface Step {
    void run() throws Exception;
  }

  private static void quietly(Step s) {
    try {
      s.run();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Exception e) {
      log.debug("cleanup step failed: {}", e.toString());
    }
  }

  // ---------------------------------------------------------------------------------------------
  // diagnosis

  private String failure(String what, AttachedRunner r) {
    StringBuilder sb = new StringBuilder(what);
    if (stderrPump != null) {
      // A plugin that exited has its last lines in the pipe: let the pump drain them. One that
      // still runs cannot end the stream, and the pump logs lines as they come: do not wait.
      boolean gone = r.onExit().isDone();
      stderrPump.awaitDrained(java.time.Duration.ofMillis(gone ? 500 : 20));
      List<String> tail = stderrPump.recentLines();
      if (!tail.isEmpty()) {
        sb.append("\nPlugin stderr (last ").append(tail.size()).append(" lines):");
        tail.forEach(l -> sb.append("\n  ").append(abbreviate(l)));
      }
    }
    if (r instanceof Runner runnerWithDiag) {
      String d;
      try {
        d = runnerWithDiag.diagnose();
      } catch (RuntimeException e) {
        d = "(diagnose failed: " + e + ")";
      }
      if (d != null && !d.isBlank()) {
        sb.append("\nDiagnosis: ").append(d.strip());
      }
    }
    return sb.toString();
  }

  private static String abbreviate(String s) {
    return s.length() <= 200 ? s : s.substring(0, 200) + "…";
  }

  private static Thread newThread(String name, Runnable r) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    return t;
  }

  private static ThreadFactory daemon(String prefix) {
    AtomicInteger n = new AtomicInteger();
    return r -> newThread(prefix + "-" + n.incrementAndGet(), r);
  }
}
