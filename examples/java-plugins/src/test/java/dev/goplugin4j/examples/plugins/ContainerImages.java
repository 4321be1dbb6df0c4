package dev.goplugin4j.examples.plugins;

import static org.assertj.core.api.Assertions.assertThat;

import dev.goplugin4j.testkit.GoPeers;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The container images of the container ITs, built locally (no registry): the Java counter plugin
 * by the recipe under test ({@code container/build-image.sh}), and plugincontainer's Go counter
 * plugin {@code FROM scratch} for comparison. Fixed names, rebuilt once per JVM.
 */
final class ContainerImages {
  static final String JAVA_IMAGE = "goplugin4j-example-java-counter";
  static final String JAVA_TAG = "it";
  static final String GO_IMAGE = "goplugin4j-example-go-counter";
  static final String GO_TAG = "it";

  private static String recipeJson;

  private ContainerImages() {}

  /** Fails (never skips) when Docker or the runsc runtime is missing. */
  static void requireEngine() throws Exception {
    Examples.Result info = Examples.run(List.of("docker", "info", "--format", "{{json .Runtimes}}"),
        Map.of(), Path.of("/"), Duration.ofSeconds(30));
    assertThat(info.exit())
        .as("Docker must be running for the container tests (scripts/setup-engine.sh starts it): " + info)
        .isZero();
    assertThat(info.stdout())
        .as("the runsc runtime must be registered with Docker (scripts/setup-engine.sh does it)")
        .contains("runsc");
  }

  /** Builds the Java image with the recipe; returns the recipe's JSON line. */
  static synchronized String javaImage() throws Exception {
    if (recipeJson == null) {
      recipeJson = buildJavaImage(JAVA_TAG, Path.of(System.getProperty("java.home")));
    }
    return recipeJson;
  }

  /** Runs the recipe with the JDK at {@code javaHome} into {@code JAVA_IMAGE:tag}; its JSON line. */
  static String buildJavaImage(String tag, Path javaHome) throws Exception {
    String recipe = System.getProperty("goplugin4j.examples.containerRecipe", "container");
    Examples.Result r = Examples.run(
        List.of("sh", Path.of(recipe, "build-image.sh").toString(),
            "--dist", Examples.dist().toString(),
            "--main", ContainerCounterPlugin.class.getName(),
            "--image", JAVA_IMAGE + ":" + tag,
            "--java-home", javaHome.toString()),
        Map.of(), Examples.dist(), Duration.ofMinutes(10));
    assertThat(r.exit()).as("build-image.sh: " + r).isZero();
    List<String> lines = r.stdout().lines().filter(l -> l.startsWith("{")).toList();
    assertThat(lines).as(r.toString()).hasSize(1);
    return lines.get(0);
  }

  /**
   * A JDK 25 under {@code /usr/lib/jvm}, if this machine has one (CI does; see the README's test
   * matrix).
   */
  static Optional<Path> jdk25() throws IOException {
    Path jvms = Path.of("/usr/lib/jvm");
    if (!Files.isDirectory(jvms)) {
      return Optional.empty();
    }
    try (var s = Files.list(jvms)) {
      return s.filter(p -> p.getFileName().toString().matches("(temurin-25|.*-25-).*"))
          .filter(p -> Files.isExecutable(p.resolve("bin/jlink")))
          .sorted().findFirst();
    }
  }

  /** Builds plugincontainer's Go counter plugin into a FROM-scratch image. */
  static synchronized void goImage() throws Exception {
    Path binary = Examples.PEERS.pluginContainerCounter();
    Path ctx = Examples.tempDir("gp4j-goimg");
    try {
      Files.copy(binary, ctx.resolve("plugin"));
      Files.writeString(ctx.resolve("Dockerfile"), "FROM scratch\nCOPY plugin /plugin\nENTRYPOINT [\"/plugin\"]\n");
      Examples.Result r = Examples.run(List.of("docker", "build", "-q", "-t", GO_IMAGE + ":" + GO_TAG, "."),
          Map.of(), ctx, Duration.ofMinutes(5));
      assertThat(r.exit()).as("docker build of the Go counter image: " + r).isZero();
    } finally {
      Examples.deleteRecursively(ctx);
    }
  }

  /** A number field of the recipe's JSON line. */
  static long number(String json, String field) {
    Matcher m = Pattern.compile("\"" + field + "\":(\\d+)").matcher(json);
    assertThat(m.find()).as(field + " in " + json).isTrue();
    return Long.parseLong(m.group(1));
  }

  /** A string field of the recipe's JSON line. */
  static String string(String json, String field) {
    Matcher m = Pattern.compile("\"" + field + "\":\"([^\"]*)\"").matcher(json);
    assertThat(m.find()).as(field + " in " + json).isTrue();
    return m.group(1);
  }

  /** Our plugincontainer test host, built with go-plugin v1.6.3 (as plugincontainer pins v1.6). */
  static Path containerHost() {
    return Examples.goTestHost("containerhost", GoPeers.GO_PLUGIN_VERSIONS.get(0));
  }

  static void deleteQuietly(Path dir) {
    try {
      Examples.deleteRecursively(dir);
    } catch (IOException e) {
      // best effort
    }
  }
}
