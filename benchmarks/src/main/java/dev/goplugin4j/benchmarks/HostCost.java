package dev.goplugin4j.benchmarks;

import dev.goplugin4j.host.PluginClient;
import dev.goplugin4j.interop.Kv;
import dev.goplugin4j.interop.KvPlugin;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryUsage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Figures {@code host_cost_{threads,heap_mib,rss_mib,fds}_per_plugin_n{1,16,64}}: what each live
 * process plugin costs the host, measured in this JVM. A warm-up plugin is started and closed
 * first (classes loaded, shared pools made), then the baseline is taken; then go-plugin's KV
 * plugin is started (AutoMTLS, one {@code Get} each) until 1, 16 and 64 run at once, and at each
 * level: OS threads of this process ({@code /proc/self/task}), heap in use after a full GC, RSS
 * ({@code VmRSS}) and open fds, minus the baseline, divided by the number of plugins. The Go
 * driver ({@code kvhost hostcost}) measures the same way (heap: {@code HeapAlloc} after
 * {@code runtime.GC()}). Goals (issue 11): at most 8 threads and 4 MiB heap per plugin, flat.
 *
 * <p>The JVM must run with its heap pinned and touched ({@code -Xms} equal to {@code -Xmx}, and
 * {@code -XX:+AlwaysPreTouch}; {@code scripts/bench.sh} passes {@value #HEAP_OPTIONS}): else the
 * collector commits and returns heap between the samples, and the RSS difference is that, not the
 * plugins' cost (at one plugin it came out between -7 and +3 MiB in runs of the same code). With
 * the heap resident from the start, the RSS difference is what the plugins add outside the heap
 * (thread stacks, native buffers, metaspace, malloc arenas); the RSS figure adds the heap they
 * keep in use, so that it compares with Go's RSS, which holds Go's heap. Not thread-safe.
 */
final class HostCost {
  static final double GOAL_THREADS = 8;
  static final double GOAL_HEAP_MIB = 4;
  /** The JVM options this measurement needs: a pinned, resident heap. */
  static final String HEAP_OPTIONS = "-Xms256m -Xmx256m -XX:+AlwaysPreTouch";

  private HostCost() {}

  static List<String> run(Path plugin, int[] levels) throws IOException, InterruptedException {
    MemoryUsage heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
    if (heap.getMax() < 0 || heap.getCommitted() != heap.getMax()) {
      throw new IllegalStateException("host-cost needs the heap pinned (committed "
          + heap.getCommitted() + " of max " + heap.getMax() + " bytes): run this JVM with "
          + HEAP_OPTIONS + ", as scripts/bench.sh does, or the RSS figures measure the collector,"
          + " not the plugins");
    }
    Files.writeString(Path.of("kv_coldstart"), "cold", StandardCharsets.UTF_8);
    try (PluginClient warm = client(plugin)) {
      warm.dispense("kv", Kv.class).get("coldstart");
    }
    double[] base = sample();
    List<PluginClient> live = new ArrayList<>();
    List<String> lines = new ArrayList<>();
    try {
      for (int n : levels) {
        while (live.size() < n) {
          PluginClient c = client(plugin);
          live.add(c);
          c.dispense("kv", Kv.class).get("coldstart");
        }
        double[] now = sample();
        lines.add(line("threads", "threads per plugin", (now[0] - base[0]) / n, n, GOAL_THREADS));
        lines.add(line("heap_mib", "MiB heap per plugin", (now[1] - base[1]) / n, n, GOAL_HEAP_MIB));
        lines.add(line("rss_mib", "MiB RSS per plugin (outside the pinned heap, plus heap in use)",
            (now[2] - base[2] + now[1] - base[1]) / n, n, Double.NaN));
        lines.add(line("fds", "fds per plugin", (now[3] - base[3]) / n, n, Double.NaN));
      }
    } finally {
      for (PluginClient c : live) {
        c.close();
      }
    }
    return lines;
  }

  private static PluginClient client(Path plugin) {
    return BenchPeers.exampleClient(plugin).plugin("kv", new KvPlugin()).autoMtls(true).build();
  }

  private static String line(String what, String unit, double value, int n, double goal) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("value", Results.round(value));
    m.put("unit", unit);
    m.put("better", "lower");
    m.put("plugins", n);
    if (!Double.isNaN(goal)) {
      m.put("goal", "<= " + (int) goal + " per plugin");
      m.put("goal_met", value <= goal);
    }
    return Results.line("host_cost_" + what + "_per_plugin_n" + n, "java", m);
  }

  /** {threads, heap MiB after GC, RSS MiB, fds}. */
  private static double[] sample() throws IOException, InterruptedException {
    for (int i = 0; i < 3; i++) {
      System.gc();
      Thread.sleep(100);
    }
    double heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed() / 1048576.0;
    return new double[] {count(Path.of("/proc/self/task")), heap, rssMib(), count(Path.of("/proc/self/fd"))};
  }

  private static double count(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.count();
    }
  }

  private static double rssMib() throws IOException {
    for (String l : Files.readAllLines(Path.of("/proc/self/status"), StandardCharsets.UTF_8)) {
      if (l.startsWith("VmRSS:")) {
        return Long.parseLong(l.replaceAll("[^0-9]", "")) / 1024.0;
      }
    }
    throw new IllegalStateException("no VmRSS in /proc/self/status");
  }
}
