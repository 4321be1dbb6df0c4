package dev.goplugin4j.benchmarks;

import dev.goplugin4j.host.PluginClient;
import dev.goplugin4j.interop.Kv;
import dev.goplugin4j.interop.KvPlugin;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
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
 * Figure 3: plugin start to first call. Each measured invocation builds a client, starts go-plugin
 * examples/grpc {@code plugin-go-grpc} as a process (with AutoMTLS: a fresh P-521 key and
 * certificate on each side), reads its handshake, connects (waits for the channel to be ready), dispenses
 * and does one {@code KV.Get}. Closing the plugin is not measured. Run with warm-up iterations for
 * the steady cold start of a long-running host, or with none and several forks for the first
 * start in a fresh JVM.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class ColdStartBenchmark {
  /** Whether AutoMTLS is on. */
  @Param({"true", "false"})
  public boolean mtls;

  private Path plugin;
  private PluginClient client;

  /** Resolves the plugin and writes the value the first call reads. */
  @Setup(Level.Trial)
  public void prepare() {
    plugin = BenchPeers.kvPlugin();
    try {
      Files.writeString(Path.of("kv_coldstart"), "cold", StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write kv_coldstart in the working directory", e);
    }
  }

  /**
   * Start, handshake, connect, first call.
   *
   * @return the value read
   */
  @Benchmark
  public byte[] startAndFirstCall() {
    client = BenchPeers.exampleClient(plugin).plugin("kv", new KvPlugin()).autoMtls(mtls).build();
    return client.dispense("kv", Kv.class).get("coldstart");
  }

  /** Stops the plugin started by the iteration (not measured). */
  @TearDown(Level.Iteration)
  public void stop() {
    if (client != null) {
      client.close();
      client = null;
    }
  }
}
