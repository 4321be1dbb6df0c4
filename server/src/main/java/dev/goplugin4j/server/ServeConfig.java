package dev.goplugin4j.server;

import dev.goplugin4j.protocol.TlsConfig;
import io.grpc.ClientInterceptor;
import io.grpc.ServerBuilder;
import io.grpc.ServerInterceptor;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;

/**
 * What a plugin serves and how: the handshake a host must match, the plugin sets per app protocol
 * version, and optional TLS, logging and gRPC settings. The counterpart of go-plugin's {@code
 * plugin.ServeConfig}. Built by {@link #builder()}; each setter checks its argument at once, and
 * {@link Builder#build()} checks the combination.
 *
 * <pre>{@code
 * ServeConfig config = ServeConfig.builder()
 *     .handshake(1, "BASIC_PLUGIN", "hello")
 *     .plugin("kv", (services, broker) -> services.addService(new KvService()))
 *     .build();
 * PluginServer.serveAndExit(config);
 * }</pre>
 *
 * <p>Immutable and thread-safe (the plugins, TLS provider and customizer it holds must be safe to
 * call from the serving thread).
 */
public final class ServeConfig {
  /** Default of {@link Builder#shutdownGracePeriod}: 1 s. */
  public static final Duration DEFAULT_SHUTDOWN_GRACE_PERIOD = Duration.ofSeconds(1);

  /** Largest {@link Builder#shutdownGracePeriod}: 1 min (a go-plugin host kills after 2 s). */
  public static final Duration MAX_SHUTDOWN_GRACE_PERIOD = Duration.ofMinutes(1);

  private final int protocolVersion;
  private final String magicCookieKey;
  private final String magicCookieValue;
  private final SortedMap<Integer, Map<String, GrpcServerPlugin>> versionedPlugins;
  private final Supplier<TlsConfig> tlsProvider;
  private final Logger logger;
  private final Consumer<ServerBuilder<?>> serverCustomizer;
  private final boolean exitWhenHostExits;
  private final boolean ignoreInterrupts;
  private final boolean listenOnTcp;
  private final Duration shutdownGracePeriod;
  private final List<ServerInterceptor> interceptors;
  private final List<ClientInterceptor> clientInterceptors;

  private ServeConfig(Builder b, SortedMap<Integer, Map<String, GrpcServerPlugin>> plugins) {
    this.protocolVersion = b.protocolVersion;
    this.magicCookieKey = b.magicCookieKey;
    this.magicCookieValue = b.magicCookieValue;
    this.versionedPlugins = plugins;
    this.tlsProvider = b.tlsProvider;
    this.logger = b.logger;
    this.serverCustomizer = b.serverCustomizer;
    this.exitWhenHostExits = b.exitWhenHostExits;
    this.ignoreInterrupts = b.ignoreInterrupts;
    this.listenOnTcp = b.listenOnTcp;
    this.shutdownGracePeriod = b.shutdownGracePeriod;
    this.interceptors = List.copyOf(b.interceptors);
    this.clientInterceptors = List.copyOf(b.clientInterceptors);
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
   * A builder initialised with this configuration, to derive a modified one.
   *
   * @return a builder
   */
  public Builder newBuilder() {
    return new Builder(this);
  }

  /**
   * The app protocol version given to {@link Builder#handshake(int, String, String)}; the version
   * of the plugins added with {@link Builder#plugin}.
   *
   * @return a version of at least 1, or 0 when the handshake named none ({@link
   *     Builder#handshake(String, String)}: a plugin that declares its versions with {@link
   *     Builder#plugins} only)
   */
  public int protocolVersion() {
    return protocolVersion;
  }

  /**
   * The magic cookie's environment variable name.
   *
   * @return a non-empty name
   */
  public String magicCookieKey() {
    return magicCookieKey;
  }

  /**
   * The magic cookie's expected value.
   *
   * @return a non-empty value
   */
  public String magicCookieValue() {
    return magicCookieValue;
  }

  /**
   * The plugin sets by app protocol version, ascending. Each set maps a plugin name to its
   * plugin, in the order added. Unmodifiable.
   *
   * @return at least one version with at least one plugin
   */
  public SortedMap<Integer, Map<String, GrpcServerPlugin>> versionedPlugins() {
    return versionedPlugins;
  }

  /**
   * The TLS provider, if any.
   *
   * @return the provider, or empty for AutoMTLS (when the host asks for it) or plaintext
   */
  public Optional<Supplier<TlsConfig>> tlsProvider() {
    return Optional.ofNullable(tlsProvider);
  }

  /**
   * The logger for the server's own messages, if set.
   *
   * @return the logger, or empty for the default ({@code dev.goplugin4j.server.PluginServer})
   */
  public Optional<Logger> logger() {
    return Optional.ofNullable(logger);
  }

  /**
   * The gRPC server customizer, if any.
   *
   * @return the customizer, or empty
   */
  public Optional<Consumer<ServerBuilder<?>>> serverCustomizer() {
    return Optional.ofNullable(serverCustomizer);
  }

  /**
   * Whether the server stops when the process that started it exits.
   *
   * @return the setting; default true
   */
  public boolean exitWhenHostExits() {
    return exitWhenHostExits;
  }

  /**
   * Whether SIGINT is ignored while serving.
   *
   * @return the setting; default true
   */
  public boolean ignoreInterrupts() {
    return ignoreInterrupts;
  }

  /**
   * Whether the server listens on TCP instead of a Unix socket.
   *
   * @return the setting; default false
   */
  public boolean listenOnTcp() {
    return listenOnTcp;
  }

  /**
   * How long in-flight calls may run on after a shutdown request before they are cancelled.
   *
   * @return the grace period; default {@link #DEFAULT_SHUTDOWN_GRACE_PERIOD}
   */
  public Duration shutdownGracePeriod() {
    return shutdownGracePeriod;
  }

  /**
   * The server interceptors around the plugins' services, in the order added (see {@link
   * Builder#interceptors}). Unmodifiable.
   *
   * @return the interceptors; default empty
   */
  public List<ServerInterceptor> interceptors() {
    return interceptors;
  }

  /**
   * The client interceptors on the channels the plugin dials through the broker, in the order
   * added (see {@link Builder#clientInterceptors}). Unmodifiable.
   *
   * @return the interceptors; default empty
   */
  public List<ClientInterceptor> clientInterceptors() {
    return clientInterceptors;
  }

  @Override
  public String toString() {
    return "ServeConfig[protocolVersion="
        + protocolVersion
        + ", magicCookieKey="
        + magicCookieKey
        + ", plugins="
        + versionedPlugins.entrySet().stream()
            .map(e -> e.getKey() + "=" + e.getValue().keySet())
            .toList()
        + ", tls="
        + (tlsProvider != null ? "provider" : "auto")
        + ", tcp="
        + listenOnTcp
        + "]";
  }

  /**
   * Builds a {@link ServeConfig}. Not thread-safe.
   */
  public static final class Builder {
    private int protocolVersion;
    private String magicCookieKey;
    private String magicCookieValue;
    private final Map<String, GrpcServerPlugin> defaultPlugins = new LinkedHashMap<>();
    private final Map<Integer, Map<String, GrpcServerPlugin>> versioned = new TreeMap<>();
    private Supplier<TlsConfig> tlsProvider;
    private Logger logger;
    private Consumer<ServerBuilder<?>> serverCustomizer;
    private boolean exitWhenHostExits = true;
    private boolean ignoreInterrupts = true;
    private boolean listenOnTcp;
    private Duration shutdownGracePeriod = DEFAULT_SHUTDOWN_GRACE_PERIOD;
    private final List<ServerInterceptor> interceptors = new ArrayList<>();
    private final List<ClientInterceptor> clientInterceptors = new ArrayList<>();

    private Builder() {}

    private Builder(ServeConfig c) {
      protocolVersion = c.protocolVersion;
      magicCookieKey = c.magicCookieKey;
      magicCookieValue = c.magicCookieValue;
      c.versionedPlugins.forEach((v, set) -> versioned.put(v, new LinkedHashMap<>(set)));
      tlsProvider = c.tlsProvider;
      logger = c.logger;
      serverCustomizer = c.serverCustomizer;
      exitWhenHostExits = c.exitWhenHostExits;
      ignoreInterrupts = c.ignoreInterrupts;
      listenOnTcp = c.listenOnTcp;
      shutdownGracePeriod = c.shutdownGracePeriod;
      interceptors.addAll(c.interceptors);
      clientInterceptors.addAll(c.clientInterceptors);
    }

    /**
     * The handshake a host must match, for a plugin of one app protocol version: that version
     * (the version of the plugins added with {@link #plugin}) and the magic cookie, an
     * environment variable the host sets so that the plugin knows it was started by a host. This
     * or {@link #handshake(String, String)} is required.
     *
     * <p>The version means what it says: {@link #build()} fails when no plugin belongs to it
     * (no {@link #plugin} entry, only {@link #plugins} sets of other versions). A plugin that
     * serves several versions uses {@link #handshake(String, String)} and {@link #plugins} per
     * version.
     *
     * @param protocolVersion the app protocol version, at least 1
     * @param magicCookieKey the cookie's environment variable name; not empty, no {@code =}
     * @param magicCookieValue the cookie's value; not empty
     * @return this builder
     * @throws IllegalArgumentException if an argument is out of range
     */
    public Builder handshake(int protocolVersion, String magicCookieKey, String magicCookieValue) {
      if (protocolVersion < 1) {
        throw new IllegalArgumentException("protocolVersion must be at least 1, got " + protocolVersion);
      }
      handshake(magicCookieKey, magicCookieValue);
      this.protocolVersion = protocolVersion;
      return this;
    }

    /**
     * The magic cookie alone, for a plugin that declares each app protocol version it serves
     * with {@link #plugins} (go-plugin's {@code HandshakeConfig} without {@code ProtocolVersion},
     * with {@code VersionedPlugins}). The server serves the highest version the host also offers.
     * Clears a version given earlier with {@link #handshake(int, String, String)}; {@link
     * #plugin} entries then have no version, and {@link #build()} refuses them.
     *
     * @param magicCookieKey the cookie's environment variable name; not empty, no {@code =}
     * @param magicCookieValue the cookie's value; not empty
     * @return this builder
     * @throws IllegalArgumentException if an argument is out of range
     */
    public Builder handshake(String magicCookieKey, String magicCookieValue) {
      Objects.requireNonNull(magicCookieKey, "magicCookieKey");
      Objects.requireNonNull(magicCookieValue, "magicCookieValue");
      if (magicCookieKey.isEmpty() || magicCookieKey.contains("=") || magicCookieKey.contains("\0")) {
        throw new IllegalArgumentException(
            "magicCookieKey must be a non-empty environment variable name without '=', got \""
                + magicCookieKey + "\"");
      }
      if (magicCookieValue.isEmpty()) {
        throw new IllegalArgumentException("magicCookieValue must not be empty");
      }
      this.protocolVersion = 0;
      this.magicCookieKey = magicCookieKey;
      this.magicCookieValue = magicCookieValue;
      return this;
    }

    /**
     * Adds a plugin to the set of the handshake's protocol version. The name is the key a host
     * dispenses; for gRPC plugins it only needs to be unique, since hosts reach the services by
     * their gRPC names.
     *
     * @param name the plugin name; not empty
     * @param plugin registers the plugin's services; not null
     * @return this builder
     * @throws IllegalArgumentException if the name is empty or already used in this set
     */
    public Builder plugin(String name, GrpcServerPlugin plugin) {
      put(defaultPlugins, name, plugin, "the handshake's version");
      return this;
    }

    /**
     * Adds a plugin set for an explicit app protocol version, as go-plugin's {@code
     * VersionedPlugins}. The server serves the highest version the host also offers ({@code
     * PLUGIN_PROTOCOL_VERSIONS}), else its lowest one and lets the host report the mismatch.
     * Only the chosen version's plugins are registered; a plugin that must know its version is
     * given it where it is added, e.g. {@code plugins(5, Map.of("kv", (s, b) ->
     * s.addService(new KvService(5))))}.
     *
     * @param version the app protocol version, at least 1
     * @param plugins name to plugin; not empty
     * @return this builder
     * @throws IllegalArgumentException if the version is below 1, the map is empty or a name is
     *     empty or already used for this version
     */
    public Builder plugins(int version, Map<String, ? extends GrpcServerPlugin> plugins) {
      if (version < 1) {
        throw new IllegalArgumentException("version must be at least 1, got " + version);
      }
      Objects.requireNonNull(plugins, "plugins");
      if (plugins.isEmpty()) {
        throw new IllegalArgumentException("plugins for version " + version + " must not be empty");
      }
      Map<String, GrpcServerPlugin> set = versioned.computeIfAbsent(version, v -> new LinkedHashMap<>());
      plugins.forEach((n, p) -> put(set, n, p, "version " + version));
      return this;
    }

    private static void put(
        Map<String, GrpcServerPlugin> set, String name, GrpcServerPlugin plugin, String where) {
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(plugin, "plugin");
      if (name.isEmpty()) {
        throw new IllegalArgumentException("plugin name must not be empty");
      }
      if (set.containsKey(name)) {
        throw new IllegalArgumentException("plugin \"" + name + "\" is already set for " + where);
      }
      set.put(name, plugin);
    }

    /**
     * Supplies this plugin's TLS material instead of AutoMTLS, as go-plugin's {@code
     * TLSProvider}. Called once when serving starts; the server then requires and checks the
     * host's client certificate against the configured trust, and uses the same material when it
     * dials services the host offers through the broker. Default: none, so the server uses
     * AutoMTLS when the host sends {@code PLUGIN_CLIENT_CERT} and plaintext otherwise.
     *
     * @param provider the provider, or null for none
     * @return this builder
     */
    public Builder tlsProvider(Supplier<TlsConfig> provider) {
      this.tlsProvider = provider;
      return this;
    }

    /**
     * The logger for the server's own messages. Default: SLF4J logger {@code
     * dev.goplugin4j.server.PluginServer}; with the hclog provider this jar brings, every SLF4J
     * logger writes hclog JSON lines to stderr.
     *
     * @param logger the logger, or null for the default
     * @return this builder
     */
    public Builder logger(Logger logger) {
      this.logger = logger;
      return this;
    }

    /**
     * Customizes the gRPC server before it starts (interceptors, executor, limits), as go-plugin's
     * {@code GRPCServer} factory does. The server's transport, TLS and message-size limits
     * (2^31-1 bytes) are set before the customizer runs. Default: none.
     *
     * @param customizer called once with the builder of the main server, or null
     * @return this builder
     */
    public Builder serverCustomizer(Consumer<ServerBuilder<?>> customizer) {
      this.serverCustomizer = customizer;
      return this;
    }

    /**
     * Adds gRPC server interceptors around the services the plugins register (the calls the
     * host makes) and around the services of every server the plugin serves through the broker
     * ({@link dev.goplugin4j.protocol.GrpcBroker#acceptAndServe}). The server's own services
     * (go-plugin's broker, controller and stdio, and health) are not intercepted. Ordered as
     * {@link io.grpc.ServerInterceptors#intercept(io.grpc.ServerServiceDefinition, List)} orders
     * them: the last added runs first. Further calls add more. A tracer extracts the host's trace
     * context here. Default none: services are served as registered.
     *
     * @param interceptors not null, no null elements; called from the server's threads, so they
     *     must be thread-safe
     * @return this builder
     */
    public Builder interceptors(ServerInterceptor... interceptors) {
      Objects.requireNonNull(interceptors, "interceptors");
      for (ServerInterceptor i : interceptors) {
        this.interceptors.add(Objects.requireNonNull(i, "interceptors element"));
      }
      return this;
    }

    /**
     * Adds gRPC client interceptors to every channel the plugin dials through the broker ({@link
     * dev.goplugin4j.protocol.GrpcBroker#dial}), i.e. the plugin's calls back into the host's
     * services. They run in reverse order of addition, as with {@link
     * io.grpc.ManagedChannelBuilder#intercept(ClientInterceptor...)}. Further calls add more. A
     * tracer injects the current trace context here. Default none: channels are dialled as is.
     *
     * @param interceptors not null, no null elements; shared by all dialled channels, so they
     *     must be thread-safe
     * @return this builder
     */
    public Builder clientInterceptors(ClientInterceptor... interceptors) {
      Objects.requireNonNull(interceptors, "interceptors");
      for (ClientInterceptor i : interceptors) {
        this.clientInterceptors.add(Objects.requireNonNull(i, "interceptors element"));
      }
      return this;
    }

    /**
     * Whether to stop serving when the process that started this one exits (it is re-parented).
     * A Go plugin dies of SIGPIPE on its next log line once its host is gone; a JVM would keep
     * running, so this is the JVM's way to avoid orphans. Turn it off for plugins that must
     * outlive their host (reattach). Has no effect when the plugin is process 1 (in a container).
     * Default: true.
     *
     * @param exit whether to watch the parent process
     * @return this builder
     */
    public Builder exitWhenHostExits(boolean exit) {
      this.exitWhenHostExits = exit;
      return this;
    }

    /**
     * Whether to ignore SIGINT while serving, as go-plugin plugins do: a Ctrl-C in the host's
     * terminal reaches the whole process group, and the host, not the plugin, decides when the
     * plugin stops (it calls {@code plugin.GRPCController/Shutdown}). SIGTERM always stops the
     * server gracefully. Default: true.
     *
     * @param ignore whether to ignore SIGINT
     * @return this builder
     */
    public Builder ignoreInterrupts(boolean ignore) {
      this.ignoreInterrupts = ignore;
      return this;
    }

    /**
     * Listen on TCP (127.0.0.1, the first free port between {@code PLUGIN_MIN_PORT} and {@code
     * PLUGIN_MAX_PORT}) instead of a Unix socket. go-plugin uses TCP only on Windows; on Linux
     * leave this off. Default: false.
     *
     * @param tcp whether to listen on TCP
     * @return this builder
     */
    public Builder listenOnTcp(boolean tcp) {
      this.listenOnTcp = tcp;
      return this;
    }

    /**
     * How long in-flight calls may run on after the host asked the plugin to shut down (or
     * SIGTERM) before they are cancelled with UNAVAILABLE. Keep it below 2 s: a go-plugin host
     * kills a plugin that has not exited 2 s after the shutdown request. Default: 1 s.
     *
     * @param grace between zero and {@link #MAX_SHUTDOWN_GRACE_PERIOD}
     * @return this builder
     * @throws IllegalArgumentException if out of range
     */
    public Builder shutdownGracePeriod(Duration grace) {
      Objects.requireNonNull(grace, "grace");
      if (grace.isNegative() || grace.compareTo(MAX_SHUTDOWN_GRACE_PERIOD) > 0) {
        throw new IllegalArgumentException(
            "shutdownGracePeriod must be between 0 and " + MAX_SHUTDOWN_GRACE_PERIOD + ", got " + grace);
      }
      this.shutdownGracePeriod = grace;
      return this;
    }

    /**
     * Builds the configuration.
     *
     * @return the configuration
     * @throws IllegalStateException if {@link #handshake} was not called, or no plugin was added,
     *     or {@link #plugin} and {@link #plugins} both name the handshake's version, or {@link
     *     #plugin} entries have no handshake version, or no plugin belongs to the handshake's
     *     version
     */
    public ServeConfig build() {
      if (magicCookieKey == null) {
        throw new IllegalStateException(
            "a handshake is required: handshake(protocolVersion, magicCookieKey, magicCookieValue),"
                + " or handshake(magicCookieKey, magicCookieValue) with plugins(version, map) for a"
                + " plugin of several versions; a plugin without a magic cookie cannot be served"
                + " (go-plugin: \"no magic cookie key or value was set\")");
      }
      if (!defaultPlugins.isEmpty() && protocolVersion == 0) {
        throw new IllegalStateException(
            "plugin(name, plugin) adds to the handshake's protocol version, but the handshake"
                + " names none (handshake(magicCookieKey, magicCookieValue)); plugins "
                + defaultPlugins.keySet() + " have no version. Use handshake(protocolVersion,"
                + " magicCookieKey, magicCookieValue), or plugins(version, map) for each version");
      }
      if (protocolVersion != 0 && defaultPlugins.isEmpty() && !versioned.isEmpty()
          && !versioned.containsKey(protocolVersion)) {
        throw new IllegalStateException(
            "handshake(" + protocolVersion + ", ...) declares protocol version " + protocolVersion
                + ", but no plugin belongs to it: plugins(version, map) declares versions "
                + versioned.keySet() + " and no plugin(name, plugin) was added, so version "
                + protocolVersion + " would never be served. For a plugin of several versions use"
                + " handshake(magicCookieKey, magicCookieValue); otherwise add plugins("
                + protocolVersion + ", map)");
      }
      SortedMap<Integer, Map<String, GrpcServerPlugin>> all = new TreeMap<>();
      versioned.forEach((v, set) -> all.put(v, Collections.unmodifiableMap(new LinkedHashMap<>(set))));
      if (!defaultPlugins.isEmpty()) {
        if (all.containsKey(protocolVersion)) {
          throw new IllegalStateException(
              "plugins for version " + protocolVersion + " are set twice: by plugin(...) (the"
                  + " handshake's version) and by plugins(" + protocolVersion + ", ...); use one");
        }
        all.put(protocolVersion, Collections.unmodifiableMap(new LinkedHashMap<>(defaultPlugins)));
      }
      if (all.isEmpty()) {
        throw new IllegalStateException(
            "no plugins to serve: add at least one with plugin(name, plugin) or plugins(version, map)");
      }
      return new ServeConfig(this, Collections.unmodifiableSortedMap(all));
    }
  }
}
