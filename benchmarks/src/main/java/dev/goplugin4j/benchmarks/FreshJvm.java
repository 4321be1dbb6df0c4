package dev.goplugin4j.benchmarks;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Figure {@code fresh_jvm_first_call_*}: the wall time a user sees from launching {@code java}
 * to the first answered call of a process plugin ({@link FreshFirstCall}: build a client for
 * go-plugin's examples/grpc KV plugin with AutoMTLS, start it, one {@code KV.Get}), JVM start-up
 * and class loading included. Each variant is a JVM and its start-up options (docs/startup.md):
 *
 * <ul>
 *   <li>{@code jdk17}: the JDK that runs this class (17 here), no options — what a user gets;
 *   <li>{@code jdk17_appcds}: the same with an AppCDS archive written by one training run
 *       ({@code -XX:ArchiveClassesAtExit}, then {@code -XX:SharedArchiveFile});
 *   <li>{@code jdk25}, {@code jdk25_aot}: JDK 25, plain and with an AOT cache written by one
 *       training run ({@code -XX:AOTCacheOutput}, then {@code -XX:AOTCache}); only when a JDK 25
 *       is given;
 *   <li>{@code *_c1}: the archived variant plus {@code -XX:TieredStopAtLevel=1} (only the quick
 *       compiler: for short-lived host processes such as CLIs).
 * </ul>
 *
 * <p>The variants run interleaved (one launch of each per round) so machine load hits them alike.
 * The class path must be jars only (an AppCDS archive refuses directories). Not thread-safe; one
 * run per JVM.
 */
final class FreshJvm {
  /** The goal of issue 11: median wall time from launch to the first answer. */
  static final double GOAL_MS = 400;

  private final Path java17;
  private final Path java25;
  private final String classPath;
  private final Path plugin;
  private final Path workdir;

  FreshJvm(Path java17, Path java25, String classPath, Path plugin, Path workdir) {
    this.java17 = java17;
    this.java25 = java25;
    this.classPath = classPath;
    this.plugin = plugin;
    this.workdir = workdir;
  }

  /** Runs {@code runs} rounds and returns one figure line per variant. */
  List<String> run(int runs) throws IOException, InterruptedException {
    Path archives = Files.createDirectories(workdir.resolve("startup-archives"));
    Map<String, List<String>> variants = new LinkedHashMap<>();
    variants.put("jdk17", cmd(java17));
    Path jsa = archives.resolve("app17.jsa");
    Files.deleteIfExists(jsa);
    launch("training (AppCDS, JDK 17)", cmd(java17, "-XX:ArchiveClassesAtExit=" + jsa));
    variants.put("jdk17_appcds", cmd(java17, "-XX:SharedArchiveFile=" + jsa));
    variants.put("jdk17_appcds_c1", cmd(java17, "-XX:SharedArchiveFile=" + jsa, "-XX:TieredStopAtLevel=1"));
    if (java25 != null) {
      variants.put("jdk25", cmd(java25));
      Path aot = archives.resolve("app25.aot");
      Files.deleteIfExists(aot);
      launch("training (AOT cache, JDK 25)", cmd(java25, "-XX:AOTCacheOutput=" + aot));
      variants.put("jdk25_aot", cmd(java25, "-XX:AOTCache=" + aot));
      variants.put("jdk25_aot_c1", cmd(java25, "-XX:AOTCache=" + aot, "-XX:TieredStopAtLevel=1"));
    }
    Map<String, List<Long>> wall = new LinkedHashMap<>();
    Map<String, List<Long>> inJvm = new LinkedHashMap<>();
    for (int i = 0; i < runs; i++) {
      for (Map.Entry<String, List<String>> v : variants.entrySet()) {
        long[] r = launch(v.getKey(), v.getValue());
        wall.computeIfAbsent(v.getKey(), k -> new ArrayList<>()).add(r[0]);
        inJvm.computeIfAbsent(v.getKey(), k -> new ArrayList<>()).add(r[1]);
      }
    }
    List<String> lines = new ArrayList<>();
    for (String name : variants.keySet()) {
      Map<String, Object> m = Results.perRunNanos(wall.get(name));
      m.put("in_jvm_p50_ms", Results.round(Results.median(inJvm.get(name)) / 1e6));
      m.put("jvm", name);
      m.put("mtls", true);
      m.put("options", String.join(" ", variants.get(name).subList(1, variants.get(name).size() - 5)));
      m.put("goal", "p50_ms <= " + (int) GOAL_MS);
      m.put("goal_met", (double) m.get("p50_ms") <= GOAL_MS);
      String figure = "fresh_jvm_first_call_mtls" + (name.equals("jdk17") ? "" : "_" + name);
      lines.add(Results.line(figure, "java", m));
    }
    return lines;
  }

  private List<String> cmd(Path java, String... options) {
    List<String> c = new ArrayList<>();
    c.add(java.toString());
    c.addAll(List.of(options));
    c.addAll(List.of("-cp", classPath, FreshFirstCall.class.getName(), plugin.toString(), "mtls"));
    return c;
  }

  /** One launch: {wall ns to the answer line, in-JVM ns}. */
  private long[] launch(String what, List<String> command) throws IOException, InterruptedException {
    ProcessBuilder pb = new ProcessBuilder(command).directory(workdir.toFile())
        .redirectError(ProcessBuilder.Redirect.DISCARD);
    long t0 = System.nanoTime();
    Process p = pb.start();
    long wall = -1;
    long inJvm = -1;
    try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      for (String line; (line = r.readLine()) != null; ) {
        if (line.startsWith("first_call_ms=") && wall < 0) {
          wall = System.nanoTime() - t0;
          inJvm = (long) (Double.parseDouble(line.split("[= ]")[1]) * 1e6);
        }
      }
    } finally {
      if (!p.waitFor(60, TimeUnit.SECONDS)) {
        p.destroyForcibly();
      }
    }
    if (wall < 0 || p.exitValue() != 0) {
      throw new IllegalStateException(what + ": " + String.join(" ", command) + " exited with "
          + p.exitValue() + " without a first call; run it by hand to see why");
    }
    return new long[] {wall, inJvm};
  }
}
