package dev.goplugin4j.benchmarks;

import dev.goplugin4j.host.PluginClient;
import dev.goplugin4j.interop.Streamer;
import dev.goplugin4j.interop.StreamerPlugin;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Figures {@code grpc_streaming_{write,read}}: gRPC streaming throughput against go-plugin's
 * examples/streaming plugin (started once, AutoMTLS on): {@code Configure(file, chunk)}, then a
 * client stream writing {@code sizeMib} MiB in {@code chunk}-byte messages (the plugin appends
 * them to the file), then a server stream reading the file back. One measurement is one whole
 * write or read; MiB/s of the median. The Go driver ({@code streamhost}) does the same through
 * the example's own Go client. Goal (issue 11): at least Go's throughput. Each figure also gives
 * {@code host_cpu_ms_per_mib}: the host process's CPU time (all its threads, user and system) per
 * MiB, median over the measured runs, which a loaded machine disturbs less than the wall-clock
 * rate. Not thread-safe.
 */
final class Streaming {
  private Streaming() {}

  static List<String> run(Path plugin, int sizeMib, int chunk, int warmups, int runs, boolean mtls) throws Exception {
    byte[] data = new byte[sizeMib << 20];
    for (int i = 0; i < data.length; i++) {
      data[i] = (byte) (i * 31);
    }
    List<Long> writes = new ArrayList<>();
    List<Long> reads = new ArrayList<>();
    List<Long> writeCpu = new ArrayList<>();
    List<Long> readCpu = new ArrayList<>();
    Path file = Path.of("streaming_data").toAbsolutePath();
    try (PluginClient client = BenchPeers.exampleClient(plugin).plugin("streamer", new StreamerPlugin())
        .autoMtls(mtls).build()) {
      Streamer s = client.dispense("streamer", Streamer.class);
      for (int i = 0; i < warmups + runs; i++) {
        Files.deleteIfExists(file);
        s.configure(file.toString(), chunk);
        long c0 = processCpuNanos();
        long t0 = System.nanoTime();
        s.write(data);
        long t1 = System.nanoTime();
        long c1 = processCpuNanos();
        byte[] back = s.read();
        long t2 = System.nanoTime();
        long c2 = processCpuNanos();
        if (!Arrays.equals(back, data)) {
          throw new IllegalStateException("the streaming plugin read back " + back.length + " bytes, not the "
              + data.length + " written");
        }
        if (i >= warmups) {
          writes.add(t1 - t0);
          reads.add(t2 - t1);
          writeCpu.add(c1 - c0);
          readCpu.add(c2 - c1);
        }
      }
    } finally {
      Files.deleteIfExists(file);
    }
    String suffix = mtls ? "" : "_plain";
    return List.of(line("grpc_streaming_write" + suffix, writes, writeCpu, sizeMib, chunk, mtls),
        line("grpc_streaming_read" + suffix, reads, readCpu, sizeMib, chunk, mtls));
  }

  /** CPU time of this whole process so far (all threads, user and system), in nanoseconds. */
  private static long processCpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime();
  }

  private static String line(String figure, List<Long> nanos, List<Long> cpuNanos, int sizeMib, int chunk,
      boolean mtls) {
    Map<String, Object> m = Results.perRunNanos(nanos);
    m.put("host_cpu_ms_per_mib", Results.round(Results.median(cpuNanos) / 1e6 / sizeMib));
    m.put("size_mib", (double) sizeMib);
    m.put("chunk_bytes", chunk);
    m.put("mib_per_s", Results.round(sizeMib / ((double) m.get("p50_ms") / 1e3)));
    m.put("mib_per_s_mean", Results.round(sizeMib / ((double) m.get("mean_ms") / 1e3)));
    m.put("mtls", mtls);
    return Results.line(figure, "java", m);
  }
}
