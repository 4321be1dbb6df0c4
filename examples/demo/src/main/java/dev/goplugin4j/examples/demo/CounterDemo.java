package dev.goplugin4j.examples.demo;

import dev.goplugin4j.container.ContainerConfig;
import dev.goplugin4j.host.PluginClient;
import dev.goplugin4j.host.RunnerFactory;
import dev.goplugin4j.interop.Storage;
import dev.goplugin4j.interop.StorageCounter;
import dev.goplugin4j.interop.StorageCounterPlugin;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The quick start's main job: starts the counter plugin (plugincontainer's example, or our Java
 * one) in a hardened container — gVisor when available, no network, capped memory, CPU and pids,
 * pinned image ID — and increments ("hello",1), ("hello",2), ("world",2) through the host's
 * storage, which the plugin reaches through the multiplexed broker. Prints 1, 3, 2.
 *
 * <p>Usage: {@code CounterDemo --image NAME [--tag T] [--sha256 ID] [--runtime runsc|runc]
 * [--memory-mib N] [--cpus C]} or
 * {@code CounterDemo --command PATH} to run the plugin as a process.
 */
public final class CounterDemo {
  private CounterDemo() {}

  /**
   * Runs the demo.
   *
   * @param args see the class description
   */
  public static void main(String[] args) {
    // when the launcher started this JVM (scripts/demo.sh passes it), for the timing line
    long jvmStartMs = -1;
    String launched = System.getProperty("goplugin4j.demo.launchedAtMillis", "");
    if (launched.matches("[0-9]{1,19}")) {
      jvmStartMs = System.currentTimeMillis() - Long.parseLong(launched);
    }
    String image = null;
    String tag = null;
    String sha256 = null;
    String runtime = null;
    String command = null;
    long memoryMiB = 64;
    long nanoCpus = 500_000_000L;
    for (int i = 0; i < args.length; i++) {
      String v = i + 1 < args.length ? args[i + 1] : null;
      switch (args[i]) {
        case "--image" -> image = v;
        case "--tag" -> tag = v;
        case "--sha256" -> sha256 = v;
        case "--runtime" -> runtime = v;
        case "--command" -> command = v;
        case "--memory-mib" -> memoryMiB = parseMiB(v);
        case "--cpus" -> nanoCpus = parseCpus(v);
        default -> usage("unknown argument " + args[i]);
      }
      if (v == null) {
        usage(args[i] + " needs a value");
      }
      i++;
    }
    if ((image == null) == (command == null)) {
      usage("give exactly one of --image and --command");
    }

    PluginClient.Builder builder = PluginClient.builder()
        .handshake(1, "BASIC_PLUGIN", "hello")
        .plugin("counter", new StorageCounterPlugin())
        .skipHostEnv(true);
    String where;
    if (image != null) {
      ContainerConfig.Builder c = ContainerConfig.builder()
          .image(image)
          .disableNetwork(true)
          .memory(memoryMiB << 20)
          .nanoCpus(nanoCpus)
          .pluginName("counter");
      if (tag != null) {
        c.tag(tag);
      }
      if (sha256 != null) {
        c.sha256(sha256);
      }
      if (runtime != null) {
        c.runtime(runtime);
      }
      // a Java plugin's image (goplugin4j image) runs as a non-root user, 65532:0: the socket
      // directory is made writable for this host's group, which the container gets too
      int gid;
      try {
        gid = (Integer) java.nio.file.Files.getAttribute(java.nio.file.Path.of("/proc/self"), "unix:gid");
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
      c.groupAdd(gid);
      builder.unixSocketGroup(String.valueOf(gid));
      RunnerFactory sandbox = c.build();
      builder.runner(sandbox).multiplexBroker(true);
      where = "container " + ((ContainerConfig) sandbox).imageRef()
          + " (runtime " + (runtime == null ? "engine default" : runtime)
          + "; limits: " + cpus(nanoCpus) + ", "
          + (memoryMiB == 0 ? "no memory limit" : memoryMiB + " MiB memory") + ")";
    } else {
      builder.command(command);
      where = "process " + command;
    }

    Map<String, Long> store = new ConcurrentHashMap<>();
    Storage storage = new Storage() {
      @Override
      public long get(String key) {
        return store.getOrDefault(key, 0L);
      }

      @Override
      public void put(String key, long value) {
        store.put(key, value);
      }
    };

    List<Long> results = new ArrayList<>();
    long t0 = System.nanoTime();
    try (PluginClient client = builder.build()) {
      client.start();
      long started = System.nanoTime();
      System.out.printf("started the counter plugin in %s in %d ms%n", where, (started - t0) / 1_000_000);
      StorageCounter counter = client.dispense("counter", StorageCounter.class);
      results.add(counter.increment("hello", 1, storage));
      long firstCall = System.nanoTime();
      printTiming(jvmStartMs, (started - t0) / 1_000_000, (firstCall - started) / 1_000_000);
      results.add(counter.increment("hello", 2, storage));
      results.add(counter.increment("world", 2, storage));
    }
    for (long r : results) {
      System.out.println(r);
    }
    System.out.printf("stopped and cleaned up after %d ms%n", (System.nanoTime() - t0) / 1_000_000);
    if (!results.equals(List.of(1L, 3L, 2L))) {
      System.err.println("unexpected results " + results + ", wanted [1, 3, 2]");
      System.exit(1);
    }
  }

  /**
   * Where the time went: the JVM's own start (launch to main), then the start phases
   * goplugin4j logged at DEBUG ({@link PhaseLog}: the container runner's engine connect, image
   * check, create, start; the client's host certificate, handshake, channel, broker and stdio, connect with TLS),
   * then dispense and the first call (which dials the host's broker, a second TLS handshake).
   */
  private static void printTiming(long jvmStartMs, long startMs, long firstCallMs) {
    StringBuilder b = new StringBuilder("where the time went: ");
    if (jvmStartMs >= 0) {
      b.append("JVM launch to main ").append(jvmStartMs).append(" ms (before the figure above); ");
    }
    b.append("start ").append(startMs).append(" ms");
    for (String l : PhaseLog.lines()) {
      int open = l.lastIndexOf(" (");
      if (l.startsWith("started container") && open > 0) {
        b.append("%n  container runner: ").append(l, open + 2, l.length() - 1);
      } else if (l.contains("start phases (ms): ")) {
        b.append("%n  plugin client (ms): ").append(l.substring(l.indexOf("start phases (ms): ") + 19));
      }
    }
    b.append("%n  dispense + first call (the plugin dials the host's broker: TLS) ").append(firstCallMs).append(" ms");
    System.out.println(b.toString().replace("%n", System.lineSeparator()));
  }

  /** A CPU quota as the demo line says it: "0.5 CPU", "no CPU limit". */
  private static String cpus(long nanoCpus) {
    if (nanoCpus == 0) {
      return "no CPU limit";
    }
    return java.math.BigDecimal.valueOf(nanoCpus, 9).stripTrailingZeros().toPlainString() + " CPU";
  }

  private static long parseCpus(String v) {
    try {
      return new java.math.BigDecimal(v).movePointRight(9).longValueExact();
    } catch (ArithmeticException | NumberFormatException | NullPointerException e) {
      usage("--cpus needs a number of CPUs (0.5, 1, 0 for no limit), got " + v);
      return 0;
    }
  }

  private static long parseMiB(String v) {
    try {
      return Long.parseLong(v);
    } catch (NumberFormatException | NullPointerException e) {
      usage("--memory-mib needs a number of MiB, got " + v);
      return 0;
    }
  }

  private static void usage(String why) {
    System.err.println("CounterDemo: " + why);
    System.err.println("usage: CounterDemo --image NAME [--tag T] [--sha256 ID] [--runtime runsc|runc]"
        + " [--memory-mib N (default 64)] [--cpus C (default 0.5, 0: no limit)]");
    System.err.println("       CounterDemo --command PATH");
    System.exit(2);
  }
}
