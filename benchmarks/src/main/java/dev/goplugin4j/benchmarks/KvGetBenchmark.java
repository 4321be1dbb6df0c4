package dev.goplugin4j.benchmarks;

import dev.goplugin4j.host.PluginClient;
import dev.goplugin4j.interop.Kv;
import dev.goplugin4j.interop.KvPlugin;
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
 * Figure 1: a unary round trip to a Go plugin. One started go-plugin examples/grpc {@code
 * plugin-go-grpc}; each operation is one {@code KV.Get} of a 64-byte value (the plugin reads a
 * file {@code kv_bench} in its working directory, as it does for the Go host), with AutoMTLS on or
 * off.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class KvGetBenchmark {
  /** Bytes stored under the key before measuring (as the Go driver's {@code -value-size}). */
  static final int VALUE_SIZE = 64;

  /** Whether AutoMTLS is on. */
  @Param({"true", "false"})
  public boolean mtls;

  private PluginClient client;
  private Kv kv;

  /** Starts the plugin and stores the value. */
  @Setup(Level.Trial)
  public void start() {
    client = BenchPeers.exampleClient(BenchPeers.kvPlugin()).plugin("kv", new KvPlugin()).autoMtls(mtls).build();
    kv = client.dispense("kv", Kv.class);
    kv.put("bench", new byte[VALUE_SIZE]);
  }

  /** Stops the plugin. */
  @TearDown(Level.Trial)
  public void stop() {
    if (client != null) {
      client.close();
    }
  }

  /**
   * One KV Get round trip.
   *
   * @return the value, so the call is not optimised away
   */
  @Benchmark
  public byte[] get() {
    return kv.get("bench");
  }
}
