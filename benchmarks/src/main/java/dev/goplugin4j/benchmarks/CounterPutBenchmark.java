package dev.goplugin4j.benchmarks;

import dev.goplugin4j.host.PluginClient;
import dev.goplugin4j.interop.AddHelper;
import dev.goplugin4j.interop.Counter;
import dev.goplugin4j.interop.CounterPlugin;
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
 * Figure 2: a brokered round trip. One started go-plugin examples/bidirectional {@code
 * plugin-go-grpc}; each operation is one {@code Counter.Put}: the host serves its {@code
 * AddHelper} under a new broker id, the plugin dials it back (a new connection, with AutoMTLS a
 * new TLS handshake), calls {@code Sum}, writes its file and answers; the host then stops serving.
 * Exactly what go-plugin's own example host does per Put. Non-multiplexed or multiplexed broker,
 * AutoMTLS on or off.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class CounterPutBenchmark {
  private static final AddHelper ADDER = Long::sum;

  /** Whether the broker is multiplexed over one yamux connection. */
  @Param({"false", "true"})
  public boolean mux;

  /** Whether AutoMTLS is on (then every brokered connection is a new TLS handshake). */
  @Param({"true", "false"})
  public boolean mtls;

  private PluginClient client;
  private Counter counter;

  /** Starts the plugin. */
  @Setup(Level.Trial)
  public void start() {
    client =
        BenchPeers.exampleClient(BenchPeers.counterPlugin())
            .plugin("counter", new CounterPlugin())
            .multiplexBroker(mux)
            .autoMtls(mtls)
            .build();
    counter = client.dispense("counter", Counter.class);
    counter.put("bench", 1, ADDER);
  }

  /** Stops the plugin. */
  @TearDown(Level.Trial)
  public void stop() {
    if (client != null) {
      client.close();
    }
  }

  /** One brokered Put. */
  @Benchmark
  public void put() {
    counter.put("bench", 1, ADDER);
  }
}
