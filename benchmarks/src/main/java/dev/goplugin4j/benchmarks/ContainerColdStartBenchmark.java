package dev.goplugin4j.benchmarks;

import dev.goplugin4j.container.ContainerConfig;
import dev.goplugin4j.host.PluginClient;
import dev.goplugin4j.interop.Storage;
import dev.goplugin4j.interop.StorageCounter;
import dev.goplugin4j.interop.StorageCounterPlugin;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Figure 5: container cold start to first call. Each measured invocation builds a client with the
 * container runner, which creates and starts plugincontainer's examples/container {@code
 * plugin-counter} image (networking off) under runc or runsc; then handshake (AutoMTLS), connect,
 * dispense and one {@code Counter.Increment}, which calls back the host's {@code Storage} through
 * the broker (non-multiplexed or multiplexed). Stopping and removing the container is not
 * measured. The Go driver ({@code
 * containerhost coldstart}) does the same with go-plugin and plugincontainer.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class ContainerColdStartBenchmark {
  /** The OCI runtime. */
  @Param({"runc", "runsc"})
  public String runtime;

  /** Whether the broker is multiplexed (one connection into the container, yamux streams). */
  @Param({"false", "true"})
  public boolean mux;

  private ContainerConfig config;
  private PluginClient client;

  /** The in-memory storage plugincontainer's own tests use. */
  private static final class MemoryStorage implements Storage {
    private final Map<String, Long> data = new ConcurrentHashMap<>();

    @Override
    public long get(String key) {
      return data.getOrDefault(key, 0L);
    }

    @Override
    public void put(String key, long value) {
      data.put(key, value);
    }
  }

  /** Checks the image exists (by building the config; the engine is asked at start). */
  @Setup(Level.Trial)
  public void prepare() {
    config =
        ContainerConfig.builder()
            .image(BenchPeers.containerImage())
            .tag("latest")
            .runtime(runtime)
            .disableNetwork(true)
            .build();
  }

  /**
   * Container create and start, handshake, connect, first brokered call.
   *
   * @return the counter's value (1)
   */
  @Benchmark
  public long startAndFirstCall() {
    client =
        PluginClient.builder()
            .handshake(1, "BASIC_PLUGIN", "hello")
            .plugin("counter", new StorageCounterPlugin())
            .runner(config)
            .multiplexBroker(mux)
            .skipHostEnv(true)
            .build();
    long v = client.dispense("counter", StorageCounter.class).increment("bench", 1, new MemoryStorage());
    if (v != 1) {
      throw new IllegalStateException("first increment returned " + v + ", expected 1");
    }
    return v;
  }

  /** Stops and removes the container of the iteration (not measured). */
  @TearDown(Level.Iteration)
  public void stop() {
    if (client != null) {
      client.close();
      client = null;
    }
  }
}
