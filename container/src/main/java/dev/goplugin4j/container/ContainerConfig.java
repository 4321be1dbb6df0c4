package dev.goplugin4j.container;

import dev.goplugin4j.container.internal.ContainerRunner;
import dev.goplugin4j.container.internal.EngineShare;
import dev.goplugin4j.host.PluginCommand;
import dev.goplugin4j.host.Runner;
import dev.goplugin4j.host.RunnerFactory;
import dev.goplugin4j.protocol.PluginEnv;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * How to run a plugin in a container: the Java counterpart of plugincontainer's {@code Config},
 * with every field of the Go original and the same meaning, plus hardening that is on by default.
 * It is also the {@link RunnerFactory} a host passes to its client:
 *
 * <pre>{@code
 * ContainerConfig sandbox = ContainerConfig.builder()
 *     .image("go-plugin-counter").sha256("5f2b...")   // pinned image ID
 *     .runtime("runsc")
 *     .memory(64L << 20).nanoCpus(500_000_000)
 *     .build();
 * PluginClient client = PluginClient.builder()....runner(sandbox).build();
 * }</pre>
 *
 * <p>The plugin's command comes from {@link Builder#entrypoint}/{@link Builder#args} or from the
 * image; the command line in the {@link PluginCommand} the host passes is ignored, as in Go. Its
 * environment is the one the host computed, with {@code PLUGIN_UNIX_SOCKET_DIR} replaced by the
 * in-container path {@value #CONTAINER_SOCKET_DIR}, plus {@link Builder#env}.
 *
 * <p>Defaults beyond Go, each switchable: {@code no-new-privileges} ({@link
 * Builder#noNewPrivileges}), a pids limit of {@value #DEFAULT_PIDS_LIMIT} ({@link
 * Builder#pidsLimit}), a read-only root file system with a {@value #DEFAULT_TMP_SIZE_MIB} MiB tmpfs
 * on {@code /tmp} ({@link Builder#readOnlyRootFs}), and owner labels on every container ({@link
 * Builder#ownerLabels}) so {@link ContainerReaper} can find leftovers.
 *
 * <p>Immutable and thread-safe; derive modified copies with {@link #newBuilder()}.
 */
public final class ContainerConfig implements RunnerFactory {
  /** Where the host's socket directory is mounted inside the container, as in plugincontainer. */
  public static final String CONTAINER_SOCKET_DIR = "/tmp/go-plugin-container";

  /** Default of {@link Builder#pidsLimit(long)}. */
  public static final long DEFAULT_PIDS_LIMIT = 256;

  /** Default size of the {@code /tmp} tmpfs in MiB, see {@link Builder#tmpSize(long)}. */
  public static final long DEFAULT_TMP_SIZE_MIB = 64;

  /** Default of {@link Builder#killGrace(Duration)}: one second. */
  public static final Duration DEFAULT_KILL_GRACE = Duration.ofSeconds(1);

  /** Label keys under this prefix are reserved for the runner's own labels. */
  public static final String RESERVED_LABEL_PREFIX = "dev.goplugin4j.";

  /** The smallest non-zero CPU quota the Docker Engine accepts: 0.01 CPU. */
  static final long MIN_NANO_CPUS = 10_000_000L;

  /** The smallest non-zero memory limit the Docker Engine accepts: 6 MiB. */
  static final long MIN_MEMORY = 6L << 20;

  private static final Pattern SHA256_HEX = Pattern.compile("[0-9a-f]{64}");
  private static final Pattern TAG = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}");
  private static final Pattern RUNTIME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.+-]*");

  private final String image;
  private final String tag;
  private final String sha256;
  private final Integer groupAdd;
  private final boolean rootless;
  private final List<String> entrypoint;
  private final List<String> args;
  private final Map<String, String> env;
  private final boolean disableNetwork;
  private final Map<String, String> labels;
  private final String runtime;
  private final String cgroupParent;
  private final long nanoCpus;
  private final long memory;
  private final boolean capIpcLock;
  private final Map<String, EndpointConfig> endpointsConfig;
  private final boolean debug;
  private final boolean noNewPrivileges;
  private final long pidsLimit;
  private final boolean readOnlyRootFs;
  private final long tmpSize;
  private final boolean ownerLabels;
  private final String pluginName;
  private final String engineEndpoint;
  private final Duration killGrace;
  /**
   * The engine connections of the runners this configuration creates (not part of equality):
   * one connection per engine, shared by its running plugins and closed about a second after
   * the last one ends. See {@link #create}.
   */
  private final EngineShare engines = new EngineShare();

  private ContainerConfig(Builder b) {
    image = b.image;
    tag = b.tag;
    sha256 = b.sha256;
    groupAdd = b.groupAdd;
    rootless = b.rootless;
    entrypoint = b.entrypoint == null ? null : List.copyOf(b.entrypoint);
    args = b.args == null ? null : List.copyOf(b.args);
    env = Collections.unmodifiableMap(new LinkedHashMap<>(b.env));
    disableNetwork = b.disableNetwork;
    labels = Collections.unmodifiableMap(new TreeMap<>(b.labels));
    runtime = b.runtime;
    cgroupParent = b.cgroupParent;
    nanoCpus = b.nanoCpus;
    memory = b.memory;
    capIpcLock = b.capIpcLock;
    endpointsConfig = Collections.unmodifiableMap(new TreeMap<>(b.endpointsConfig));
    debug = b.debug;
    noNewPrivileges = b.noNewPrivileges;
    pidsLimit = b.pidsLimit;
    readOnlyRootFs = b.readOnlyRootFs;
    tmpSize = b.tmpSize;
    ownerLabels = b.ownerLabels;
    pluginName = b.pluginName;
    engineEndpoint = b.engineEndpoint;
    killGrace = b.killGrace;
  }

  /**
   * A builder with every field at its default.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * A builder initialized from this configuration.
   *
   * @return a new builder
   */
  public Builder newBuilder() {
    return new Builder(this);
  }

  /**
   * Creates a container runner for one plugin start; nothing is contacted until {@link
   * Runner#start()}.
   *
   * <p>The runners of one configuration object share their connection to the engine: the first
   * start connects (one {@code GET /_ping} and API negotiation), later and concurrent starts
   * reuse it and its pooled connections; each runner has its own connections only for its attach
   * and exit-wait streams. The connection is closed about one second after the last of these
   * runners is killed or released (so nothing needs closing: a host that closes its plugins keeps
   * no engine socket and no thread), and opened again at the next start. A pooled connection the
   * engine closed (e.g. it restarted) is noticed at the next call, which is sent again on a new
   * one. Configurations built separately, even equal ones, do not share.
   *
   * @param command the environment the host computed (its command line is ignored); not null
   * @param socketDir the host's socket directory, bind-mounted at {@value #CONTAINER_SOCKET_DIR};
   *     must be absolute
   * @return a runner, not yet started
   */
  @Override
  public Runner create(PluginCommand command, Path socketDir) {
    Objects.requireNonNull(command, "command");
    Objects.requireNonNull(socketDir, "socketDir");
    if (!socketDir.isAbsolute()) {
      throw new IllegalArgumentException("socketDir must be absolute, got " + socketDir);
    }
    return new ContainerRunner(this, command, socketDir, System.getenv(), engines);
  }

  /**
   * {@value dev.goplugin4j.host.ReattachConfig#KIND_CONTAINER}: the kind of the runners this
   * config makes, named in the client's {@link dev.goplugin4j.host.PluginEvent.Source}.
   *
   * @return {@code "container"}
   */
  @Override
  public String kind() {
    return dev.goplugin4j.host.ReattachConfig.KIND_CONTAINER;
  }

  /**
   * The reference the container is created from: {@code sha256:<id>} when {@link #sha256()} is
   * set, else {@code image[:tag]}.
   *
   * @return the reference
   */
  public String imageRef() {
    if (!sha256.isEmpty()) {
      return "sha256:" + sha256;
    }
    return namedRef();
  }

  /**
   * The image name with its tag: {@code image[:tag]}, whether or not a SHA256 is pinned.
   *
   * @return the reference
   */
  public String namedRef() {
    return tag.isEmpty() ? image : image + ":" + tag;
  }

  /**
   * The image name without tag.
   *
   * @return the name; never empty
   */
  public String image() {
    return image;
  }

  /**
   * The tag, or empty for the engine's default ({@code latest}).
   *
   * @return the tag
   */
  public String tag() {
    return tag;
  }

  /**
   * The pinned image ID, plain lower-case hex without {@code sha256:}, or empty when not pinned.
   *
   * @return the ID
   */
  public String sha256() {
    return sha256;
  }

  /**
   * The extra group of the container's process, if set.
   *
   * @return the gid
   */
  public OptionalInt groupAdd() {
    return groupAdd == null ? OptionalInt.empty() : OptionalInt.of(groupAdd);
  }

  /**
   * Whether the rootless socket strategy is on (default ACL plus {@code CAP_DAC_OVERRIDE}).
   *
   * @return the flag; default false
   */
  public boolean rootless() {
    return rootless;
  }

  /**
   * The entrypoint that replaces the image's, if set.
   *
   * @return the entrypoint
   */
  public Optional<List<String>> entrypoint() {
    return Optional.ofNullable(entrypoint);
  }

  /**
   * The arguments that replace the image's {@code CMD}, if set.
   *
   * @return the arguments
   */
  public Optional<List<String>> args() {
    return Optional.ofNullable(args);
  }

  /**
   * Extra environment, added to (and overriding) what the host computed.
   *
   * @return an immutable map in insertion order
   */
  public Map<String, String> env() {
    return env;
  }

  /**
   * Whether the container has no network stack.
   *
   * @return the flag; default false
   */
  public boolean disableNetwork() {
    return disableNetwork;
  }

  /**
   * The user's labels (the runner adds its own under {@value #RESERVED_LABEL_PREFIX}).
   *
   * @return an immutable sorted map
   */
  public Map<String, String> labels() {
    return labels;
  }

  /**
   * The OCI runtime ({@code runc}, {@code runsc}...), or empty for the engine's default.
   *
   * @return the runtime
   */
  public String runtime() {
    return runtime;
  }

  /**
   * The parent cgroup, or empty for the engine's default.
   *
   * @return the cgroup parent
   */
  public String cgroupParent() {
    return cgroupParent;
  }

  /**
   * The CPU quota in billionths of a CPU, 0 for none.
   *
   * @return the quota
   */
  public long nanoCpus() {
    return nanoCpus;
  }

  /**
   * The memory limit in bytes, 0 for none.
   *
   * @return the limit
   */
  public long memory() {
    return memory;
  }

  /**
   * Whether {@code IPC_LOCK} is added, so the plugin may {@code mlockall(2)}.
   *
   * @return the flag; default false
   */
  public boolean capIpcLock() {
    return capIpcLock;
  }

  /**
   * The networks to join, by name.
   *
   * @return an immutable sorted map, empty by default
   */
  public Map<String, EndpointConfig> endpointsConfig() {
    return endpointsConfig;
  }

  /**
   * Whether debug mode is on: the container is kept after it exits (until {@link Runner#kill()}),
   * and the diagnosis includes the environment, the container state and its logs.
   *
   * @return the flag; default false
   */
  public boolean debug() {
    return debug;
  }

  /**
   * Whether the container runs with {@code no-new-privileges}.
   *
   * @return the flag; default true
   */
  public boolean noNewPrivileges() {
    return noNewPrivileges;
  }

  /**
   * The pids (process and thread) limit, 0 for none.
   *
   * @return the limit; default {@value #DEFAULT_PIDS_LIMIT}
   */
  public long pidsLimit() {
    return pidsLimit;
  }

  /**
   * Whether the root file system is read-only, with a tmpfs on {@code /tmp}.
   *
   * @return the flag; default true
   */
  public boolean readOnlyRootFs() {
    return readOnlyRootFs;
  }

  /**
   * The size of the {@code /tmp} tmpfs in bytes, used when {@link #readOnlyRootFs()}.
   *
   * @return the size; default {@value #DEFAULT_TMP_SIZE_MIB} MiB
   */
  public long tmpSize() {
    return tmpSize;
  }

  /**
   * Whether the runner's own labels (managed marker, owner host id, plugin name) are added.
   *
   * @return the flag; default true
   */
  public boolean ownerLabels() {
    return ownerLabels;
  }

  /**
   * The plugin name written to the {@code dev.goplugin4j.plugin} label.
   *
   * @return the name; default the image name
   */
  public String pluginName() {
    return pluginName.isEmpty() ? image : pluginName;
  }

  /**
   * The explicit engine endpoint, if set; otherwise the engine is discovered.
   *
   * @return the endpoint URI such as {@code unix:///run/user/1000/docker.sock}
   */
  public Optional<String> engineEndpoint() {
    return Optional.ofNullable(engineEndpoint);
  }

  /**
   * How long {@link Runner#kill()} lets the plugin handle SIGTERM before SIGKILL.
   *
   * @return the grace; default {@link #DEFAULT_KILL_GRACE}
   */
  public Duration killGrace() {
    return killGrace;
  }

  @Override
  public boolean equals(Object o) {
    if (this == o) {
      return true;
    }
    if (!(o instanceof ContainerConfig)) {
      return false;
    }
    ContainerConfig c = (ContainerConfig) o;
    return image.equals(c.image)
        && tag.equals(c.tag)
        && sha256.equals(c.sha256)
        && Objects.equals(groupAdd, c.groupAdd)
        && rootless == c.rootless
        && Objects.equals(entrypoint, c.entrypoint)
        && Objects.equals(args, c.args)
        && env.equals(c.env)
        && disableNetwork == c.disableNetwork
        && labels.equals(c.labels)
        && runtime.equals(c.runtime)
        && cgroupParent.equals(c.cgroupParent)
        && nanoCpus == c.nanoCpus
        && memory == c.memory
        && capIpcLock == c.capIpcLock
        && endpointsConfig.equals(c.endpointsConfig)
        && debug == c.debug
        && noNewPrivileges == c.noNewPrivileges
        && pidsLimit == c.pidsLimit
        && readOnlyRootFs == c.readOnlyRootFs
        && tmpSize == c.tmpSize
        && ownerLabels == c.ownerLabels
        && pluginName.equals(c.pluginName)
        && Objects.equals(engineEndpoint, c.engineEndpoint)
        && killGrace.equals(c.killGrace);
  }

  @Override
  public int hashCode() {
    return Objects.hash(
        image, tag, sha256, groupAdd, rootless, entrypoint, args, env, disableNetwork, labels,
        runtime, cgroupParent, nanoCpus, memory, capIpcLock, endpointsConfig, debug,
        noNewPrivileges, pidsLimit, readOnlyRootFs, tmpSize, ownerLabels, pluginName,
        engineEndpoint, killGrace);
  }

  /** A summary without the environment values (they may hold secrets). */
  @Override
  public String toString() {
    return "ContainerConfig{image=" + imageRef()
        + (runtime.isEmpty() ? "" : ", runtime=" + runtime)
        + (groupAdd == null ? "" : ", groupAdd=" + groupAdd)
        + (rootless ? ", rootless" : "")
        + (debug ? ", debug" : "")
        + ", env keys=" + env.keySet() + "}";
  }

  /**
   * Builds a {@link ContainerConfig}. Each setter checks its argument at once and throws {@link
   * IllegalArgumentException} naming it; {@link #build()} checks the rules between fields.
   *
   * <p>Not thread-safe.
   */
  public static final class Builder {
    private String image = "";
    private String tag = "";
    private String sha256 = "";
    private Integer groupAdd;
    private boolean rootless;
    private List<String> entrypoint;
    private List<String> args;
    private final Map<String, String> env = new LinkedHashMap<>();
    private boolean disableNetwork;
    private final Map<String, String> labels = new TreeMap<>();
    private String runtime = "";
    private String cgroupParent = "";
    private long nanoCpus;
    private long memory;
    private boolean capIpcLock;
    private final Map<String, EndpointConfig> endpointsConfig = new TreeMap<>();
    private boolean debug;
    private boolean noNewPrivileges = true;
    private long pidsLimit = DEFAULT_PIDS_LIMIT;
    private boolean readOnlyRootFs = true;
    private long tmpSize = DEFAULT_TMP_SIZE_MIB << 20;
    private boolean ownerLabels = true;
    private String pluginName = "";
    private String engineEndpoint;
    private Duration killGrace = DEFAULT_KILL_GRACE;

    private Builder() {}

    private Builder(ContainerConfig c) {
      image = c.image;
      tag = c.tag;
      sha256 = c.sha256;
      groupAdd = c.groupAdd;
      rootless = c.rootless;
      entrypoint = c.entrypoint;
      args = c.args;
      env.putAll(c.env);
      disableNetwork = c.disableNetwork;
      labels.putAll(c.labels);
      runtime = c.runtime;
      cgroupParent = c.cgroupParent;
      nanoCpus = c.nanoCpus;
      memory = c.memory;
      capIpcLock = c.capIpcLock;
      endpointsConfig.putAll(c.endpointsConfig);
      debug = c.debug;
      noNewPrivileges = c.noNewPrivileges;
      pidsLimit = c.pidsLimit;
      readOnlyRootFs = c.readOnlyRootFs;
      tmpSize = c.tmpSize;
      ownerLabels = c.ownerLabels;
      pluginName = c.pluginName;
      engineEndpoint = c.engineEndpoint;
      killGrace = c.killGrace;
    }

    /**
     * The image to run, without tag, e.g. {@code hashicorp/vault-plugin-auth-jwt}. Required. The
     * image must already be in the engine's local store: the runner never pulls.
     *
     * @param image a name without {@code :}; use {@link #tag} for the tag
     * @return this builder
     * @throws IllegalArgumentException if empty, or it contains {@code :} or whitespace
     */
    public Builder image(String image) {
      Objects.requireNonNull(image, "image");
      if (image.isEmpty()) {
        throw new IllegalArgumentException("image must not be empty");
      }
      if (image.indexOf(':') >= 0) {
        throw new IllegalArgumentException(
            "image \"" + image + "\" must not have any ':' characters; use tag(...) to specify a"
                + " tag, or sha256(...) to pin the image ID");
      }
      if (!image.equals(image.strip()) || image.chars().anyMatch(Character::isWhitespace)) {
        throw new IllegalArgumentException("image \"" + image + "\" must not contain whitespace");
      }
      this.image = image;
      return this;
    }

    /**
     * The tag of the image, e.g. {@code 0.16.0}. Default empty: the engine's default tag.
     *
     * @param tag a Docker tag ({@code [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}}), or empty
     * @return this builder
     * @throws IllegalArgumentException if not a valid tag
     */
    public Builder tag(String tag) {
      Objects.requireNonNull(tag, "tag");
      if (!tag.isEmpty() && !TAG.matcher(tag).matches()) {
        throw new IllegalArgumentException(
            "tag \"" + tag + "\" is not a valid tag ([A-Za-z0-9_][A-Za-z0-9_.-]{0,127})");
      }
      this.tag = tag;
      return this;
    }

    /**
     * Pins the image ID: the container is created from {@code sha256:<id>}, after checking that
     * an image named {@code image[:tag]} with that ID exists locally. This is the image ID that
     * {@code docker images --no-trunc} prints, not a registry digest. Default empty: not pinned.
     *
     * @param sha256 64 lower-case hex digits, optionally prefixed with {@code sha256:}; or empty
     * @return this builder
     * @throws IllegalArgumentException if not a full SHA256 ID
     */
    public Builder sha256(String sha256) {
      Objects.requireNonNull(sha256, "sha256");
      String hex = sha256.startsWith("sha256:") ? sha256.substring("sha256:".length()) : sha256;
      if (!sha256.isEmpty() && !SHA256_HEX.matcher(hex).matches()) {
        throw new IllegalArgumentException(
            "sha256 \"" + sha256 + "\" must be 64 lower-case hex digits, optionally prefixed with"
                + " \"sha256:\"; copy the full image ID from `docker images --no-trunc`");
      }
      this.sha256 = hex;
      return this;
    }

    /**
     * An additional group for the container's process; should equal the socket group the host
     * passes to the plugin ({@code PLUGIN_UNIX_SOCKET_GROUP}), so both sides can use the socket.
     * Unlike Go, 0 is a real value here (the {@code --group-add 0} strategy for rootless Docker).
     *
     * @param gid 0 to 2^31-1
     * @return this builder
     * @throws IllegalArgumentException if negative
     */
    public Builder groupAdd(int gid) {
      if (gid < 0) {
        throw new IllegalArgumentException("groupAdd must be >= 0, got " + gid);
      }
      this.groupAdd = gid;
      return this;
    }

    /**
     * Enables the rootless strategy, for a rootless engine running a non-root container user: a
     * default POSIX ACL on the socket directory giving the host's effective uid read/write on
     * sockets created there, and {@code CAP_DAC_OVERRIDE} (upstream's recipe). On rootless Docker,
     * where that capability never reaches a non-root process, the runner instead adds group 0 (the
     * engine owner's group in the container) and sets {@code PLUGIN_UNIX_SOCKET_GROUP=0} in the
     * container; the host's socket group must then be the engine owner's primary group. Requires
     * {@link #groupAdd}. Default false. The user guide has the matrix of what works where.
     *
     * @param rootless the flag
     * @return this builder
     */
    public Builder rootless(boolean rootless) {
      this.rootless = rootless;
      return this;
    }

    /**
     * Replaces the image's entrypoint. Default: the image's.
     *
     * @param entrypoint executable and arguments; at least one element, none null
     * @return this builder
     * @throws IllegalArgumentException if empty
     */
    public Builder entrypoint(List<String> entrypoint) {
      this.entrypoint = nonEmptyList(entrypoint, "entrypoint");
      return this;
    }

    /**
     * Replaces the image's entrypoint. Default: the image's.
     *
     * @param entrypoint executable and arguments; at least one element
     * @return this builder
     */
    public Builder entrypoint(String... entrypoint) {
      return entrypoint(List.of(entrypoint));
    }

    /**
     * Replaces the image's arguments ({@code CMD}). Default: the image's.
     *
     * @param args the arguments; at least one element, none null
     * @return this builder
     * @throws IllegalArgumentException if empty
     */
    public Builder args(List<String> args) {
      this.args = nonEmptyList(args, "args");
      return this;
    }

    /**
     * Replaces the image's arguments ({@code CMD}). Default: the image's.
     *
     * @param args the arguments; at least one element
     * @return this builder
     */
    public Builder args(String... args) {
      return args(List.of(args));
    }

    /**
     * Adds an environment variable, added to (and overriding) the environment the host computed.
     *
     * @param key the name: not empty, no {@code =}; not {@code PLUGIN_UNIX_SOCKET_DIR}, which
     *     the runner sets
     * @param value the value; not null
     * @return this builder
     * @throws IllegalArgumentException if the name is invalid
     */
    public Builder env(String key, String value) {
      Objects.requireNonNull(key, "env key");
      Objects.requireNonNull(value, "env value");
      if (key.isEmpty() || key.indexOf('=') >= 0 || key.indexOf('\0') >= 0) {
        throw new IllegalArgumentException(
            "env key \"" + key + "\" must be non-empty without '=' or NUL");
      }
      if (value.indexOf('\0') >= 0) {
        throw new IllegalArgumentException("env value of " + key + " must not contain NUL");
      }
      if (key.equals(PluginEnv.UNIX_SOCKET_DIR)) {
        throw new IllegalArgumentException(
            "env must not set " + PluginEnv.UNIX_SOCKET_DIR + ": the runner sets it to "
                + CONTAINER_SOCKET_DIR);
      }
      env.put(key, value);
      return this;
    }

    /**
     * Adds environment variables, as {@link #env(String, String)} does for each.
     *
     * @param env the variables; not null
     * @return this builder
     */
    public Builder env(Map<String, String> env) {
      Objects.requireNonNull(env, "env").forEach(this::env);
      return this;
    }

    /**
     * Whether the container gets no network stack at all. Default false (as Go).
     *
     * @param disableNetwork the flag
     * @return this builder
     */
    public Builder disableNetwork(boolean disableNetwork) {
      this.disableNetwork = disableNetwork;
      return this;
    }

    /**
     * Adds a label to the container.
     *
     * @param key not empty, not under {@value #RESERVED_LABEL_PREFIX}
     * @param value not null
     * @return this builder
     * @throws IllegalArgumentException if the key is empty or reserved
     */
    public Builder label(String key, String value) {
      Objects.requireNonNull(key, "label key");
      Objects.requireNonNull(value, "label value");
      if (key.isEmpty()) {
        throw new IllegalArgumentException("label key must not be empty");
      }
      if (key.startsWith(RESERVED_LABEL_PREFIX)) {
        throw new IllegalArgumentException(
            "label key \"" + key + "\" is reserved: keys under " + RESERVED_LABEL_PREFIX
                + " are the runner's own");
      }
      labels.put(key, value);
      return this;
    }

    /**
     * Adds labels, as {@link #label(String, String)} does for each.
     *
     * @param labels the labels; not null
     * @return this builder
     */
    public Builder labels(Map<String, String> labels) {
      Objects.requireNonNull(labels, "labels").forEach(this::label);
      return this;
    }

    /**
     * The OCI runtime, e.g. {@code runc} or {@code runsc}; it must be registered with the engine.
     * Podman's Docker-compatible API ignores it and runs every container with the service's
     * default runtime, so on Podman the runner refuses to start when that default differs (use a
     * service started with {@code podman --runtime runsc system service}). Default empty: the
     * engine's default runtime.
     *
     * @param runtime a runtime name, or empty
     * @return this builder
     * @throws IllegalArgumentException if not a plausible runtime name
     */
    public Builder runtime(String runtime) {
      Objects.requireNonNull(runtime, "runtime");
      if (!runtime.isEmpty() && !RUNTIME.matcher(runtime).matches()) {
        throw new IllegalArgumentException("runtime \"" + runtime + "\" is not a valid name");
      }
      this.runtime = runtime;
      return this;
    }

    /**
     * The parent cgroup of the container. Default empty: the engine's default.
     *
     * @param cgroupParent a cgroup path or systemd slice, or empty
     * @return this builder
     */
    public Builder cgroupParent(String cgroupParent) {
      this.cgroupParent = Objects.requireNonNull(cgroupParent, "cgroupParent");
      return this;
    }

    /**
     * CPU quota in billionths of a CPU (500_000_000 = half a core). Default 0: no limit.
     *
     * @param nanoCpus 0, or at least 10_000_000 (0.01 CPU, the engine's minimum)
     * @return this builder
     * @throws IllegalArgumentException if out of range
     */
    public Builder nanoCpus(long nanoCpus) {
      if (nanoCpus != 0 && nanoCpus < MIN_NANO_CPUS) {
        throw new IllegalArgumentException(
            "nanoCpus must be 0 (no limit) or >= " + MIN_NANO_CPUS + " (0.01 CPU), got "
                + nanoCpus);
      }
      this.nanoCpus = nanoCpus;
      return this;
    }

    /**
     * Memory limit in bytes. Default 0: no limit.
     *
     * @param memory 0, or at least 6 MiB (the engine's minimum)
     * @return this builder
     * @throws IllegalArgumentException if out of range
     */
    public Builder memory(long memory) {
      if (memory != 0 && memory < MIN_MEMORY) {
        throw new IllegalArgumentException(
            "memory must be 0 (no limit) or >= " + MIN_MEMORY + " bytes (6 MiB), got " + memory);
      }
      this.memory = memory;
      return this;
    }

    /**
     * Adds the {@code IPC_LOCK} capability, so the plugin may call {@code mlockall(2)}. Default
     * false.
     *
     * @param capIpcLock the flag
     * @return this builder
     */
    public Builder capIpcLock(boolean capIpcLock) {
      this.capIpcLock = capIpcLock;
      return this;
    }

    /**
     * Networks the container joins, by network name. Default empty.
     *
     * @param endpointsConfig network name to endpoint; names not empty
     * @return this builder
     * @throws IllegalArgumentException if a name is empty
     */
    public Builder endpointsConfig(Map<String, EndpointConfig> endpointsConfig) {
      Objects.requireNonNull(endpointsConfig, "endpointsConfig");
      endpointsConfig.forEach(
          (k, v) -> {
            Objects.requireNonNull(k, "endpointsConfig key");
            Objects.requireNonNull(v, "endpointsConfig value");
            if (k.isEmpty()) {
              throw new IllegalArgumentException("endpointsConfig network name must not be empty");
            }
          });
      this.endpointsConfig.clear();
      this.endpointsConfig.putAll(endpointsConfig);
      return this;
    }

    /**
     * Debug mode: the container is kept after it exits so its state and logs can be read, and
     * the diagnosis includes the plugin's environment (which holds the magic cookie), the
     * container state, exit code hints and its logs. {@link Runner#kill()} still removes it. Not
     * for production. Default false.
     *
     * @param debug the flag
     * @return this builder
     */
    public Builder debug(boolean debug) {
      this.debug = debug;
      return this;
    }

    /**
     * Whether to run with {@code no-new-privileges}, so set-uid binaries and file capabilities
     * cannot raise privileges. Default true. Turn it off only for images whose binary carries
     * file capabilities it needs (e.g. {@code cap_ipc_lock} on a non-root user).
     *
     * @param noNewPrivileges the flag
     * @return this builder
     */
    public Builder noNewPrivileges(boolean noNewPrivileges) {
      this.noNewPrivileges = noNewPrivileges;
      return this;
    }

    /**
     * Limit of processes and threads in the container (fork bombs). Default {@value
     * #DEFAULT_PIDS_LIMIT}: a Go plugin needs a few dozen threads.
     *
     * @param pidsLimit 0 for no limit, else at least 1
     * @return this builder
     * @throws IllegalArgumentException if negative
     */
    public Builder pidsLimit(long pidsLimit) {
      if (pidsLimit < 0) {
        throw new IllegalArgumentException(
            "pidsLimit must be 0 (no limit) or >= 1, got " + pidsLimit);
      }
      this.pidsLimit = pidsLimit;
      return this;
    }

    /**
     * Whether the root file system is read-only, with a writable tmpfs on {@code /tmp} of {@link
     * #tmpSize} bytes. Default true.
     *
     * @param readOnlyRootFs the flag
     * @return this builder
     */
    public Builder readOnlyRootFs(boolean readOnlyRootFs) {
      this.readOnlyRootFs = readOnlyRootFs;
      return this;
    }

    /**
     * Size of the {@code /tmp} tmpfs when {@link #readOnlyRootFs} is on. Default {@value
     * #DEFAULT_TMP_SIZE_MIB} MiB.
     *
     * @param bytes 1 MiB to 16 GiB
     * @return this builder
     * @throws IllegalArgumentException if out of range
     */
    public Builder tmpSize(long bytes) {
      if (bytes < (1L << 20) || bytes > (16L << 30)) {
        throw new IllegalArgumentException(
            "tmpSize must be between 1 MiB and 16 GiB, got " + bytes + " bytes");
      }
      this.tmpSize = bytes;
      return this;
    }

    /**
     * Whether the runner labels every container it creates with {@code
     * dev.goplugin4j.managed=true}, {@code dev.goplugin4j.owner=<host id>} (host name, pid and
     * start time of this JVM) and {@code dev.goplugin4j.plugin=<plugin name>}, so that {@link
     * ContainerReaper} can find leftovers and reattach can verify a container. Default true.
     *
     * @param ownerLabels the flag
     * @return this builder
     */
    public Builder ownerLabels(boolean ownerLabels) {
      this.ownerLabels = ownerLabels;
      return this;
    }

    /**
     * The plugin name for the {@code dev.goplugin4j.plugin} label. Default: the image name.
     *
     * @param pluginName not null; empty means the default
     * @return this builder
     */
    public Builder pluginName(String pluginName) {
      this.pluginName = Objects.requireNonNull(pluginName, "pluginName");
      return this;
    }

    /**
     * An explicit engine endpoint; when set, only it is tried. Default: discovered in order from
     * {@code DOCKER_HOST}, {@code /var/run/docker.sock}, {@code $XDG_RUNTIME_DIR/docker.sock},
     * {@code /run/podman/podman.sock}, {@code $XDG_RUNTIME_DIR/podman/podman.sock}.
     *
     * @param endpoint a {@code unix://} or {@code tcp://} URI
     * @return this builder
     * @throws IllegalArgumentException if not such a URI
     */
    public Builder engineEndpoint(String endpoint) {
      Objects.requireNonNull(endpoint, "engineEndpoint");
      URI uri;
      try {
        uri = URI.create(endpoint);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            "engineEndpoint \"" + endpoint + "\" is not a URI: " + e.getMessage(), e);
      }
      String scheme = uri.getScheme();
      if (!"unix".equals(scheme) && !"tcp".equals(scheme)) {
        throw new IllegalArgumentException(
            "engineEndpoint \"" + endpoint + "\" must be unix:///path/to/socket or"
                + " tcp://host:port");
      }
      if ("unix".equals(scheme) && (uri.getPath() == null || uri.getPath().isEmpty())) {
        throw new IllegalArgumentException(
            "engineEndpoint \"" + endpoint + "\" has no socket path (use unix:///path)");
      }
      this.engineEndpoint = endpoint;
      return this;
    }

    /**
     * How long {@link Runner#kill()} lets the plugin handle SIGTERM before the engine sends
     * SIGKILL. Default one second.
     *
     * @param killGrace 0 to 60 seconds, whole seconds (the Engine API's unit)
     * @return this builder
     * @throws IllegalArgumentException if out of range or not whole seconds
     */
    public Builder killGrace(Duration killGrace) {
      Objects.requireNonNull(killGrace, "killGrace");
      if (killGrace.isNegative() || killGrace.compareTo(Duration.ofSeconds(60)) > 0) {
        throw new IllegalArgumentException(
            "killGrace must be between 0 and 60 seconds, got " + killGrace);
      }
      if (killGrace.getNano() != 0) {
        throw new IllegalArgumentException(
            "killGrace must be whole seconds (the engine's unit), got " + killGrace);
      }
      this.killGrace = killGrace;
      return this;
    }

    /**
     * Checks the rules between fields and builds the configuration.
     *
     * @return the configuration
     * @throws IllegalStateException if {@code image} is missing, {@code rootless} is set without
     *     {@code groupAdd}, or {@code disableNetwork} is set together with {@code
     *     endpointsConfig}; the message names the fields
     */
    public ContainerConfig build() {
      List<String> problems = new ArrayList<>();
      if (image.isEmpty()) {
        problems.add("image must be set (the image name, without tag)");
      }
      if (rootless && groupAdd == null) {
        problems.add(
            "rootless requires groupAdd: the socket must be group-writable for the default ACL"
                + " to take effect; set groupAdd to the host's socket group");
      }
      if (disableNetwork && !endpointsConfig.isEmpty()) {
        problems.add(
            "disableNetwork and endpointsConfig " + endpointsConfig.keySet()
                + " contradict each other: a container without network cannot join networks");
      }
      if (!problems.isEmpty()) {
        throw new IllegalStateException("invalid ContainerConfig: " + String.join("; ", problems));
      }
      return new ContainerConfig(this);
    }

    private static List<String> nonEmptyList(List<String> list, String name) {
      Objects.requireNonNull(list, name);
      if (list.isEmpty()) {
        throw new IllegalArgumentException(name + " must have at least one element");
      }
      for (String s : list) {
        Objects.requireNonNull(s, name + " element");
      }
      return List.copyOf(list);
    }
  }
}
