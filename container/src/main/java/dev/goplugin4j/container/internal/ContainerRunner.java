package dev.goplugin4j.container.internal;

import dev.goplugin4j.container.ContainerConfig;
import dev.goplugin4j.container.ContainerException;
import dev.goplugin4j.container.ContainerStartException;
import dev.goplugin4j.container.ImageNotFoundException;
import dev.goplugin4j.host.PluginCommand;
import dev.goplugin4j.host.ReattachConfig;
import dev.goplugin4j.host.Runner;
import dev.goplugin4j.protocol.NetAddress;
import dev.goplugin4j.protocol.PluginException;
import java.io.InputStream;
import java.nio.file.Path;
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
 * and never left behind. *
 * <p>This class keeps the lifecycle and its coordination (start's order, kill, release, clean-up);
 * the phases are in {@link ContainerSpecs} (config to spec), {@link SocketStrategy} (ACLs,
 * rootless group-add), {@link ImagePin} (SHA256 check), {@link OutputPump} (stdout/stderr) and
 * {@link ContainerDiagnosis} (config notes, engine state, exit hints, logs). Thread-safe.
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

  private final ContainerConfig config;
  private final SocketDirTranslator translator;
  private final Path socketDir;
  private final EngineLocator locator;
  /** Where the engine connection comes from: shared with the factory's other runners. */
  private final EngineShare engines;
  /** What is sent to the engine; adjusted once in start() for the engine's socket strategy. */
  private volatile ContainerSpec spec;
  private final OutputPump output = new OutputPump();
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
   * A runner for one start, with an engine connection of its own (closed with the runner).
   *
   * @param environment the process environment for engine discovery
   */
  public ContainerRunner(ContainerConfig config, PluginCommand command, Path socketDir,
      Map<String, String> environment) {
    this(config, command, socketDir, environment, new EngineShare(0));
  }

  /**
   * A runner for one start that takes its engine connection from {@code engines}, shared with
   * the other runners of the same factory; its kill or release gives its share back.
   *
   * @param environment the process environment for engine discovery
   */
  public ContainerRunner(ContainerConfig config, PluginCommand command, Path socketDir,
      Map<String, String> environment, EngineShare engines) {
    this.engines = engines;
    this.config = config;
    this.socketDir = socketDir.toAbsolutePath().normalize();
    this.translator = new SocketDirTranslator(this.socketDir);
    this.locator = new EngineLocator(config.engineEndpoint().orElse(null), environment);
    this.spec = ContainerSpecs.of(config, command, this.socketDir, HostId.current());
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
        e = engines.acquire(locator);
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
          snapshot = ContainerDiagnosis.collect(config, spec, e, id);
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
    if (!config.runtime().isEmpty()) {
      Optional<String> ignored =
          RuntimeHints.podmanRuntimeMismatch(config.runtime(), e.facts(), e.endpoint());
      if (ignored.isPresent()) {
        throw new ContainerStartException(ignored.get(), null);
      }
    }
    spec = SocketStrategy.apply(config, socketDir, e, spec);
    phase("socket strategy");
    if (!config.sha256().isEmpty()) {
      ImagePin.verify(config, e);
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
              + ContainerDiagnosis.runtimeHint(config, e).map(h -> "\n" + h).orElse(""), ex);
    }
    synchronized (lock) {
      id = created;
    }
    checkNotKilled();
    // The exit wait goes out on its own thread while this one attaches: both must be in place
    // before the start (no byte of the handshake and no exit missed), neither needs the other.
    Engine.ExitWait exitWait = e.registerExitWait(created, true);
    exitWait.exit().whenComplete((status, err) -> {
      synchronized (lock) {
        if (released) {
          return; // the wait was cut by release(); the plugin runs on
        }
      }
      exit.complete(err == null ? status.intValue() : -1);
    });
    // a failed attach leaves waiting false: the container never ran, so the clean-up gives
    // onExit() -1 at once, and closing the engine cuts the wait wherever it is
    InputStream attached = e.attach(created);
    synchronized (lock) {
      attachStream = attached;
    }
    phase("attach");
    exitWait.awaitRegistered();
    synchronized (lock) {
      waiting = true;
    }
    phase("exit wait");
    Thread t = output.thread(attached, created, startedAt, this::endExpected);
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
              + ContainerDiagnosis.runtimeHint(config, e).map(h -> "\n" + h).orElse(""), ex);
    }
  }

  /** Whether an end of the output stream now is expected: the runner was killed or released. */
  private boolean endExpected() {
    synchronized (lock) {
      return killed || released;
    }
  }

  @Override
  public String diagnose() {
    Engine e;
    synchronized (lock) {
      e = engine;
    }
    if (e == null || !snapshot.isEmpty()) {
      return ContainerDiagnosis.configNotes(config, spec, socketDir) + snapshot;
    }
    return ContainerDiagnosis.configNotes(config, spec, socketDir)
        + ContainerDiagnosis.collect(config, spec, e, id);
  }

  @Override
  public InputStream stdout() {
    return output.stdout();
  }

  @Override
  public InputStream stderr() {
    return output.stderr();
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
      output.closeWriters();
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
      output.closeWriters();
      exit.complete(-1);
      return;
    }
    if (config.debug() && snapshot.isEmpty() && !id.isEmpty()) {
      snapshot = ContainerDiagnosis.collect(config, spec, e, id);
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
    output.end(a, t);
    LOG.debug("released container {}; it keeps running", DockerJavaEngine.shortId(id));
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
    output.end(a, t);
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
