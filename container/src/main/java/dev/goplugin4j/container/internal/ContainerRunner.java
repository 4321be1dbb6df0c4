package dev.goplugin4j.container.internal;

import dev.goplugin4j.container.ContainerConfig;
import dev.goplugin4j.container.ContainerException;
import dev.goplugin4j.container.ContainerStartException;
import dev.goplugin4j.container.ImageNotFoundException;
import dev.goplugin4j.container.Sha256MismatchException;
import dev.goplugin4j.host.PluginCommand;
import dev.goplugin4j.host.ReattachConfig;
import dev.goplugin4j.host.Runner;
import dev.goplugin4j.protocol.NetAddress;
import dev.goplugin4j.protocol.PluginEnv;
import dev.goplugin4j.protocol.PluginException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one plugin in a container: the counterpart of plugincontainer's {@code containerRunner}.
 *
 * <p>Start: connect to the engine, check the SHA256 pin, create the container, attach to its
 * stdout/stderr and register a wait for its exit (both before start, so no byte of the handshake
 * and no exit can be missed), start it, and demultiplex the attach stream into {@link #stdout()}
 * and {@link #stderr()} on one daemon thread. Kill: stop with a short grace, remove (also a debug
 * container), close everything. Release (detach): close the streams, the exit wait and the engine
 * connections, and leave the container running.
 *
 * <p>A kill during a start waits for the start to notice it (it checks after each engine call,
 * each bounded by the engine's call timeout), so that a container the start created is removed
 * and never left behind.
 */
public final class ContainerRunner implements Runner {
  private static final Logger LOG = LoggerFactory.getLogger(ContainerRunner.class);

  /** Reattach attribute: the host socket directory. */
  public static final String ATTR_SOCKET_DIR = "socket_dir";

  /** Reattach attribute: the engine endpoint. */
  public static final String ATTR_ENGINE = "engine";

  /**
   * Reattach attribute: the configured kill grace in whole seconds, so that a later host stops
   * the container as this one would. Optional: without it the default applies.
   */
  public static final String ATTR_KILL_GRACE_SECONDS = "kill_grace_seconds";

  /** Unread plugin output held per stream before the engine's stream is back-pressured. */
  static final int PIPE_CAPACITY = 1 << 20;

  private final ContainerConfig config;
  private final SocketDirTranslator translator;
  private final Path socketDir;
  private final EngineLocator locator;
  /** What is sent to the engine; adjusted once in start() for the engine's socket strategy. */
  private volatile ContainerSpec spec;
  private final BytePipe stdout = new BytePipe(PIPE_CAPACITY);
  private final BytePipe stderr = new BytePipe(PIPE_CAPACITY);
  private final CompletableFuture<Integer> exit = new CompletableFuture<>();

  private final Object lock = new Object();
  private boolean started;
  /** While start() looks for the engine: nothing exists yet that a kill would have to remove. */
  private boolean connecting;
  private boolean killed;
  private boolean released;
  /** Set once the streams, the engine and the container have been dealt with. */
  private boolean cleaned;
  /** Whether an exit wait was registered, i.e. whether {@link #exit} can carry a real status. */
  private boolean waiting;
  private final java.util.concurrent.CountDownLatch startEnded =
      new java.util.concurrent.CountDownLatch(1);
  private Engine engine;
  private volatile String id = "";
  private InputStream attachStream;
  private Thread pump;
  private volatile String snapshot = "";
  /** Phase timings of the start, for the DEBUG log (written by the starting thread only). */
  private final StringBuilder phases = new StringBuilder();
  private long phaseMark;
  /** {@link System#nanoTime()} at the start of start(), for the first-output timing. */
  private volatile long startedAt;

  /**
   * A runner for one start.
   *
   * @param environment the process environment for engine discovery
   */
  public ContainerRunner(ContainerConfig config, PluginCommand command, Path socketDir,
      Map<String, String> environment) {
    this.config = config;
    this.socketDir = socketDir.toAbsolutePath().normalize();
    this.translator = new SocketDirTranslator(this.socketDir);
    this.locator = new EngineLocator(config.engineEndpoint().orElse(null), environment);
    this.spec = spec(config, command, this.socketDir, HostId.current());
  }

  /** The container the config and host environment describe. */
  static ContainerSpec spec(ContainerConfig c, PluginCommand command, Path socketDir,
      HostId owner) {
    // Host env first (sorted for a stable order), the socket dir replaced by the in-container
    // path so it appears exactly once, then the config's env, which overrides.
    Map<String, String> env = new LinkedHashMap<>(new TreeMap<>(command.env()));
    env.put(PluginEnv.UNIX_SOCKET_DIR, ContainerConfig.CONTAINER_SOCKET_DIR);
    if (socketDir.toString().equals(env.get(PluginEnv.TMPDIR))) {
      env.remove(PluginEnv.TMPDIR); // the host set it for process plugins: a host path
    }
    env.putAll(c.env());
    List<String> envList = new ArrayList<>();
    env.forEach((k, v) -> envList.add(k + "=" + v));

    Map<String, String> labels = new TreeMap<>(c.labels());
    if (c.ownerLabels()) {
      labels.put(Labels.MANAGED, "true");
      labels.put(Labels.OWNER, owner.toString());
      labels.put(Labels.PLUGIN, c.pluginName());
    }
    List<String> capAdd = new ArrayList<>();
    if (c.capIpcLock()) {
      capAdd.add("IPC_LOCK");
    }
    if (c.rootless()) {
      capAdd.add("DAC_OVERRIDE");
    }
    List<String> groupAdd = new ArrayList<>();
    c.groupAdd().ifPresent(g -> groupAdd.add(Integer.toString(g)));
    List<String> securityOpt = new ArrayList<>();
    if (c.noNewPrivileges()) {
      securityOpt.add("no-new-privileges");
    }
    Map<String, String> tmpfs = new TreeMap<>();
    if (c.readOnlyRootFs()) {
      tmpfs.put("/tmp", "rw,nosuid,nodev,noexec,mode=1777,size=" + c.tmpSize());
    }
    return new ContainerSpec(
        c.imageRef(),
        List.copyOf(envList),
        c.entrypoint().orElse(null),
        c.args().orElse(null),
        c.disableNetwork(),
        labels,
        !c.debug(),
        c.runtime(),
        c.nanoCpus(),
        c.memory(),
        c.cgroupParent(),
        List.of("ALL"),
        capAdd,
        groupAdd,
        securityOpt,
        c.pidsLimit(),
        c.readOnlyRootFs(),
        tmpfs,
        socketDir.toString(),
        ContainerConfig.CONTAINER_SOCKET_DIR,
        c.endpointsConfig());
  }

  /** What will be sent to the engine (tests, diagnosis). */
  public ContainerSpec spec() {
    return spec;
  }

  /** The host socket directory. */
  public Path socketDir() {
    return socketDir;
  }

  /** The engine endpoint in use, or empty before start. */
  public Optional<String> engineEndpoint() {
    synchronized (lock) {
      return Optional.ofNullable(engine).map(Engine::endpoint);
    }
  }

  @Override
  public void start() {
    synchronized (lock) {
      if (started) {
        throw new IllegalStateException("a ContainerRunner starts once; create a new one");
      }
      started = true;
      if (killed) {
        throw new ContainerException("runner was killed before it started");
      }
      connecting = true;
    }
    long t0 = System.nanoTime();
    startedAt = t0;
    phaseMark = t0;
    try {
      Engine e;
      try {
        e = locator.connect();
        phase("engine");
      } finally {
        synchronized (lock) {
          connecting = false;
        }
      }
      synchronized (lock) {
        engine = e;
      }
      try {
        checkNotKilled();
        doStart(e);
        checkNotKilled();
      } catch (RuntimeException failure) {
        if (!isKilled()) {
          snapshot = collectDiagnosis(e, true);
        }
        cleanUp(e, false);
        throw failure;
      }
    } finally {
      startEnded.countDown();
    }
    LOG.debug("started container {} from {} in {} ms ({})", DockerJavaEngine.shortId(id),
        spec.image(), TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0), phases);
  }

  /** Records the time since the previous phase under {@code name}. */
  private void phase(String name) {
    long now = System.nanoTime();
    if (phases.length() > 0) {
      phases.append(", ");
    }
    phases.append(name).append(' ')
        .append(Math.round((now - phaseMark) / 100_000.0) / 10.0).append(" ms");
    phaseMark = now;
  }

  private boolean isKilled() {
    synchronized (lock) {
      return killed;
    }
  }

  /** A kill that came during the start ends it; the caller's clean-up removes what it made. */
  private void checkNotKilled() {
    if (isKilled()) {
      throw new ContainerException("the runner was killed while starting the container from "
          + spec.image() + "; nothing is left behind");
    }
  }

  private void doStart(Engine e) {
    EngineFacts facts = e.facts();
    if (!config.runtime().isEmpty()) {
      Optional<String> ignored =
          RuntimeHints.podmanRuntimeMismatch(config.runtime(), facts, e.endpoint());
      if (ignored.isPresent()) {
        throw new ContainerStartException(ignored.get(), null);
      }
    }
    int euid = PosixAcl.geteuid();
    if (!config.rootless() && euid != 0) {
      grantHostUserSockets(euid);
    }
    if (config.rootless()) {
      PosixAcl.setDefaultUserRw(socketDir, euid);
      if (!facts.podman() && rootless(e)) {
        spec = rootlessDockerSpec(spec, config);
        LOG.debug("rootless Docker at {}: socket strategy --group-add 0 (the engine owner's group"
            + " in the container) instead of CAP_DAC_OVERRIDE", e.endpoint());
      }
    }
    phase("socket strategy");
    if (!config.sha256().isEmpty()) {
      verifyPinnedImage(e);
      phase("image check");
    }
    String created;
    try {
      created = e.createContainer(spec);
      phase("create");
    } catch (EngineException ex) {
      if (ex.status() == 404) {
        throw new ImageNotFoundException(
            "image " + spec.image() + (config.sha256().isEmpty() ? "" : " (" + config.namedRef()
                + ")") + " is not present in the engine at " + e.endpoint()
                + "; the runner never pulls: build, load or pull it first", spec.image(), ex);
      }
      throw new ContainerStartException(
          "error creating container from " + spec.image() + ": " + ex.getMessage()
              + runtimeHint(e).map(h -> "\n" + h).orElse(""), ex);
    }
    synchronized (lock) {
      id = created;
    }
    checkNotKilled();
    InputStream attached = e.attach(created);
    synchronized (lock) {
      attachStream = attached;
    }
    phase("attach");
    e.waitForExit(created, true).whenComplete((status, err) -> {
      synchronized (lock) {
        if (released) {
          return; // the wait was cut by release(); the plugin runs on
        }
      }
      exit.complete(err == null ? status.intValue() : -1);
    });
    synchronized (lock) {
      waiting = true;
    }
    phase("exit wait");
    Thread t = new Thread(this::pumpOutput,
        "goplugin4j-container-output-" + DockerJavaEngine.shortId(created));
    t.setDaemon(true);
    synchronized (lock) {
      pump = t;
    }
    t.start();
    try {
      e.start(created);
      phase("start");
    } catch (EngineException ex) {
      throw new ContainerStartException(
          "error starting container " + DockerJavaEngine.shortId(created) + " from "
              + spec.image() + ": " + ex.getMessage()
              + runtimeHint(e).map(h -> "\n" + h).orElse(""), ex);
    }
  }

  /**
   * A non-root host gets read/write on every socket in its socket directory through a default ACL
   * for its euid: gVisor under Docker ignores the plugin's {@code chown}, so the plugin's socket
   * stays {@code 0:0 0660} and only an ACL lets a non-root host in. The ACL grants nothing to the
   * container. Best effort: on a file system without POSIX ACLs the start goes on (runc and Podman
   * do not need it).
   */
  private void grantHostUserSockets(int euid) {
    try {
      PosixAcl.setDefaultUserRw(socketDir, euid);
    } catch (ContainerException ex) {
      LOG.debug("no default ACL for uid {} on {} ({}); a plugin under gVisor on Docker will not be"
          + " reachable by this non-root host", euid, socketDir, ex.getMessage());
    }
  }

  private static boolean rootless(Engine e) {
    try {
      return e.rootless();
    } catch (EngineException ex) {
      throw new ContainerStartException("cannot tell whether the engine at " + e.endpoint()
          + " runs rootless (GET /info), which decides the rootless socket strategy: "
          + ex.getMessage(), ex);
    }
  }

  /**
   * The rootless strategy for rootless Docker: upstream's {@code CAP_DAC_OVERRIDE} lands only in
   * the bounding set of a non-root container process there (Docker sets no ambient capabilities),
   * so the plugin cannot create its socket. In a rootless engine the container's gid 0 is the
   * engine owner's primary group on the host, so instead the container gets {@code --group-add 0}
   * and the plugin is told to hand its socket to group 0 ({@code PLUGIN_UNIX_SOCKET_GROUP=0}, unless
   * the config's env sets it); the host's socket group must then be the engine owner's group. The
   * default ACL stays (gVisor under Docker ignores the plugin's {@code chown}).
   */
  static ContainerSpec rootlessDockerSpec(ContainerSpec s, ContainerConfig c) {
    boolean explicitGroup = c.env().containsKey(PluginEnv.UNIX_SOCKET_GROUP);
    String prefix = PluginEnv.UNIX_SOCKET_GROUP + "=";
    List<String> env = new ArrayList<>();
    for (String v : s.env()) {
      env.add(!explicitGroup && v.startsWith(prefix) ? prefix + "0" : v);
    }
    List<String> capAdd = s.capAdd().stream().filter(cap -> !cap.equals("DAC_OVERRIDE")).toList();
    return new ContainerSpec(s.image(), List.copyOf(env), s.entrypoint(), s.cmd(),
        s.networkDisabled(), s.labels(), s.autoRemove(), s.runtime(), s.nanoCpus(), s.memory(),
        s.cgroupParent(), s.capDrop(), capAdd, List.of("0"), s.securityOpt(), s.pidsLimit(),
        s.readOnlyRootFs(), s.tmpfs(), s.bindSource(), s.bindTarget(), s.endpoints());
  }

  private void verifyPinnedImage(Engine e) {
    String named = config.namedRef();
    List<String> ids;
    try {
      ids = e.imageIds(named);
    } catch (EngineException ex) {
      throw new ContainerException("failed to verify that image " + named
          + " matches the pinned SHA256 " + config.sha256() + ": " + ex.getMessage(), ex);
    }
    if (ids.isEmpty()) {
      throw new ImageNotFoundException(
          "no image named " + named + " is present in the engine at " + e.endpoint()
              + ", so the pinned SHA256 " + config.sha256() + " cannot be verified; the runner"
              + " never pulls: build, load or pull it first", named, null);
    }
    if (!ids.contains("sha256:" + config.sha256())) {
      throw new Sha256MismatchException(config.image(), config.tag(), config.sha256(), ids);
    }
  }

  private void pumpOutput() {
    InputStream in;
    synchronized (lock) {
      in = attachStream;
    }
    try {
      FrameDemuxer.copy(in, firstOutputLogged(stdout.out()), stderr.out());
    } catch (IOException | RuntimeException e) {
      boolean expected;
      synchronized (lock) {
        expected = killed || released;
      }
      if (!expected) {
        LOG.debug("output stream of container {} ended: {}", DockerJavaEngine.shortId(id),
            e.toString());
      }
    } finally {
      stdout.closeWriter();
      stderr.closeWriter();
    }
  }

  /** {@code out}, logging at DEBUG when the first byte arrives after start() began. */
  private java.io.OutputStream firstOutputLogged(java.io.OutputStream out) {
    if (!LOG.isDebugEnabled()) {
      return out;
    }
    return new java.io.FilterOutputStream(out) {
      private boolean seen;

      @Override
      public void write(byte[] b, int off, int len) throws IOException {
        if (!seen && len > 0) {
          seen = true;
          LOG.debug("first stdout byte of container {} {} ms after the start began",
              DockerJavaEngine.shortId(id),
              Math.round((System.nanoTime() - startedAt) / 100_000.0) / 10.0);
        }
        out.write(b, off, len);
      }
    };
  }

  /**
   * A hint when the configured runtime is not registered, or when it (or, with no runtime
   * configured, the engine's default runtime) is gVisor without a usable --host-uds.
   */
  private Optional<String> runtimeHint(Engine e) {
    Map<String, List<String>> runtimes;
    try {
      EngineFacts facts = e.facts();
      if (config.runtime().isEmpty()) {
        return facts.podman() ? Optional.empty()
            : RuntimeHints.defaultRuntimeHint(e.defaultRuntime(), e.runtimes());
      }
      if (facts.podman()) {
        // Podman reports runtimes without their arguments and ignores the requested one.
        return RuntimeHints.podmanRuntimeMismatch(config.runtime(), facts, e.endpoint());
      }
      runtimes = e.runtimes();
    } catch (RuntimeException ex) {
      return Optional.empty();
    }
    return RuntimeHints.hint(config.runtime(), runtimes, e.endpoint());
  }

  @Override
  public String diagnose() {
    Engine e;
    synchronized (lock) {
      e = engine;
    }
    if (e == null || !snapshot.isEmpty()) {
      return configNotes() + snapshot;
    }
    return configNotes() + collectDiagnosis(e, false);
  }

  private String configNotes() {
    StringBuilder n = new StringBuilder("Config:\n");
    n.append("Image ref: ").append(spec.image()).append('\n');
    if (!config.sha256().isEmpty()) {
      n.append("Pinned image: ").append(config.namedRef()).append('\n');
    }
    if (spec.entrypoint() != null) {
      n.append("Entrypoint: ").append(String.join(" ", spec.entrypoint())).append('\n');
    }
    if (spec.cmd() != null) {
      n.append("Cmd: ").append(spec.cmd()).append('\n');
    }
    if (!spec.runtime().isEmpty()) {
      n.append("Runtime: ").append(spec.runtime()).append('\n');
    }
    n.append("GroupAdd: ").append(spec.groupAdd()).append('\n');
    n.append("Socket dir: ").append(socketDir).append(" -> ")
        .append(ContainerConfig.CONTAINER_SOCKET_DIR).append(socketDirNote()).append('\n');
    return n.toString();
  }

  /**
   * The socket dir's mode and owner, and what a non-root container user needs when only its
   * owner may write there: the most common reason a plugin image built to run as another user
   * (goplugin4j image's default, 65532:0) exits at once with "permission denied".
   */
  private String socketDirNote() {
    try {
      java.util.Set<java.nio.file.attribute.PosixFilePermission> perms =
          java.nio.file.Files.getPosixFilePermissions(socketDir);
      Object uid = java.nio.file.Files.getAttribute(socketDir, "unix:uid");
      Object gid = java.nio.file.Files.getAttribute(socketDir, "unix:gid");
      String note = " (mode " + java.nio.file.attribute.PosixFilePermissions.toString(perms)
          + ", uid " + uid + ", gid " + gid + ")";
      if (!perms.contains(java.nio.file.attribute.PosixFilePermission.GROUP_WRITE)
          && spec.groupAdd().isEmpty() && !config.rootless()) {
        note += "\nOnly uid " + uid + " can create the plugin's socket there. If the image runs as"
            + " another user (goplugin4j image's default is 65532:0), give the container the host's"
            + " socket group: ContainerConfig.groupAdd(G) and PluginClient.Builder.unixSocketGroup(\"G\")"
            + " (docs/containers.md), or build the image with --user 0:0";
      }
      return note;
    } catch (java.io.IOException | RuntimeException e) {
      return "";
    }
  }

  /** Everything the engine can tell; never throws. */
  private String collectDiagnosis(Engine e, boolean atFailure) {
    StringBuilder n = new StringBuilder();
    try {
      n.append("Engine: ").append(e.describe()).append('\n');
      runtimeHint(e).ifPresent(h -> n.append(h).append('\n'));
      if (!config.debug()) {
        return n.toString();
      }
      n.append("Env:\n");
      spec.env().forEach(v -> n.append(v).append('\n'));
      String cid = id;
      if (cid.isEmpty()) {
        return n.toString();
      }
      Optional<ContainerInfo> info = e.inspect(cid);
      if (info.isEmpty()) {
        n.append("Container ").append(DockerJavaEngine.shortId(cid)).append(" no longer exists\n");
        return n.toString();
      }
      ContainerInfo i = info.get();
      n.append("\nContainer config:\n");
      n.append("Container ID: ").append(i.id()).append('\n');
      n.append("Image: ").append(i.image()).append('\n');
      n.append("Entrypoint: ").append(i.entrypoint()).append('\n');
      if (!i.cmd().isEmpty()) {
        n.append("Cmd: ").append(i.cmd()).append('\n');
      }
      n.append("State: ").append(i.status()).append('\n');
      if (!i.error().isEmpty()) {
        n.append("Container state error: ").append(i.error()).append('\n');
      }
      if (i.running()) {
        n.append("Plugin is running but may have printed something unexpected to stdout, where"
            + " it should have printed '|' separated protocol negotiation info. Check stdout in"
            + " the logs below.\n");
      } else if (!"created".equals(i.status())) {
        n.append(ExitHints.describe(i.exitCode(), i.oomKilled())).append('\n');
      }
      Engine.Logs logs = e.logs(cid);
      if (logs.stdout().isEmpty() && logs.stderr().isEmpty()) {
        n.append("No log lines from container\n");
      } else {
        n.append("--- Container Logs ---\nStdout:\n").append(logs.stdout())
            .append("\nStderr:\n").append(logs.stderr()).append("\n--- End Logs ---\n");
      }
    } catch (RuntimeException ex) {
      n.append("(diagnosis incomplete: ").append(ex.getMessage()).append(")\n");
    }
    return n.toString();
  }

  @Override
  public InputStream stdout() {
    return stdout.in();
  }

  @Override
  public InputStream stderr() {
    return stderr.in();
  }

  @Override
  public String name() {
    return spec.image();
  }

  @Override
  public CompletableFuture<Integer> onExit() {
    return exit;
  }

  @Override
  public void kill() {
    boolean starting;
    boolean beforeEngine;
    synchronized (lock) {
      if (killed || released) {
        return;
      }
      killed = true;
      starting = started;
      beforeEngine = connecting;
    }
    if (beforeEngine) {
      // start() is still looking for the engine (which may take up to the engine's call timeout
      // when it hangs): nothing exists yet, and start() gives up once the connection returns
      stdout.closeWriter();
      stderr.closeWriter();
      exit.complete(-1);
      return;
    }
    if (starting) {
      // start() notices the kill after its current engine call and cleans up what it made
      try {
        startEnded.await();
      } catch (InterruptedException ex) {
        Thread.currentThread().interrupt();
        throw new ContainerException("interrupted while waiting for the container start to end;"
            + " container " + DockerJavaEngine.shortId(id) + " may be left behind (find it by"
            + " the label " + Labels.MANAGED + "=true)", ex);
      }
    }
    Engine e;
    synchronized (lock) {
      if (cleaned) {
        return;
      }
      e = engine;
    }
    if (e == null) {
      stdout.closeWriter();
      stderr.closeWriter();
      exit.complete(-1);
      return;
    }
    if (config.debug() && snapshot.isEmpty() && !id.isEmpty()) {
      snapshot = collectDiagnosis(e, false);
    }
    cleanUp(e, true);
  }

  /**
   * Frees the output thread, the exit wait and the engine connections and leaves the container
   * running, for a later host to reattach. {@link #onExit()} then no longer completes.
   */
  @Override
  public void release() {
    Engine e;
    InputStream a;
    Thread t;
    synchronized (lock) {
      if (killed || released || cleaned) {
        return;
      }
      released = true;
      cleaned = true;
      e = engine;
      a = attachStream;
      t = pump;
    }
    if (e != null) {
      // closing the engine cuts the attach and wait connections: both reader threads end
      e.close();
    }
    endStreams(a, t);
    LOG.debug("released container {}; it keeps running", DockerJavaEngine.shortId(id));
  }

  /**
   * Closes the attach stream, gives the pump thread up to 2 s to drain it and end, then ends
   * both output streams for their readers.
   */
  private void endStreams(InputStream attach, Thread pumpThread) {
    if (attach != null) {
      try {
        attach.close();
      } catch (IOException | RuntimeException ex) {
        LOG.debug("closing attach stream", ex);
      }
    }
    if (pumpThread != null) {
      try {
        pumpThread.join(2000);
      } catch (InterruptedException ex) {
        Thread.currentThread().interrupt();
      }
    }
    stdout.closeWriter();
    stderr.closeWriter();
  }

  /** Stops and removes the container, ends the streams, closes the engine. */
  private void cleanUp(Engine e, boolean throwOnFailure) {
    boolean wait;
    synchronized (lock) {
      if (cleaned) {
        return;
      }
      cleaned = true;
      wait = waiting;
    }
    String cid = id;
    PluginException failure = null;
    try {
      if (!cid.isEmpty()) {
        ContainerLifecycle.stopAndRemove(e, cid, (int) config.killGrace().toSeconds());
      }
    } catch (PluginException ex) {
      failure = ex;
    }
    // With the container gone the engine ends the attach stream and answers the wait; give
    // both a moment so onExit() carries the real status, then cut whatever is left.
    Thread t;
    synchronized (lock) {
      t = pump;
    }
    if (wait) {
      try {
        exit.get(2, TimeUnit.SECONDS);
      } catch (Exception ignored) {
        exit.complete(-1);
      }
    } else {
      // no container, or no wait registered: nothing will ever complete it
      exit.complete(-1);
    }
    InputStream a;
    synchronized (lock) {
      a = attachStream;
      killed = true;
    }
    endStreams(a, t);
    e.close();
    // the container is gone: so are the claims of hosts that reattached to it
    HostClaims.removeAll(socketDir);
    if (failure != null && throwOnFailure) {
      throw failure;
    }
    if (failure != null) {
      LOG.warn("container {} could not be removed after a failed start: {}",
          DockerJavaEngine.shortId(cid), failure.getMessage());
    }
  }

  @Override
  public String id() {
    return id;
  }

  @Override
  public String kind() {
    return ReattachConfig.KIND_CONTAINER;
  }

  /** What the container's exit status usually means (the engine is not asked: no OOM flag). */
  @Override
  public String describeExit(int status) {
    return status < 0 ? "" : ExitHints.describe(status, false);
  }

  /**
   * The host socket directory, the engine endpoint and the kill grace, for {@code
   * ContainerRunners.reattacher()}.
   */
  @Override
  public Map<String, String> reattachAttributes() {
    Map<String, String> attrs = new TreeMap<>();
    attrs.put(ATTR_SOCKET_DIR, socketDir.toString());
    engineEndpoint().ifPresent(e -> attrs.put(ATTR_ENGINE, e));
    attrs.put(ATTR_KILL_GRACE_SECONDS, Long.toString(config.killGrace().toSeconds()));
    return attrs;
  }

  @Override
  public NetAddress pluginToHost(NetAddress pluginAddress) {
    return translator.pluginToHost(pluginAddress);
  }

  @Override
  public NetAddress hostToPlugin(NetAddress hostAddress) {
    return translator.hostToPlugin(hostAddress);
  }

  @Override
  public String toString() {
    return "ContainerRunner{" + spec.image() + (id.isEmpty() ? "" : ", id=" + id) + "}";
  }
}
