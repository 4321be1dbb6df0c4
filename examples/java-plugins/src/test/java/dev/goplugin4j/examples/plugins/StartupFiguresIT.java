package dev.goplugin4j.examples.plugins;

import static org.assertj.core.api.Assertions.assertThat;

import dev.goplugin4j.protocol.AutoMtlsCertificate;
import dev.goplugin4j.protocol.Handshake;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Measures start → handshake line (the time a go-plugin host waits before it can dial) of the
 * Java counter plugin and of plugincontainer's Go counter plugin, as processes and in containers
 * (runc, runsc), with and without the AppCDS archive. Prints one JSON line and writes it to
 * {@code target/startup-figures.json}. Figures, not assertions: timings on a shared 2-core
 * machine are noisy; only that every variant handshakes is checked.
 *
 * <p>Method, the same for every variant: spawn ({@code docker run} for containers, the plugin
 * itself for processes) with go-plugin's environment (magic cookie, {@code
 * PLUGIN_PROTOCOL_VERSIONS}, AutoMTLS {@code PLUGIN_CLIENT_CERT}, socket directory, for
 * containers bind-mounted at {@code /tmp/go-plugin-container} as plugincontainer does, network
 * off), time until the first stdout line, then stop it. Variants run round-robin, {@value #RUNS}
 * rounds, median reported.
 */
class StartupFiguresIT {
  private static final int RUNS = 7;

  private static String hostPem;

  @BeforeAll
  static void prepare() throws Exception {
    ContainerImages.requireEngine();
    ContainerImages.javaImage();
    ContainerImages.goImage();
    hostPem = AutoMtlsCertificate.generate().pem();
  }

  private static Map<String, String> pluginEnv(String socketDir) {
    Map<String, String> env = new HashMap<>();
    env.put(ExampleHandshake.MAGIC_COOKIE_KEY, ExampleHandshake.MAGIC_COOKIE_VALUE);
    env.put("PLUGIN_PROTOCOL_VERSIONS", "1");
    env.put("PLUGIN_UNIX_SOCKET_DIR", socketDir);
    env.put("PLUGIN_CLIENT_CERT", hostPem);
    return env;
  }

  /** One way to start a plugin: a command and how to stop what it started. */
  private record Variant(String name, Supplier<List<String>> command, boolean container) {}

  private static double once(Variant v) throws Exception {
    Path dir = Examples.tempDir("gp4j-sf");
    String container = "gp4j-sf-" + UUID.randomUUID().toString().substring(0, 8);
    List<String> cmd = new ArrayList<>();
    Map<String, String> env = new HashMap<>(Examples.javaEnv());
    if (v.container()) {
      // the Java plugin's image runs as 65532:0 (goplugin4j image): a test dir it may write in
      java.nio.file.Files.setPosixFilePermissions(dir,
          java.nio.file.attribute.PosixFilePermissions.fromString("rwxrwxrwx"));
      cmd.addAll(List.of("docker", "run", "--rm", "-i", "--name", container, "--network", "none",
          "-v", dir + ":/tmp/go-plugin-container"));
      pluginEnv("/tmp/go-plugin-container").forEach((k, val) -> cmd.addAll(List.of("-e", k + "=" + val)));
    } else {
      env.putAll(pluginEnv(dir.toString()));
    }
    cmd.addAll(v.command().get());
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile());
    pb.environment().putAll(env);
    long t0 = System.nanoTime();
    Process p = pb.start();
    try {
      BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
      CompletableFuture<String> err = Examples.drain(p.getErrorStream());
      String line = CompletableFuture.supplyAsync(() -> {
        try {
          return r.readLine();
        } catch (IOException e) {
          return null;
        }
      }).get(2, TimeUnit.MINUTES);
      long t1 = System.nanoTime();
      assertThat(line).as(v.name() + " handshake; stderr: " + err.getNow("")).isNotNull();
      Handshake.parse(line).checkCoreVersion();
      return (t1 - t0) / 1e6;
    } finally {
      if (v.container()) {
        new ProcessBuilder("docker", "kill", container).redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor(30, TimeUnit.SECONDS);
      }
      p.destroy();
      if (!p.waitFor(10, TimeUnit.SECONDS)) {
        p.destroyForcibly().waitFor();
      }
      Examples.deleteRecursively(dir);
    }
  }

  @Test
  void printsStartToHandshakeFiguresOfJavaAndGoPluginsAsProcessesAndInContainers() throws Exception {
    Path lib = Examples.dist().resolve("lib");
    String cp;
    try (var s = Files.list(lib)) {
      cp = String.join(":", s.map(Path::toString).sorted().toList());
    }
    String main = ContainerCounterPlugin.class.getName();
    List<String> jvm = List.of("-Xlog:disable", "-Xlog:all=warning:stderr", "-XX:+UseSerialGC",
        "-XX:TieredStopAtLevel=1", "-XX:-UsePerfData");
    // an AppCDS archive for the process variant, trained the way the image recipe does it
    Path jsa = Examples.dist().resolve("counter-plugin.jsa");
    Files.deleteIfExists(jsa);
    List<String> train = new ArrayList<>(List.of(Examples.java(), "-XX:ArchiveClassesAtExit=" + jsa));
    train.addAll(jvm);
    train.addAll(List.of("-cp", cp, main));
    Map<String, String> trainEnv = new HashMap<>(Map.of("GOPLUGIN4J_CDS_TRAINING", "1"));
    Examples.Result trained = Examples.run(train, trainEnv, Examples.dist(), Duration.ofMinutes(2));
    assertThat(trained.exit()).as(trained.toString()).isZero();
    assertThat(jsa).exists();

    String javaImage = ContainerImages.JAVA_IMAGE + ":" + ContainerImages.JAVA_TAG;
    String goImage = ContainerImages.GO_IMAGE + ":" + ContainerImages.GO_TAG;
    Path goBinary = Examples.PEERS.pluginContainerCounter();
    List<Variant> variants = new ArrayList<>();
    variants.add(new Variant("process/java", () -> concat(List.of(Examples.java()), jvm, List.of("-cp", cp, main)), false));
    variants.add(new Variant("process/java_appcds",
        () -> concat(List.of(Examples.java(), "-XX:SharedArchiveFile=" + jsa), jvm, List.of("-cp", cp, main)), false));
    variants.add(new Variant("process/go", () -> List.of(goBinary.toString()), false));
    for (String runtime : List.of("runc", "runsc")) {
      variants.add(new Variant("container_" + runtime + "/java_appcds",
          () -> List.of("--runtime", runtime, javaImage), true));
      variants.add(new Variant("container_" + runtime + "/java_no_appcds",
          () -> List.of("--runtime", runtime, javaImage + "-nocds"), true));
      variants.add(new Variant("container_" + runtime + "/go",
          () -> List.of("--runtime", runtime, goImage), true));
    }
    Map<String, List<Double>> times = new LinkedHashMap<>();
    variants.forEach(v -> times.put(v.name(), new ArrayList<>()));
    once(variants.get(0)); // warm the page cache; not counted
    for (int round = 0; round < RUNS; round++) {
      for (Variant v : variants) {
        times.get(v.name()).add(once(v));
      }
    }

    Map<String, Map<String, Double>> groups = new LinkedHashMap<>();
    times.forEach((name, list) -> {
      String[] parts = name.split("/");
      groups.computeIfAbsent(parts[0], k -> new LinkedHashMap<>()).put(parts[1], median(list));
    });
    StringBuilder json = new StringBuilder("{\"metric\":\"start_to_handshake_ms_median\",\"runs\":")
        .append(RUNS);
    groups.forEach((group, values) -> {
      json.append(",\"").append(group).append("\":{");
      List<String> fields = new ArrayList<>();
      values.forEach((k, val) -> fields.add("\"" + k + "\":" + fmt(val)));
      if (values.containsKey("go") && values.containsKey("java_appcds")) {
        fields.add("\"ratio_java_appcds_to_go\":" + fmt(values.get("java_appcds") / values.get("go")));
      }
      if (values.containsKey("java_no_appcds") && values.containsKey("java_appcds")) {
        fields.add("\"appcds_gain_ms\":" + fmt(values.get("java_no_appcds") - values.get("java_appcds")));
      }
      json.append(String.join(",", fields)).append('}');
    });
    String recipe = ContainerImages.javaImage();
    json.append(",\"java_image_bytes\":").append(ContainerImages.number(recipe, "size_bytes"))
        .append(",\"java_image_no_appcds_bytes\":").append(ContainerImages.number(recipe, "size_nocds_bytes"))
        .append(",\"load_average\":\"").append(Files.readString(Path.of("/proc/loadavg")).strip()).append("\"")
        .append(",\"all_ms\":{");
    List<String> all = new ArrayList<>();
    times.forEach((k, list) -> all.add("\"" + k + "\":" + list.stream().map(StartupFiguresIT::fmt).toList()));
    json.append(String.join(",", all)).append("}}");
    System.out.println("STARTUP FIGURES " + json);
    Files.writeString(Examples.dist().resolveSibling("startup-figures.json"), json + "\n");
  }

  private static List<String> concat(List<String> a, List<String> b, List<String> c) {
    List<String> out = new ArrayList<>(a);
    out.addAll(b);
    out.addAll(c);
    return out;
  }

  private static double median(List<Double> xs) {
    List<Double> s = xs.stream().sorted().toList();
    int n = s.size();
    return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
  }

  private static String fmt(double d) {
    return String.format(Locale.ROOT, "%.1f", d);
  }
}
