package dev.goplugin4j.container;

import static org.assertj.core.api.Assertions.assertThat;

import dev.goplugin4j.container.internal.DockerJavaEngine;
import dev.goplugin4j.container.internal.Engine;
import dev.goplugin4j.host.PluginClient;
import dev.goplugin4j.interop.Storage;
import dev.goplugin4j.interop.StorageCounter;
import dev.goplugin4j.interop.StorageCounterPlugin;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One cell of the compatibility matrix: engine × runtime × container user × mlock × broker, with
 * the socket-permission settings of the cell, run end to end as plugincontainer's own tests do:
 * plugincontainer's counter in a container, its storage served by the host through the broker,
 * AutoMTLS on, Increment ("hello",1)=1, ("hello",2)=3, ("world",2)=2.
 *
 * <p>A cell is a list of {@code key=value} words as well, so that a child JVM running as another
 * user can run the same cell ({@link NonRootHostMain}).
 *
 * @param engine the engine
 * @param runtime {@code runc} or {@code runsc}
 * @param tag the image tag ({@link MatrixImages#ROOT}, {@link MatrixImages#NONROOT}, {@link
 *     MatrixImages#NONROOT_MLOCK})
 * @param mlock whether the plugin calls {@code mlockall} ({@code MLOCK=true}) with {@code
 *     capIpcLock}
 * @param multiplex whether the host asks for the multiplexed broker
 * @param groupAdd the container's extra gid, or -1 for none
 * @param socketGroup the host's socket group ({@code unixSocketGroup}), or -1 for none
 * @param rootless the {@code rootless} flag of the config
 * @param network whether the container has a network; off by default here (the plugin talks
 *     over the socket only, and rootless Podman 4.3's service leaves a zombie {@code slirp4netns}
 *     behind for every container with a network, podman#9777)
 * @param containerEnv extra container environment
 */
record MatrixCell(MatrixEngine engine, String runtime, String tag, boolean mlock,
    boolean multiplex, int groupAdd, int socketGroup, boolean rootless, boolean network,
    Map<String, String> containerEnv) {

  /** The plugin name label of every matrix container: leftovers are found by it. */
  static final String PLUGIN_NAME = "goplugin4j-matrix-it";

  MatrixCell {
    containerEnv = Map.copyOf(containerEnv);
  }

  /** A cell with the given engine, runtime and tag; no mlock, non-multiplexed, no groups. */
  static MatrixCell of(MatrixEngine engine, String runtime, String tag) {
    return new MatrixCell(engine, runtime, tag, false, false, -1, -1, false, false, Map.of());
  }

  MatrixCell withMlock(boolean on) {
    return new MatrixCell(engine, runtime, tag, on, multiplex, groupAdd, socketGroup, rootless,
        network, containerEnv);
  }

  MatrixCell withMultiplex(boolean on) {
    return new MatrixCell(engine, runtime, tag, mlock, on, groupAdd, socketGroup, rootless,
        network, containerEnv);
  }

  /** {@code groupAdd(gid)} and the host's {@code unixSocketGroup(gid)}, as upstream pairs them. */
  MatrixCell withSharedGroup(int gid) {
    return new MatrixCell(engine, runtime, tag, mlock, multiplex, gid, gid, rootless, network,
        containerEnv);
  }

  MatrixCell withGroups(int containerGroup, int hostSocketGroup) {
    return new MatrixCell(engine, runtime, tag, mlock, multiplex, containerGroup,
        hostSocketGroup, rootless, network, containerEnv);
  }

  MatrixCell withRootless(boolean on) {
    return new MatrixCell(engine, runtime, tag, mlock, multiplex, groupAdd, socketGroup, on,
        network, containerEnv);
  }

  /** With the engine's default network (as the config's default) instead of none. */
  MatrixCell withNetwork(boolean on) {
    return new MatrixCell(engine, runtime, tag, mlock, multiplex, groupAdd, socketGroup, rootless,
        on, containerEnv);
  }

  MatrixCell withContainerEnv(String key, String value) {
    Map<String, String> env = new LinkedHashMap<>(containerEnv);
    env.put(key, value);
    return new MatrixCell(engine, runtime, tag, mlock, multiplex, groupAdd, socketGroup, rootless,
        network, env);
  }

  /** The container configuration of this cell. */
  ContainerConfig config() {
    ContainerConfig.Builder b = ContainerConfig.builder()
        .image(MatrixImages.COUNTER).tag(tag)
        .runtime(runtime)
        .engineEndpoint(engine.endpoint(runtime))
        .pluginName(PLUGIN_NAME)
        .rootless(rootless)
        .disableNetwork(!network)
        .env(containerEnv);
    if (groupAdd >= 0) {
      b.groupAdd(groupAdd);
    }
    if (mlock) {
      b.env("MLOCK", "true").capIpcLock(true);
      if (tag.equals(MatrixImages.NONROOT_MLOCK)) {
        // the file capability on the binary is how a non-root user gets IPC_LOCK
        b.noNewPrivileges(false);
      }
    }
    return b.build();
  }

  /** The host client of this cell, its socket directories made under {@code socketParent}. */
  PluginClient.Builder host(Path socketParent) {
    PluginClient.Builder b = PluginClient.builder()
        .handshake(1, "BASIC_PLUGIN", "hello")
        .plugin("counter", new StorageCounterPlugin())
        .autoMtls(true)
        .skipHostEnv(true)
        .multiplexBroker(multiplex)
        .unixSocketTempDir(socketParent)
        .startTimeout(Duration.ofSeconds(60))
        .runner(config());
    if (socketGroup >= 0) {
      b.unixSocketGroup(Integer.toString(socketGroup));
    }
    return b;
  }

  /** What a run observed. */
  record Outcome(String containerId, String observedRuntime, List<Long> counts) {}

  /**
   * Starts the plugin, checks the runtime the container really runs under, increments the
   * counter three times and closes the client; then the container must be gone.
   *
   * @return the outcome (the counts are 1, 3, 2 when the cell works)
   */
  Outcome run(Path socketParent) {
    return run(socketParent, id -> { });
  }

  /** As {@link #run(Path)}, handing the running container's ID to {@code whileRunning} first. */
  Outcome run(Path socketParent, java.util.function.Consumer<String> whileRunning) {
    String id;
    String observed;
    List<Long> counts;
    try (PluginClient client = host(socketParent).build()) {
      client.start();
      id = client.reattachConfig().orElseThrow().runnerId();
      observed = observedRuntime(id);
      whileRunning.accept(id);
      StorageCounter counter = client.dispense("counter", StorageCounter.class);
      MemoryStorage storage = new MemoryStorage();
      counts = List.of(counter.increment("hello", 1, storage),
          counter.increment("hello", 2, storage), counter.increment("world", 2, storage));
      assertThat(storage.data).containsEntry("hello", 3L).containsEntry("world", 2L);
    }
    try (Engine e = DockerJavaEngine.connect(engine.endpoint(runtime), null)) {
      assertThat(e.inspect(id)).as("closing the client removes container %s", id).isEmpty();
    }
    return new Outcome(id, observed, counts);
  }

  /**
   * The OCI runtime a container runs under, as the engine records it: Docker's {@code
   * HostConfig.Runtime}; for Podman (whose compatible API reports {@code oci} there) libpod's
   * {@code OCIRuntime}.
   */
  String observedRuntime(String id) {
    String endpoint = engine.endpoint(runtime);
    if (engine.podman()) {
      return TestImages.run(List.of("podman", "--url", endpoint, "container", "inspect",
          "--format", "{{.OCIRuntime}}", id)).strip();
    }
    return TestImages.run(List.of("docker", "-H", endpoint, "container", "inspect", "--format",
        "{{.HostConfig.Runtime}}", id)).strip();
  }

  /** The cell as {@code key=value} words (see {@link #parse}). */
  List<String> toArgs() {
    List<String> args = new java.util.ArrayList<>(List.of(
        "engine=" + engine.name(), "runtime=" + runtime, "tag=" + tag, "mlock=" + mlock,
        "multiplex=" + multiplex, "groupAdd=" + groupAdd, "socketGroup=" + socketGroup,
        "rootless=" + rootless, "network=" + network));
    containerEnv.forEach((k, v) -> args.add("env." + k + "=" + v));
    return args;
  }

  /** The cell {@link #toArgs} wrote. */
  static MatrixCell parse(List<String> args) {
    Map<String, String> m = new LinkedHashMap<>();
    Map<String, String> env = new LinkedHashMap<>();
    for (String a : args) {
      int eq = a.indexOf('=');
      String k = a.substring(0, eq);
      String v = a.substring(eq + 1);
      if (k.startsWith("env.")) {
        env.put(k.substring(4), v);
      } else {
        m.put(k, v);
      }
    }
    return new MatrixCell(MatrixEngine.valueOf(m.get("engine")), m.get("runtime"), m.get("tag"),
        Boolean.parseBoolean(m.get("mlock")), Boolean.parseBoolean(m.get("multiplex")),
        Integer.parseInt(m.get("groupAdd")), Integer.parseInt(m.get("socketGroup")),
        Boolean.parseBoolean(m.get("rootless")), Boolean.parseBoolean(m.get("network")), env);
  }

  @Override
  public String toString() {
    return engine + " " + runtime + " " + tag + (mlock ? " mlock" : "")
        + (multiplex ? " multiplexed" : "") + (rootless ? " rootless-flag" : "")
        + (network ? " network" : "")
        + (groupAdd >= 0 ? " groupAdd=" + groupAdd : "")
        + (socketGroup >= 0 ? " socketGroup=" + socketGroup : "")
        + (containerEnv.isEmpty() ? "" : " env=" + containerEnv);
  }

  /** The in-memory storage plugincontainer's tests use. */
  static final class MemoryStorage implements Storage {
    final Map<String, Long> data = new ConcurrentHashMap<>();

    @Override
    public long get(String key) {
      return data.getOrDefault(key, 0L);
    }

    @Override
    public void put(String key, long value) {
      data.put(key, value);
    }
  }
}
