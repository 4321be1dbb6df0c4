package dev.goplugin4j.benchmarks;

import dev.goplugin4j.protocol.internal.transport.GrpcTransport;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.format.OutputFormatFactory;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.runner.options.VerboseMode;
import org.openjdk.jmh.util.Statistics;

/**
 * Runs the JMH benchmarks of one figure group and prints one JSON object per figure on stdout
 * (JMH's own report goes to stderr); also derives ratios and the docs table from figure lines.
 *
 * <pre>
 * BenchMain peers                 shell assignments of the Go plugin binaries (built if needed)
 * BenchMain run GROUP [options]   GROUP: kv, counter, counter-mux, coldstart, coldstart-fresh, yamux,
 *                                 container-runc, container-runsc, container-runc-mux, container-runsc-mux
 *   --forks N --wi N --w SECONDS --i N --r SECONDS   steady-state figures (default 1, 5, 2, 10, 2)
 *   --cold-warmup N --cold-runs N                     cold start (default 3, 20)
 *   --fresh-forks N                                   first start in a fresh JVM (default 5)
 *   --bulk-warmup N --bulk-runs N --bulk-mib N        yamux bulk (default 3, 10, 256)
 *   --container-warmup N --container-runs N           container cold start (default 2, 20)
 * BenchMain fresh-jvm [--runs N] [--java25 JAVA] [--cp JARS]
 *                                 fresh JVM to the first call, per start-up variant ({@link FreshJvm})
 * BenchMain host-cost             threads, heap, RSS, fds per live plugin at 1, 16, 64 ({@link HostCost});
 *                                 the JVM needs -Xms256m -Xmx256m -XX:+AlwaysPreTouch
 * BenchMain streaming [--size-mib N] [--chunk BYTES] [--warmup N] [--runs N] [--mtls true|false]
 *                                 gRPC streaming throughput ({@link Streaming})
 * BenchMain containers-many [--runtime R] [--count N] [--warmup N] [--runs N]
 *                                 N containerized plugins started at once ({@link ManyContainers})
 * BenchMain ratios FILE...        Java/Go ratio objects of the figure lines in FILEs
 * BenchMain table FILE...         the Markdown table for docs/benchmarks.md
 * </pre>
 *
 * <p>The JMH forks get the plugin paths as system properties ({@link BenchPeers}) and run in
 * this JVM's working directory, which is also the plugins' (they keep {@code kv_*} files there).
 * Exit status: 0, 1 on a failed benchmark, 2 on bad usage.
 */
public final class BenchMain {
  private static final String PKG = BenchMain.class.getPackageName() + ".";

  private BenchMain() {}

  /**
   * Entry point.
   *
   * @param args see the class comment
   * @throws Exception on failure, after printing what failed
   */
  public static void main(String[] args) throws Exception {
    if (args.length == 0) {
      usage("no command");
    }
    PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    switch (args[0]) {
      case "peers" -> {
        out.println("KV_PLUGIN=" + BenchPeers.kvPlugin());
        out.println("COUNTER_PLUGIN=" + BenchPeers.counterPlugin());
        out.println("CONTAINER_PLUGIN=" + BenchPeers.containerPlugin());
        out.println("STREAMING_PLUGIN=" + BenchPeers.streamingPlugin());
      }
      case "run" -> {
        if (args.length < 2) {
          usage("run needs a group");
        }
        for (String line : run(args[1], options(args, 2))) {
          out.println(line);
        }
      }
      case "fresh-jvm" -> {
        Map<String, String> o = named(args, 1);
        String j25 = o.getOrDefault("java25", "");
        List<String> lines = new FreshJvm(
                Path.of(System.getProperty("java.home"), "bin", "java"),
                j25.isEmpty() ? null : Path.of(j25),
                o.getOrDefault("cp", System.getProperty("java.class.path")),
                BenchPeers.kvPlugin(),
                Path.of("").toAbsolutePath())
            .run(Integer.parseInt(o.getOrDefault("runs", "5")));
        lines.forEach(out::println);
      }
      case "host-cost" -> HostCost.run(BenchPeers.kvPlugin(), new int[] {1, 16, 64}).forEach(out::println);
      case "streaming" -> {
        Map<String, String> o = named(args, 1);
        Streaming.run(BenchPeers.streamingPlugin(), Integer.parseInt(o.getOrDefault("size-mib", "64")),
                Integer.parseInt(o.getOrDefault("chunk", "65536")), Integer.parseInt(o.getOrDefault("warmup", "2")),
                Integer.parseInt(o.getOrDefault("runs", "10")), Boolean.parseBoolean(o.getOrDefault("mtls", "true")))
            .forEach(out::println);
      }
      case "containers-many" -> {
        Map<String, String> o = named(args, 1);
        out.println(ManyContainers.run(BenchPeers.containerImage(), o.getOrDefault("runtime", "runc"),
            Integer.parseInt(o.getOrDefault("count", "32")), Integer.parseInt(o.getOrDefault("warmup", "1")),
            Integer.parseInt(o.getOrDefault("runs", "3"))));
      }
      case "ratios" -> Results.ratios(Results.parse(readAll(args))).forEach(out::println);
      case "table" -> Results.table(Results.parse(readAll(args))).forEach(out::println);
      default -> usage("unknown command " + args[0]);
    }
  }

  private static void usage(String why) {
    System.err.println("BenchMain: " + why + "\nusage: BenchMain peers | run GROUP [--option value]... | ratios FILE... | table FILE...");
    System.exit(2);
  }

  /** {@code --name value} pairs from {@code args[from]} on. */
  private static Map<String, String> named(String[] args, int from) {
    Map<String, String> o = new HashMap<>();
    for (int i = from; i + 1 < args.length; i += 2) {
      if (!args[i].startsWith("--")) {
        usage("bad option " + args[i]);
      }
      o.put(args[i].substring(2), args[i + 1]);
    }
    return o;
  }

  private static List<String> readAll(String[] args) throws IOException {
    List<String> lines = new ArrayList<>();
    for (int i = 1; i < args.length; i++) {
      lines.addAll(Files.readAllLines(Path.of(args[i]), StandardCharsets.UTF_8));
    }
    return lines;
  }

  private static Map<String, Integer> options(String[] args, int from) {
    Map<String, Integer> o = new HashMap<>();
    o.put("forks", 1);
    o.put("wi", 5);
    o.put("w", 2);
    o.put("i", 10);
    o.put("r", 2);
    o.put("cold-warmup", 3);
    o.put("cold-runs", 20);
    o.put("fresh-forks", 5);
    o.put("bulk-warmup", 3);
    o.put("bulk-runs", 10);
    o.put("bulk-mib", 256);
    o.put("container-warmup", 2);
    o.put("container-runs", 20);
    for (int i = from; i < args.length; i += 2) {
      String k = args[i].startsWith("--") ? args[i].substring(2) : "";
      if (!o.containsKey(k) || i + 1 >= args.length) {
        usage("bad option " + args[i]);
      }
      try {
        o.put(k, Integer.parseInt(args[i + 1]));
      } catch (NumberFormatException e) {
        usage("option " + args[i] + " needs a number, got " + args[i + 1]);
      }
    }
    return o;
  }

  /** Runs one group and returns its figure lines. */
  static List<String> run(String group, Map<String, Integer> o) throws RunnerException {
    ChainedOptionsBuilder b = new OptionsBuilder().shouldFailOnError(true).forks(o.get("forks"));
    List<String> props = new ArrayList<>();
    boolean fresh = false;
    switch (group) {
      case "kv" -> {
        steady(b.include(method(KvGetBenchmark.class, "get")), o);
        props.add(prop(BenchPeers.KV_PLUGIN, BenchPeers.kvPlugin()));
      }
      case "counter", "counter-mux" -> {
        steady(b.include(method(CounterPutBenchmark.class, "put")), o)
            .param("mux", Boolean.toString(group.equals("counter-mux")));
        props.add(prop(BenchPeers.COUNTER_PLUGIN, BenchPeers.counterPlugin()));
      }
      case "coldstart" -> {
        b.include(method(ColdStartBenchmark.class, "startAndFirstCall"))
            .warmupIterations(o.get("cold-warmup"))
            .measurementIterations(o.get("cold-runs"));
        props.add(prop(BenchPeers.KV_PLUGIN, BenchPeers.kvPlugin()));
      }
      case "coldstart-fresh" -> {
        fresh = true;
        b.include(method(ColdStartBenchmark.class, "startAndFirstCall"))
            .forks(o.get("fresh-forks"))
            .warmupIterations(0)
            .measurementIterations(1);
        props.add(prop(BenchPeers.KV_PLUGIN, BenchPeers.kvPlugin()));
      }
      case "yamux" -> {
        b.include(PKG.replace(".", "\\.") + "YamuxBulkBenchmark\\.(upload|download)$")
            .warmupIterations(o.get("bulk-warmup"))
            .measurementIterations(o.get("bulk-runs"))
            .param("sizeMib", Integer.toString(o.get("bulk-mib")));
        props.add(prop(BenchPeers.YAMUX_DRIVER, BenchPeers.yamuxDriver()));
      }
      case "container-runc", "container-runsc", "container-runc-mux", "container-runsc-mux" -> {
        b.include(method(ContainerColdStartBenchmark.class, "startAndFirstCall"))
            .warmupIterations(o.get("container-warmup"))
            .measurementIterations(o.get("container-runs"))
            .param("runtime", group.split("-")[1])
            .param("mux", Boolean.toString(group.endsWith("-mux")));
        props.add("-D" + BenchPeers.CONTAINER_IMAGE + "=" + BenchPeers.containerImage());
      }
      default -> throw new IllegalArgumentException("unknown group " + group);
    }
    // the event loops' spin window, when this JVM was given one (A/B runs of one build)
    String spin = System.getProperty(GrpcTransport.SPIN_MICROS_PROPERTY);
    if (spin != null) {
      props.add("-D" + GrpcTransport.SPIN_MICROS_PROPERTY + "=" + spin);
    }
    b.jvmArgsAppend(props.toArray(String[]::new));
    Collection<RunResult> results =
        new Runner(b.build(), OutputFormatFactory.createFormatInstance(System.err, VerboseMode.NORMAL)).run();
    List<String> lines = new ArrayList<>();
    for (RunResult rr : results) {
      lines.add(figureLine(rr, fresh));
    }
    return lines;
  }

  private static ChainedOptionsBuilder steady(ChainedOptionsBuilder b, Map<String, Integer> o) {
    return b.warmupIterations(o.get("wi"))
        .warmupTime(TimeValue.seconds(o.get("w")))
        .measurementIterations(o.get("i"))
        .measurementTime(TimeValue.seconds(o.get("r")));
  }

  private static String method(Class<?> type, String name) {
    return Pattern.quote(type.getName() + "." + name) + "$";
  }

  private static String prop(String key, Path value) {
    return "-D" + key + "=" + value.toAbsolutePath();
  }

  /** Turns one JMH result into the figure line, named as the Go driver names it. */
  static String figureLine(RunResult rr, boolean fresh) {
    BenchmarkParams p = rr.getParams();
    String bench = p.getBenchmark().substring(PKG.length());
    Result<?> primary = rr.getPrimaryResult();
    Statistics s = primary.getStatistics();
    Map<String, Object> v = new HashMap<>();
    String figure;
    switch (bench) {
      case "KvGetBenchmark.get" -> {
        figure = "kv_get_roundtrip_" + (bool(p, "mtls") ? "mtls" : "plain");
        latency(v, s, primary.getScoreUnit());
        v.put("mtls", bool(p, "mtls"));
      }
      case "CounterPutBenchmark.put" -> {
        figure = "counter_put_brokered_" + (bool(p, "mux") ? "mux" : "nomux") + (bool(p, "mtls") ? "_mtls" : "_plain");
        latency(v, s, primary.getScoreUnit());
        v.put("mtls", bool(p, "mtls"));
        v.put("mux", bool(p, "mux"));
      }
      case "ColdStartBenchmark.startAndFirstCall" -> {
        figure = "plugin_cold_start_" + (fresh ? "fresh_process_" : "") + (bool(p, "mtls") ? "mtls" : "plain");
        perRun(v, s, primary.getScoreUnit());
        v.put("mtls", bool(p, "mtls"));
      }
      case "YamuxBulkBenchmark.upload", "YamuxBulkBenchmark.download" -> {
        figure = "yamux_bulk_" + (bench.endsWith("upload") ? "upload" : "download");
        perRun(v, s, primary.getScoreUnit());
        double mib = Integer.parseInt(p.getParam("sizeMib"));
        v.put("size_mib", mib);
        v.put("mib_per_s", Results.round(mib / (s.getPercentile(50) / 1e3)));
        v.put("mib_per_s_mean", Results.round(mib / (s.getMean() / 1e3)));
      }
      case "ContainerColdStartBenchmark.startAndFirstCall" -> {
        figure = "container_cold_start_" + p.getParam("runtime") + (bool(p, "mux") ? "_mux" : "");
        perRun(v, s, primary.getScoreUnit());
        v.put("runtime", p.getParam("runtime"));
        v.put("mtls", true);
        v.put("mux", bool(p, "mux"));
      }
      default -> throw new IllegalArgumentException("no figure for benchmark " + bench);
    }
    return Results.line(figure, "java", v);
  }

  private static boolean bool(BenchmarkParams p, String name) {
    return Boolean.parseBoolean(p.getParam(name));
  }

  private static void latency(Map<String, Object> v, Statistics s, String unit) {
    requireUnit(unit, "us/op");
    v.put("p50_us", Results.round(s.getPercentile(50)));
    v.put("p99_us", Results.round(s.getPercentile(99)));
    v.put("mean_us", Results.round(s.getMean()));
    v.put("ops_per_s", Results.round(1e6 / s.getMean()));
    v.put("samples", s.getN());
  }

  private static void perRun(Map<String, Object> v, Statistics s, String unit) {
    requireUnit(unit, "ms/op");
    v.put("p50_ms", Results.round(s.getPercentile(50)));
    v.put("mean_ms", Results.round(s.getMean()));
    v.put("min_ms", Results.round(s.getMin()));
    v.put("max_ms", Results.round(s.getMax()));
    v.put("runs", s.getN());
  }

  private static void requireUnit(String unit, String expected) {
    if (!expected.equals(unit)) {
      throw new IllegalStateException("expected a result in " + expected + ", got " + unit);
    }
  }
}
