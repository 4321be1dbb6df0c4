package dev.goplugin4j.host;

import dev.goplugin4j.protocol.GrpcBroker;
import dev.goplugin4j.protocol.Handshake;
import dev.goplugin4j.protocol.HandshakeException;
import dev.goplugin4j.protocol.PluginEnv;
import dev.goplugin4j.protocol.PluginException;
import dev.goplugin4j.protocol.TlsConfig;
import dev.goplugin4j.host.internal.client.ClientSession;
import io.grpc.ClientInterceptor;
import io.grpc.ManagedChannelBuilder;
import io.grpc.ServerInterceptor;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.TreeMap;
import java.util.function.Consumer;
import org.slf4j.Logger;

/**
 * A host's connection to one plugin: starts it (as a process, through a {@link RunnerFactory}
 * such as the container runner, or by reattaching to a running one), performs go-plugin's
 * handshake, connects over gRPC and dispenses typed clients. The Java counterpart of go-plugin's
 * {@code plugin.Client}.
 *
 * <pre>{@code
 * try (PluginClient client = PluginClient.builder()
 *     .handshake(1, "BASIC_PLUGIN", "hello")
 *     .plugin("kv", new KvPlugin())
 *     .command("./kv-plugin")
 *     .build()) {
 *   Kv kv = client.dispense("kv", Kv.class);
 *   kv.put("hello", "world".getBytes());
 * }
 * }</pre>
 *
 * <p>Building does not start anything; {@link #start()} (or the first {@link #dispense}) does.
 * {@link #close()} asks the plugin to shut down, waits up to 2 s, then kills it, and releases
 * every thread, socket, file and directory the client made. All methods are thread-safe.
 */
public final class PluginClient implements AutoCloseable {
  private final Config config;
  private final ClientSession session;

  private PluginClient(Config config) {
    this.config = config;
    this.session = new ClientSession(config);
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
   * A builder initialised with this client's configuration, to derive a modified client.
   *
   * @return a builder
   */
  public Builder newBuilder() {
    return new Builder(config);
  }

  /**
   * Starts the plugin and connects, if not done yet. Blocks until connected or failed, at most
   * the start timeout (plus the time to clean up a failed start).
   *
   * @throws PluginStartException if the plugin cannot be started, exits early or does not
   *     handshake in time; the message includes the runner's diagnosis
   * @throws HandshakeException if the handshake is malformed or incompatible
   * @throws ChecksumMismatchException if the executable's SHA-256 differs from the configured one
   * @throws IllegalStateException if the client was closed
   */
  public void start() {
    session.start();
  }

  /**
   * Starts the plugin if needed and returns a client for the named plugin service, made by its
   * {@link GrpcPlugin} from the negotiated version's plugin set.
   *
   * @param name the plugin's name in the plugin set
   * @param type the expected client type
   * @param <T> the client type
   * @return a new client (each call makes a new one over the same connection)
   * @throws PluginException if no plugin of that name exists for the negotiated version, or the
   *     adapter returns another type
   */
  public <T> T dispense(String name, Class<T> type) {
    return session.dispense(name, type);
  }

  /**
   * The broker of the started plugin, to offer or dial extra services directly.
   *
   * @return the broker
   * @throws IllegalStateException if not started
   */
  public GrpcBroker broker() {
    return session.broker();
  }

  /**
   * Checks the plugin is alive with a gRPC health check of service {@code plugin}.
   *
   * @throws PluginException if the plugin does not answer SERVING within 5 s
   */
  public void ping() {
    session.ping();
  }

  /**
   * The app protocol version the plugin chose.
   *
   * @return the version, or empty before start
   */
  public Optional<Integer> negotiatedVersion() {
    return session.negotiatedVersion();
  }

  /**
   * What a later host needs to reconnect to this plugin; see {@link Builder#reattach}. With
   * AutoMTLS it contains this client's private key: store it with owner-only permissions.
   *
   * @return the reattach config, or empty before start
   */
  public Optional<ReattachConfig> reattachConfig() {
    return session.reattachConfig();
  }

  /**
   * Whether the plugin has stopped (exited, killed, or the client closed).
   *
   * @return true once stopped
   */
  public boolean exited() {
    return session.exited();
  }

  /**
   * The bytes this client's connection to the plugin carries, when it uses the multiplexed
   * broker ({@link Builder#multiplexBroker(boolean) multiplexBroker(true)}): one connection
   * carries every gRPC connection, so these are all the bytes between host and plugin. The view
   * is live: its counts are 0 before the client connects, grow while it runs and stay readable,
   * final, after it is closed. For a client without the multiplexed broker (each gRPC connection
   * its own socket) there is no such view.
   *
   * @return the same view on every call, or empty when the client does not use the multiplexed
   *     broker
   */
  public Optional<TransportStats> transportStats() {
    return session.transportStats();
  }

  /**
   * Registers a listener for this client's events from now on; see {@link PluginListener} for
   * threads and ordering and {@link PluginEvent} for the events. Listeners given to the builder
   * ({@link Builder#listener}) are registered from the start; one added later misses what
   * already happened. The same listener may be added twice and is then called twice.
   *
   * @param listener not null
   */
  public void addListener(PluginListener listener) {
    session.addListener(Objects.requireNonNull(listener, "listener"));
  }

  /**
   * Unregisters a listener (one registration of it); it may still receive an event being
   * delivered at this moment.
   *
   * @param listener the listener
   * @return whether it was registered
   */
  public boolean removeListener(PluginListener listener) {
    return session.removeListener(listener);
  }

  /**
   * Kills the plugin at once without asking it to shut down, then releases everything. The
   * client cannot be restarted. Idempotent. Like {@link #close()}, leaves a plugin reattached in
   * test mode running.
   */
  public void kill() {
    session.close(false, true);
  }

  /**
   * Releases this client's resources but leaves the plugin running, for a later host to {@link
   * Builder#reattach reattach}. Take {@link #reattachConfig()} first. The socket directory is kept
   * (the plugin's socket lives there); the runner's own threads and connections are freed
   * ({@link AttachedRunner#release()}). Idempotent.
   *
   * <p>A plugin that uses the multiplexed broker ({@link Builder#multiplexBroker(boolean)}) cannot
   * be reattached: go-plugin (and the goplugin4j server) serve one host connection on a
   * multiplexed socket, and a go-plugin plugin exits when that connection closes. Detach such a
   * client only to leave the plugin to end by itself; a warning is logged.
   */
  public void detach() {
    session.detach();
  }

  /**
   * Asks the plugin to shut down ({@code plugin.GRPCController/Shutdown}), waits up to 2 s for it
   * to exit, kills it otherwise, and releases every thread, socket, file and directory the client
   * made. Idempotent; never throws for a plugin that is already gone.
   *
   * <p>The clients of one JVM share a thread pool, a timer thread and the Netty event loops (so a
   * warm host's next start finds them running): {@code close()} ends this client's jobs and timers
   * at once, and the shared threads themselves end about 1 s after the JVM's last client closed.
   *
   * <p>A client {@linkplain Builder#reattach reattached} with a config whose {@link
   * ReattachConfig#test() test} flag is set (go-plugin's {@code ReattachConfig.Test}) neither calls
   * Shutdown nor kills: the plugin keeps running and keeps its socket directory, as in go-plugin,
   * where a plugin in test mode is owned by the test that started it. This client's own threads and
   * connections are still released.
   */
  @Override
  public void close() {
    session.close(true, true);
  }

  @Override
  public String toString() {
    return "PluginClient[" + session.describe() + "]";
  }

  /**
   * The immutable configuration of a client. Internal code reads it; users build it through
   * {@link Builder}.
   *
   * @param protocolVersion the app protocol version given to {@link Builder#handshake(int, String,
   *     String)} (the version of {@link Builder#plugin} entries), or 0 when none was given (a host
   *     that declares its versions with {@link Builder#plugins} only, or a reattach without a
   *     handshake)
   * @param magicCookieKey the magic cookie's environment variable name
   * @param magicCookieValue the magic cookie's value
   * @param versionedPlugins plugin sets per app version: the versions the host offers, each with
   *     at least one plugin
   * @param command the command line, or empty
   * @param runnerFactory the runner factory, or null
   * @param reattach the reattach config, or null
   * @param reattacher the reattacher for non-process reattach configs, or null
   * @param autoMtls whether AutoMTLS is on
   * @param tls a user TLS config, or null
   * @param multiplexBroker whether to ask for the multiplexed broker
   * @param unixSocketGroup the socket group, or null
   * @param unixSocketTempDir the parent of socket dirs, or null for the system default
   * @param startTimeout how long to wait for the handshake
   * @param skipHostEnv whether the plugin does not inherit the host's environment
   * @param env extra environment for the plugin
   * @param minPort lowest TCP port for the plugin
   * @param maxPort highest TCP port for the plugin
   * @param stderr raw copy of the plugin's stderr, or null
   * @param syncStdout where forwarded plugin stdout goes, or null
   * @param syncStderr where forwarded plugin stderr goes, or null
   * @param logger the logger for plugin logs, or null for the default
   * @param logLineBufferSize the longest stderr line before it is split
   * @param sha256 the executable's expected SHA-256 in lower-case hex, or null
   * @param channelCustomizer applied to the builder of every gRPC channel to the plugin (the main
   *     one and each brokered one), or null
   * @param allowedProtocols the plugin protocols accepted in the handshake; only {@value
   *     Handshake#GRPC} can be in it
   * @param allowNonLoopbackTcp whether the host dials TCP addresses other than loopback that a
   *     plugin announces
   * @param listeners the client's event listeners, in registration order
   * @param interceptors put on every gRPC channel to the plugin (main and brokered), in the order
   *     of {@link Builder#interceptors}; empty for none
   * @param serverInterceptors put on every server the host serves to the plugin through the
   *     broker, in the order of {@link Builder#serverInterceptors}; empty for none
   * @param closeOnJvmExit whether a started client still open when the JVM exits is closed by a
   *     shutdown hook ({@link Builder#closeOnJvmExit})
   */
  public record Config(
      int protocolVersion,
      String magicCookieKey,
      String magicCookieValue,
      Map<Integer, Map<String, GrpcPlugin<?>>> versionedPlugins,
      List<String> command,
      RunnerFactory runnerFactory,
      ReattachConfig reattach,
      Reattacher reattacher,
      boolean autoMtls,
      TlsConfig tls,
      boolean multiplexBroker,
      String unixSocketGroup,
      Path unixSocketTempDir,
      Duration startTimeout,
      boolean skipHostEnv,
      Map<String, String> env,
      int minPort,
      int maxPort,
      OutputStream stderr,
      OutputStream syncStdout,
      OutputStream syncStderr,
      Logger logger,
      int logLineBufferSize,
      String sha256,
      Consumer<ManagedChannelBuilder<?>> channelCustomizer,
      Set<String> allowedProtocols,
      boolean allowNonLoopbackTcp,
      List<PluginListener> listeners,
      List<ClientInterceptor> interceptors,
      List<ServerInterceptor> serverInterceptors,
      boolean closeOnJvmExit) {

    /**
     * The kind of the runner: the reattach config's, the runner factory's, or {@value
     * ReattachConfig#KIND_PROCESS}.
     *
     * @return the runner kind
     */
    public String runnerKind() {
      return reattach != null ? reattach.runnerKind()
          : runnerFactory != null ? runnerFactory.kind()
          : ReattachConfig.KIND_PROCESS;
    }

    /** A short name for logs and thread names: the executable's file name, or the runner kind. */
    public String pluginName() {
      if (!command.isEmpty()) {
        return Path.of(command.get(0)).getFileName().toString();
      }
      if (reattach != null) {
        return reattach.runnerKind() + "-" + reattach.runnerId();
      }
      return "plugin";
    }
  }

  /**
   * Builds a {@link PluginClient}. Each setter checks its argument at once; {@link #build()}
   * checks the combination. Not thread-safe; the built client is.
   */
  public static final class Builder {
    /** Default start timeout: 1 minute, as go-plugin. */
    public static final Duration DEFAULT_START_TIMEOUT = Duration.ofMinutes(1);

    /** Default longest stderr line before it is split: 64 KiB. */
    public static final int DEFAULT_LOG_LINE_BUFFER_SIZE = 64 * 1024;

    /** Default allowed plugin protocols: gRPC only, the one protocol the JVM can speak. */
    public static final Set<String> DEFAULT_ALLOWED_PROTOCOLS = Set.of(Handshake.GRPC);

    private Integer protocolVersion;
    private String magicCookieKey;
    private String magicCookieValue;
    private final Map<Integer, Map<String, GrpcPlugin<?>>> versioned = new TreeMap<>();
    private final Map<String, GrpcPlugin<?>> unversioned = new LinkedHashMap<>();
    private List<String> command = List.of();
    private RunnerFactory runnerFactory;
    private ReattachConfig reattach;
    private Reattacher reattacher;
    private boolean autoMtls = true;
    private TlsConfig tls;
    private boolean multiplexBroker;
    private String unixSocketGroup;
    private Path unixSocketTempDir;
    private Duration startTimeout = DEFAULT_START_TIMEOUT;
    private boolean skipHostEnv;
    private final Map<String, String> env = new LinkedHashMap<>();
    private int minPort = PluginEnv.DEFAULT_MIN_PORT;
    private int maxPort = PluginEnv.DEFAULT_MAX_PORT;
    private OutputStream stderr;
    private OutputStream syncStdout;
    private OutputStream syncStderr;
    private Logger logger;
    private int logLineBufferSize = DEFAULT_LOG_LINE_BUFFER_SIZE;
    private String sha256;
    private Consumer<ManagedChannelBuilder<?>> channelCustomizer;
    private Set<String> allowedProtocols = DEFAULT_ALLOWED_PROTOCOLS;
    private boolean allowNonLoopbackTcp;
    private final List<PluginListener> listeners = new ArrayList<>();
    private final List<ClientInterceptor> interceptors = new ArrayList<>();
    private final List<ServerInterceptor> serverInterceptors = new ArrayList<>();
    private boolean closeOnJvmExit = true;

    Builder() {}

    Builder(Config c) {
      protocolVersion = c.protocolVersion() == 0 ? null : c.protocolVersion();
      magicCookieKey = c.magicCookieKey();
      magicCookieValue = c.magicCookieValue();
      c.versionedPlugins().forEach((v, m) -> versioned.put(v, new LinkedHashMap<>(m)));
      command = c.command();
      runnerFactory = c.runnerFactory();
      reattach = c.reattach();
      reattacher = c.reattacher();
      autoMtls = c.autoMtls();
      tls = c.tls();
      multiplexBroker = c.multiplexBroker();
      unixSocketGroup = c.unixSocketGroup();
      unixSocketTempDir = c.unixSocketTempDir();
      startTimeout = c.startTimeout();
      skipHostEnv = c.skipHostEnv();
      env.putAll(c.env());
      minPort = c.minPort();
      maxPort = c.maxPort();
      stderr = c.stderr();
      syncStdout = c.syncStdout();
      syncStderr = c.syncStderr();
      logger = c.logger();
      logLineBufferSize = c.logLineBufferSize();
      sha256 = c.sha256();
      channelCustomizer = c.channelCustomizer();
      allowedProtocols = c.allowedProtocols();
      allowNonLoopbackTcp = c.allowNonLoopbackTcp();
      listeners.addAll(c.listeners());
      interceptors.addAll(c.interceptors());
      serverInterceptors.addAll(c.serverInterceptors());
      closeOnJvmExit = c.closeOnJvmExit();
    }

    /**
     * The handshake config of a host that speaks one app protocol version, as go-plugin's {@code
     * HandshakeConfig}: the version of the plugins added with {@link #plugin}, and the magic
     * cookie. This or {@link #handshake(String, String)} is required (except to reattach).
     *
     * <p>The version means what it says: it is offered to the plugin ({@code
     * PLUGIN_PROTOCOL_VERSIONS}) with the plugins of {@link #plugin}, so {@link #build()} fails
     * when no plugin belongs to it (only {@link #plugins(int, Map)} entries of other versions).
     * A host that offers several versions calls {@link #handshake(String, String)} and declares
     * each version with {@link #plugins(int, Map)}.
     *
     * @param protocolVersion the app protocol version of {@link #plugin} entries; at least 1
     * @param magicCookieKey environment variable name the plugin checks; a valid env name
     * @param magicCookieValue its value; not empty
     * @return this builder
     */
    public Builder handshake(int protocolVersion, String magicCookieKey, String magicCookieValue) {
      if (protocolVersion < 1) {
        throw new IllegalArgumentException("protocolVersion must be >= 1, got " + protocolVersion);
      }
      handshake(magicCookieKey, magicCookieValue);
      this.protocolVersion = protocolVersion;
      return this;
    }

    /**
     * The magic cookie alone, for a host that declares its app protocol versions with {@link
     * #plugins(int, Map)} (go-plugin's {@code HandshakeConfig} with {@code VersionedPlugins} and no
     * {@code ProtocolVersion}). The host offers every declared version; the plugin picks the
     * highest it supports, and {@link PluginClient#negotiatedVersion()} and {@link
     * GrpcPlugin#client(io.grpc.Channel, GrpcBroker, int)} tell which. Clears a version given
     * earlier with {@link #handshake(int, String, String)}, so {@link #plugin} entries then have
     * no version and {@link #build()} refuses them.
     *
     * <pre>{@code
     * PluginClient.builder()
     *     .handshake("TF_PLUGIN_MAGIC_COOKIE", "d602bf8f...")
     *     .plugins(5, Map.of("provider", v5))
     *     .plugins(6, Map.of("provider", v6))
     * }</pre>
     *
     * @param magicCookieKey environment variable name the plugin checks; a valid env name
     * @param magicCookieValue its value; not empty
     * @return this builder
     */
    public Builder handshake(String magicCookieKey, String magicCookieValue) {
      Objects.requireNonNull(magicCookieKey, "magicCookieKey");
      Objects.requireNonNull(magicCookieValue, "magicCookieValue");
      if (magicCookieKey.isEmpty() || magicCookieKey.contains("=") || magicCookieKey.contains("\0")) {
        throw new IllegalArgumentException(
            "magicCookieKey must be a non-empty environment variable name without '=' or NUL, got \""
                + magicCookieKey + "\"");
      }
      if (magicCookieValue.isEmpty()) {
        throw new IllegalArgumentException("magicCookieValue must not be empty");
      }
      this.protocolVersion = null;
      this.magicCookieKey = magicCookieKey;
      this.magicCookieValue = magicCookieValue;
      return this;
    }

    /**
     * Adds a plugin to the set of the version given to {@link #handshake(int, String, String)}
     * (go-plugin's {@code ClientConfig.Plugins}); to a {@link #plugins(int, Map)} set of that same
     * version too, when there is one. When reattaching without a handshake, the reattached
     * plugin's version.
     *
     * @param name the name the plugin serves under (go-plugin's plugin map key); not empty
     * @param plugin the adapter; not null
     * @return this builder
     */
    public Builder plugin(String name, GrpcPlugin<?> plugin) {
      checkName(name);
      unversioned.put(name, Objects.requireNonNull(plugin, "plugin"));
      return this;
    }

    /**
     * Sets the plugin set of one app protocol version (go-plugin's {@code VersionedPlugins}). The
     * host offers every version that has a set (and the {@link #handshake(int, String, String)}
     * version, which must be one of them or have {@link #plugin} entries); the plugin picks the
     * highest it supports, and the host refuses a version it did not offer with an {@link
     * dev.goplugin4j.protocol.IncompatibleVersionException}. Calling it again for a version
     * replaces that version's set. The same adapter may serve several versions: {@link
     * GrpcPlugin#versioned} tells it which one was negotiated.
     *
     * @param version the app protocol version; at least 1
     * @param plugins name to adapter; not empty
     * @return this builder
     */
    public Builder plugins(int version, Map<String, ? extends GrpcPlugin<?>> plugins) {
      if (version < 1) {
        throw new IllegalArgumentException("version must be >= 1, got " + version);
      }
      Objects.requireNonNull(plugins, "plugins");
      if (plugins.isEmpty()) {
        throw new IllegalArgumentException("plugins for version " + version + " must not be empty");
      }
      plugins.forEach((n, p) -> {
        checkName(n);
        Objects.requireNonNull(p, "plugin " + n);
      });
      versioned.put(version, new LinkedHashMap<>(plugins));
      return this;
    }

    /**
     * Runs the plugin as a child process. Exactly one of command, {@link #runner} and {@link
     * #reattach} must be set.
     *
     * @param executable the plugin executable; not empty
     * @param args its arguments
     * @return this builder
     */
    public Builder command(String executable, String... args) {
      Objects.requireNonNull(executable, "executable");
      if (executable.isEmpty()) {
        throw new IllegalArgumentException("executable must not be empty");
      }
      List<String> c = new ArrayList<>();
      c.add(executable);
      for (String a : args) {
        c.add(Objects.requireNonNull(a, "args element"));
      }
      this.command = List.copyOf(c);
      return this;
    }

    /**
     * Runs the plugin with a custom runner, such as the container runner.
     *
     * @param factory makes the runner at start; not null
     * @return this builder
     */
    public Builder runner(RunnerFactory factory) {
      this.runnerFactory = Objects.requireNonNull(factory, "factory");
      return this;
    }

    /**
     * Reattaches to a plugin that is already running instead of starting one. Process plugins
     * are found by the built-in reattacher; for other kinds use {@link #reattach(ReattachConfig,
     * Reattacher)}.
     *
     * <p>The config is checked before the reattacher touches any process or container: a Unix
     * address must be a socket directly inside the config's {@code socket_dir} runner attribute
     * (or, when it has none, the address's own directory), and that directory must be one
     * goplugin4j makes (named {@code goplugin4j-<digits>}, a real directory owned by this
     * process's user); a TCP address must be on loopback unless {@link
     * #allowNonLoopbackTcp(boolean)}; a container plugin only through its socket directory.
     * Anything else fails {@link PluginClient#start()} with {@link
     * dev.goplugin4j.protocol.AddressRefusedException}. When the reattach fails because the plugin
     * is gone (the reattacher finds no plugin and nothing listens on its socket any more), the
     * failed start removes the dead plugin's socket and that socket directory; a later {@link
     * PluginClient#close()} has nothing left to do.
     *
     * @param config from an earlier client's {@link PluginClient#reattachConfig()}; not null
     * @return this builder
     */
    public Builder reattach(ReattachConfig config) {
      this.reattach = Objects.requireNonNull(config, "config");
      return this;
    }

    /**
     * Reattaches with a runner-specific reattacher (e.g. the container runner's).
     *
     * @param config the reattach config; not null
     * @param reattacher finds the running plugin; not null
     * @return this builder
     */
    public Builder reattach(ReattachConfig config, Reattacher reattacher) {
      this.reattach = Objects.requireNonNull(config, "config");
      this.reattacher = Objects.requireNonNull(reattacher, "reattacher");
      return this;
    }

    /**
     * Whether to use go-plugin's AutoMTLS: one-off certificates on both sides, each trusting only
     * the other's. Default true (go-plugin's default is false; we prefer the safe one). Ignored
     * when {@link #tls} is set.
     *
     * @param autoMtls on or off
     * @return this builder
     */
    public Builder autoMtls(boolean autoMtls) {
      this.autoMtls = autoMtls;
      return this;
    }

    /**
     * Uses the given TLS material instead of AutoMTLS (the plugin must be configured to match).
     *
     * @param tls the key and trust material; null to clear
     * @return this builder
     */
    public Builder tls(TlsConfig tls) {
      this.tls = tls;
      return this;
    }

    /**
     * Asks the plugin for go-plugin's multiplexed broker ({@code PLUGIN_MULTIPLEX_GRPC}): one
     * connection, every gRPC connection a yamux stream. Needed for plugins in gVisor. Default
     * false. Requires go-plugin v1.6+ in the plugin.
     *
     * @param multiplex on or off
     * @return this builder
     */
    public Builder multiplexBroker(boolean multiplex) {
      this.multiplexBroker = multiplex;
      return this;
    }

    /**
     * The group (gid or name) that should own the plugin's Unix sockets, mode 0660; the socket
     * directory is then 0770 and group-owned too. Default none (sockets private to the user).
     *
     * @param group a gid or group name; null to clear
     * @return this builder
     */
    public Builder unixSocketGroup(String group) {
      if (group != null && (group.isBlank() || group.contains("="))) {
        throw new IllegalArgumentException("unixSocketGroup must be a gid or group name, got \"" + group + "\"");
      }
      this.unixSocketGroup = group;
      return this;
    }

    /**
     * Where the client creates its private socket directory. Default: the system temp dir. Keep
     * it short: Unix socket paths must stay under 108 bytes.
     *
     * @param dir an existing directory; null for the default
     * @return this builder
     */
    public Builder unixSocketTempDir(Path dir) {
      if (dir != null && !Files.isDirectory(dir)) {
        throw new IllegalArgumentException("unixSocketTempDir " + dir + " is not a directory");
      }
      this.unixSocketTempDir = dir;
      return this;
    }

    /**
     * How long to wait for the plugin's handshake and its gRPC server's answer. Default 1 minute.
     *
     * @param timeout positive; not null
     * @return this builder
     */
    public Builder startTimeout(Duration timeout) {
      Objects.requireNonNull(timeout, "timeout");
      if (timeout.isZero() || timeout.isNegative()) {
        throw new IllegalArgumentException("startTimeout must be positive, got " + timeout);
      }
      this.startTimeout = timeout;
      return this;
    }

    /**
     * Whether the plugin does NOT inherit the host's environment. Default false (it does, as in
     * go-plugin). Recommended true for untrusted plugins.
     *
     * @param skip true to give the plugin only the go-plugin variables and {@link #env}
     * @return this builder
     */
    public Builder skipHostEnv(boolean skip) {
      this.skipHostEnv = skip;
      return this;
    }

    /**
     * Adds an environment variable for the plugin. go-plugin's own variables win over these.
     *
     * @param name a non-empty name without '='
     * @param value the value; not null
     * @return this builder
     */
    public Builder env(String name, String value) {
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(value, "value");
      if (name.isEmpty() || name.contains("=")) {
        throw new IllegalArgumentException("env name must be non-empty without '=', got \"" + name + "\"");
      }
      env.put(name, value);
      return this;
    }

    /**
     * The TCP port range for plugins that listen on TCP. Default 10000-25000.
     *
     * @param min lowest port, 1-65535
     * @param max highest port, min-65535
     * @return this builder
     */
    public Builder portRange(int min, int max) {
      if (min < 1 || max > 65535 || min > max) {
        throw new IllegalArgumentException(
            "port range must satisfy 1 <= min <= max <= 65535, got " + min + "-" + max);
      }
      this.minPort = min;
      this.maxPort = max;
      return this;
    }

    /**
     * Receives a raw copy of everything the plugin writes to stderr, line by line. Default none
     * (plugin stderr is only logged).
     *
     * @param sink the stream; written from one client thread; null to clear
     * @return this builder
     */
    public Builder stderr(OutputStream sink) {
      this.stderr = sink;
      return this;
    }

    /**
     * Receives what the plugin's code writes to its stdout after the handshake, forwarded over
     * {@code plugin.GRPCStdio}. Default: discarded.
     *
     * @param sink the stream; null to clear
     * @return this builder
     */
    public Builder syncStdout(OutputStream sink) {
      this.syncStdout = sink;
      return this;
    }

    /**
     * Receives what the plugin's code writes to its stderr, forwarded over {@code
     * plugin.GRPCStdio}. Default: discarded.
     *
     * @param sink the stream; null to clear
     * @return this builder
     */
    public Builder syncStderr(OutputStream sink) {
      this.syncStderr = sink;
      return this;
    }

    /**
     * The SLF4J logger for the plugin's logs (its stderr). Default: a logger named {@code
     * goplugin4j.plugin.<executable name>}.
     *
     * @param logger the logger; null for the default
     * @return this builder
     */
    public Builder logger(Logger logger) {
      this.logger = logger;
      return this;
    }

    /**
     * The longest stderr line kept whole; longer ones are split, never dropped. Default 64 KiB.
     *
     * @param bytes 1 KiB to 16 MiB
     * @return this builder
     */
    public Builder logLineBufferSize(int bytes) {
      if (bytes < 1024 || bytes > 16 * 1024 * 1024) {
        throw new IllegalArgumentException("logLineBufferSize must be 1 KiB..16 MiB, got " + bytes);
      }
      this.logLineBufferSize = bytes;
      return this;
    }

    /**
     * Verifies the executable's SHA-256 before running it (go-plugin's {@code SecureConfig}).
     * Only with {@link #command}. Default: no check.
     *
     * @param hex 64 hex digits; null to clear
     * @return this builder
     */
    public Builder sha256(String hex) {
      if (hex == null) {
        this.sha256 = null;
        return this;
      }
      if (!hex.matches("[0-9a-fA-F]{64}")) {
        throw new IllegalArgumentException("sha256 must be 64 hex digits, got \"" + hex + "\"");
      }
      this.sha256 = hex.toLowerCase(java.util.Locale.ROOT);
      return this;
    }

    /**
     * Customises the gRPC channels to the plugin (interceptors, keepalive, ...): the main channel
     * and every channel the broker dials to a service the plugin serves with {@code
     * AcceptAndServe} (with or without the multiplexed broker). Applied last, after the client's
     * own settings (transport, TLS, executor). Default none.
     *
     * @param customizer called once per channel, from the thread that makes the channel (a
     *     brokered channel is made when a plugin client's code dials it), so it must be
     *     thread-safe; null to clear
     * @return this builder
     */
    public Builder channelCustomizer(Consumer<ManagedChannelBuilder<?>> customizer) {
      this.channelCustomizer = customizer;
      return this;
    }

    /**
     * Adds gRPC client interceptors to every channel to the plugin: the main channel (so the
     * calls of every dispensed client, and the client's own health check, broker and stdio
     * streams) and every channel the broker dials ({@link dev.goplugin4j.protocol.GrpcBroker#dial},
     * with or without the multiplexed broker). Each call's {@link io.grpc.CallOptions} then carry
     * a {@link PluginChannel} naming the plugin and whether the channel is brokered. Interceptors
     * run in reverse order of addition, as with {@link
     * io.grpc.ManagedChannelBuilder#intercept(ClientInterceptor...)}, and before the interceptors
     * a {@link #channelCustomizer} adds. Further calls add more. Default none: a client without
     * interceptors wraps nothing around its channels.
     *
     * @param interceptors not null, no null elements; shared by all channels of the client (and
     *     of every client they are given to), so they must be thread-safe
     * @return this builder
     */
    public Builder interceptors(ClientInterceptor... interceptors) {
      Objects.requireNonNull(interceptors, "interceptors");
      for (ClientInterceptor i : interceptors) {
        this.interceptors.add(Objects.requireNonNull(i, "interceptors element"));
      }
      return this;
    }

    /**
     * Adds gRPC server interceptors to every server the host serves to the plugin through the
     * broker ({@link dev.goplugin4j.protocol.GrpcBroker#acceptAndServe}): they see the plugin's
     * calls back into the host (a tracer extracts the caller's trace context there). Ordered as
     * {@link io.grpc.ServerInterceptors#intercept(io.grpc.ServerServiceDefinition, List)} orders
     * them (the last added runs first). Further calls add more. Default none: services are
     * served as given.
     *
     * @param interceptors not null, no null elements; must be thread-safe
     * @return this builder
     */
    public Builder serverInterceptors(ServerInterceptor... interceptors) {
      Objects.requireNonNull(interceptors, "interceptors");
      for (ServerInterceptor i : interceptors) {
        this.serverInterceptors.add(Objects.requireNonNull(i, "interceptors element"));
      }
      return this;
    }

    /**
     * The plugin protocols this host accepts in the plugin's handshake line (go-plugin's {@code
     * ClientConfig.AllowedProtocols}). A plugin that announces any other protocol is refused at
     * start with a {@link HandshakeException} naming its protocol and this set. Default {@link
     * #DEFAULT_ALLOWED_PROTOCOLS} (gRPC only; go-plugin's own default is net/rpc only, which no
     * JVM host can use). Also checked against the protocol of a {@link #reattach reattach}
     * config.
     *
     * <p>{@value Handshake#NETRPC} is accepted here, so configurations ported from Go keep their
     * shape, but {@link #build()} then fails: the JVM cannot speak Go's net/rpc protocol (gob over
     * Go's {@code net/rpc}).
     *
     * @param protocols {@value Handshake#GRPC} and/or {@value Handshake#NETRPC}; at least one, no
     *     nulls, duplicates ignored
     * @return this builder
     * @throws IllegalArgumentException for an empty list or a protocol go-plugin does not define
     */
    public Builder allowedProtocols(String... protocols) {
      Objects.requireNonNull(protocols, "protocols");
      if (protocols.length == 0) {
        throw new IllegalArgumentException(
            "allowedProtocols needs at least one protocol; use \"" + Handshake.GRPC + "\"");
      }
      Set<String> set = new TreeSet<>();
      for (String p : protocols) {
        Objects.requireNonNull(p, "protocols element");
        if (!Handshake.GRPC.equals(p) && !Handshake.NETRPC.equals(p)) {
          throw new IllegalArgumentException(
              "unknown plugin protocol \"" + p + "\" in allowedProtocols; go-plugin defines \""
                  + Handshake.GRPC + "\" and \"" + Handshake.NETRPC + "\"");
        }
        set.add(p);
      }
      this.allowedProtocols = Set.copyOf(set);
      return this;
    }

    /**
     * Whether the host may dial a TCP address that is not on loopback when a plugin announces one
     * (in its handshake line, a broker {@code ConnInfo} or a reattach config). Default false: the
     * host dials only Unix sockets directly inside the plugin's socket directory and TCP on
     * 127.0.0.0/8, {@code ::1} or {@code localhost}, and refuses anything else with an {@link
     * dev.goplugin4j.protocol.AddressRefusedException} before connecting. A plugin on this machine
     * never needs more; turn it on only for a plugin that really serves on another host (for
     * example through a custom runner), since a plugin could otherwise make the host connect to
     * any machine it can reach. Unix socket rules are not relaxed by this option.
     *
     * @param allow true to dial non-loopback TCP addresses
     * @return this builder
     */
    public Builder allowNonLoopbackTcp(boolean allow) {
      this.allowNonLoopbackTcp = allow;
      return this;
    }

    /**
     * Adds a listener for the built client's lifecycle events: starting, started (or
     * reattached, or start failed), the plugin's stderr at WARN and above, exited, detached and
     * closed. Several may be added; each event goes to them in the order they were added. See
     * {@link PluginListener} for threads, ordering and failures, {@link PluginEvent} for the
     * events, and {@link PluginClientDefaults} for listeners shared by many builders. Default
     * none (the client then makes no events at all).
     *
     * @param listener not null
     * @return this builder
     */
    public Builder listener(PluginListener listener) {
      listeners.add(Objects.requireNonNull(listener, "listener"));
      return this;
    }

    /**
     * Whether the plugin goes when this JVM exits normally and the client is still open: the end
     * of {@code main} with no other threads, {@code System.exit}, or SIGTERM, SIGINT or SIGHUP
     * (a container stopped, a service manager's stop, Ctrl-C). Then a shutdown hook, registered
     * while the client is started and removed by {@link PluginClient#close()}, {@link
     * PluginClient#kill()} and {@link PluginClient#detach()}, closes the client as {@link
     * PluginClient#close()} does: the plugin is asked to shut down, killed after 2 s (its process
     * tree, or its container stopped and removed), and its socket directory removed. The hook
     * waits at most 10 s for it, so a hung engine cannot hold the JVM's exit; whatever is left then is what {@link
     * ProcessReaper} and the container runner's reaper find. A JVM killed with SIGKILL, or one
     * that crashes, runs no hooks at all.
     *
     * <p>Default true: a plugin outliving its host is a leak in most applications. Turn it off for
     * a plugin that should keep running after the host exits, to be {@linkplain
     * Builder#reattach reattached} by the next one; {@link PluginClient#detach()} before the exit
     * does the same for one client. A client reattached in test mode ({@link
     * ReattachConfig#test()}) is left running either way, as by {@code close()}. A {@link
     * PluginSupervisor} does not restart a plugin the hook closed.
     *
     * @param close false to leave the plugin running when the JVM exits
     * @return this builder
     */
    public Builder closeOnJvmExit(boolean close) {
      this.closeOnJvmExit = close;
      return this;
    }

    /**
     * Checks the combination and builds the client. Nothing is started.
     *
     * <p>App protocol versions: the host offers the versions of {@link #plugins(int, Map)} and,
     * when {@link #plugin} entries exist, the {@link #handshake(int, String, String)} version.
     * A handshake version that would not be offered (no {@link #plugin} entry and no {@link
     * #plugins(int, Map)} set of that version) is an error, not silently ignored as in go-plugin;
     * so are {@link #plugin} entries without a handshake version.
     *
     * @return the client
     * @throws IllegalStateException naming the fields of an impossible combination
     */
    public PluginClient build() {
      int sources = (command.isEmpty() ? 0 : 1) + (runnerFactory == null ? 0 : 1) + (reattach == null ? 0 : 1);
      if (sources != 1) {
        throw new IllegalStateException(
            "exactly one of command, runner and reattach must be set; got "
                + (sources == 0 ? "none" : sources));
      }
      if (reattach == null && magicCookieKey == null) {
        throw new IllegalStateException(
            "a handshake is required: handshake(protocolVersion, magicCookieKey, magicCookieValue)"
                + " for a host of one protocol version, or handshake(magicCookieKey,"
                + " magicCookieValue) with plugins(version, map) for each version it serves");
      }
      if (!unversioned.isEmpty() && protocolVersion == null && reattach == null) {
        throw new IllegalStateException(
            "plugin(name, adapter) adds to the handshake's protocol version, but the handshake"
                + " names none (handshake(magicCookieKey, magicCookieValue)); plugins "
                + new TreeSet<>(unversioned.keySet()) + " have no version. Use"
                + " handshake(protocolVersion, magicCookieKey, magicCookieValue), or plugins(version,"
                + " map) for each version");
      }
      if (protocolVersion != null && unversioned.isEmpty() && !versioned.isEmpty()
          && !versioned.containsKey(protocolVersion)) {
        throw new IllegalStateException(
            "handshake(" + protocolVersion + ", ...) declares protocol version " + protocolVersion
                + ", but no plugin belongs to it: plugins(version, map) declares versions "
                + versioned.keySet() + " and no plugin(name, adapter) was added. The host would"
                + " offer " + versioned.keySet() + " and not " + protocolVersion + ". For a host of"
                + " several versions use handshake(magicCookieKey, magicCookieValue); otherwise add"
                + " plugins(" + protocolVersion + ", map)");
      }
      Map<Integer, Map<String, GrpcPlugin<?>>> sets = new TreeMap<>();
      versioned.forEach((v, m) -> sets.put(v, Map.copyOf(m)));
      if (!unversioned.isEmpty()) {
        int v = protocolVersion == null ? reattach.protocolVersion() : protocolVersion;
        Map<String, GrpcPlugin<?>> merged = new LinkedHashMap<>(sets.getOrDefault(v, Map.of()));
        merged.putAll(unversioned);
        sets.put(v, Map.copyOf(merged));
      }
      if (sets.isEmpty()) {
        throw new IllegalStateException("at least one plugin is required: call plugin(name, adapter) or plugins(version, map)");
      }
      if (sha256 != null && command.isEmpty()) {
        throw new IllegalStateException("sha256 can only be checked with command(...); a runner or reattach has no executable to hash");
      }
      if (reattach != null && reattacher == null
          && !ReattachConfig.KIND_PROCESS.equals(reattach.runnerKind())) {
        throw new IllegalStateException(
            "reattach config of kind \"" + reattach.runnerKind()
                + "\" needs its runner's reattacher: use reattach(config, reattacher)");
      }
      if (allowedProtocols.contains(Handshake.NETRPC)) {
        throw new IllegalStateException(
            "allowedProtocols " + new TreeSet<>(allowedProtocols) + " includes \"" + Handshake.NETRPC
                + "\", but the JVM cannot speak Go's net/rpc protocol (gob-encoded Go net/rpc): only"
                + " Go hosts can load net/rpc plugins. Use allowedProtocols(\"" + Handshake.GRPC
                + "\") and a gRPC build of the plugin (go-plugin ServeConfig.GRPCServer)");
      }
      if (reattach != null && tls != null) {
        throw new IllegalStateException("tls cannot be combined with reattach: the TLS material comes from the reattach config");
      }
      return new PluginClient(
          new Config(
              protocolVersion == null ? 0 : protocolVersion,
              magicCookieKey,
              magicCookieValue,
              Map.copyOf(sets),
              command,
              runnerFactory,
              reattach,
              reattacher,
              autoMtls,
              tls,
              multiplexBroker,
              unixSocketGroup,
              unixSocketTempDir,
              startTimeout,
              skipHostEnv,
              Map.copyOf(env),
              minPort,
              maxPort,
              stderr,
              syncStdout,
              syncStderr,
              logger,
              logLineBufferSize,
              sha256,
              channelCustomizer,
              allowedProtocols,
              allowNonLoopbackTcp,
              List.copyOf(listeners),
              List.copyOf(interceptors),
              List.copyOf(serverInterceptors),
              closeOnJvmExit));
    }

    private static void checkName(String name) {
      Objects.requireNonNull(name, "name");
      if (name.isEmpty()) {
        throw new IllegalArgumentException("plugin name must not be empty");
      }
    }
  }
}
