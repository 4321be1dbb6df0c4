package dev.goplugin4j.examples.plugins;

import static org.assertj.core.api.Assertions.assertThat;

import dev.goplugin4j.testkit.GoPeers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The Java counter plugin in a minimal container image made by the recipe, run by
 * plugincontainer (go-secure-stdlib/plugincontainer v0.4.2, go-plugin v1.6.3) under runc and
 * gVisor's runsc, with and without the multiplexed broker: the plugin calls back the host's
 * Storage through the broker, so ("hello",1), ("hello",2), ("world",2) give 1, 3, 2.
 */
class ContainerIT {
  private Path work;

  @BeforeAll
  static void images() throws Exception {
    ContainerImages.requireEngine();
    String json = ContainerImages.javaImage();
    System.out.println("container image recipe: " + json);
  }

  @BeforeEach
  void workDir() throws Exception {
    work = Examples.tempDir("gp4j-ct");
  }

  @AfterEach
  void cleanUp() {
    ContainerImages.deleteQuietly(work);
  }

  @ParameterizedTest(name = "{0}, multiplexed {1}")
  @CsvSource({"runc, false", "runc, true", "runsc, false", "runsc, true"})
  void plugincontainersHostCountsThroughTheJavaPluginInAContainer(String runtime, boolean mux) throws Exception {
    Path host = ContainerImages.containerHost();
    List<String> got = new ArrayList<>();
    for (String[] step : new String[][] {{"hello", "1"}, {"hello", "2"}, {"world", "2"}}) {
      List<String> cmd = new ArrayList<>(List.of(host.toString(), "-image", ContainerImages.JAVA_IMAGE,
          "-tag", ContainerImages.JAVA_TAG, "-runtime", runtime));
      if (mux) {
        cmd.add("-mux");
      }
      cmd.addAll(List.of("increment", step[0], step[1]));
      Examples.Result r = Examples.run(cmd, Map.of(), work, Examples.COMMAND_TIMEOUT);
      assertThat(r.exit()).as(r.toString()).isZero();
      // the plugin's hclog line reached the Go host's logger at INFO, with its fields
      assertThat(r.stderr()).containsPattern("\\[INFO\\] +containerhost\\." + ContainerImages.JAVA_IMAGE
          + ": incremented:.*key=" + step[0]);
      got.add(r.stdout().strip());
    }
    assertThat(got).containsExactly("Incremented by 1 to 1", "Incremented by 2 to 3", "Incremented by 2 to 2");
    assertThat(Files.readString(work.resolve("storage_hello.txt"))).isEqualTo("{\"Value\":3}");
    assertThat(Files.readString(work.resolve("storage_world.txt"))).isEqualTo("{\"Value\":2}");
    // plugincontainer has the engine remove its containers (asynchronously): none is left
    long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(20);
    String left;
    do {
      left = Examples.run(List.of("docker", "ps", "-aq", "--filter",
          "ancestor=" + ContainerImages.JAVA_IMAGE + ":" + ContainerImages.JAVA_TAG), Map.of(), work,
          Examples.COMMAND_TIMEOUT).stdout().strip();
    } while (!left.isEmpty() && System.nanoTime() < deadline && sleep());
    assertThat(left).as("containers left").isEmpty();
  }

  private static boolean sleep() throws InterruptedException {
    Thread.sleep(200);
    return true;
  }

  @Test
  void theRecipeBuildsAJdk25RuntimeWithoutJmodsWhosePluginCountsUnderGvisorWithCleanStderr()
      throws Exception {
    Optional<Path> jdk25 = ContainerImages.jdk25();
    if (jdk25.isEmpty()) {
      assertThat(GoPeers.inCi()).as("CI provides a JDK 25 under /usr/lib/jvm").isFalse();
      Assumptions.abort("no JDK 25 under /usr/lib/jvm: the recipe's JDK 24+ path is not tested here");
    }
    String tag = "it-jdk25";
    String json = ContainerImages.buildJavaImage(tag, jdk25.get());
    assertThat(ContainerImages.number(json, "java_version")).isEqualTo(25);
    assertThat(ContainerImages.number(json, "cds_archive_bytes")).isPositive();
    Path host = ContainerImages.containerHost();
    Examples.Result r = Examples.run(List.of(host.toString(), "-image", ContainerImages.JAVA_IMAGE,
        "-tag", tag, "-runtime", "runsc", "-mux", "increment", "jdk25", "4"), Map.of(), work,
        Examples.COMMAND_TIMEOUT);
    assertThat(r.exit()).as(r.toString()).isZero();
    assertThat(r.stdout().strip()).isEqualTo("Incremented by 4 to 4");
    // JDK 24+ warns on stderr about native access and sun.misc.Unsafe unless told not to; the
    // Go host would log each such line as the plugin's output
    assertThat(r.stderr()).doesNotContain("WARNING:");
  }

  @Test
  void theImageIsFromScratchWithOnlyTheRuntimeTheLibrariesAndThePlugin() throws Exception {
    String json = ContainerImages.javaImage();
    String image = ContainerImages.JAVA_IMAGE + ":" + ContainerImages.JAVA_TAG;
    // no shell, no package manager: only /opt/java, /app, the C libraries and /tmp
    Examples.Result shell = Examples.run(List.of("docker", "run", "--rm", "--network", "none",
        "--entrypoint", "/bin/sh", image, "-c", "true"), Map.of(), work, Examples.COMMAND_TIMEOUT);
    assertThat(shell.exit()).isNotZero();
    Examples.Result history = Examples.run(List.of("docker", "history", "--no-trunc", "--format",
        "{{.CreatedBy}}", image), Map.of(), work, Examples.COMMAND_TIMEOUT);
    assertThat(history.stdout().lines().filter(l -> !l.isBlank()))
        .noneMatch(l -> l.contains("FROM") && !l.contains("scratch"));
    assertThat(ContainerImages.string(json, "modules").split(","))
        .contains("java.base", "jdk.crypto.ec")
        .doesNotContain("java.desktop", "java.compiler", "jdk.jshell");
    long size = ContainerImages.number(json, "size_bytes");
    assertThat(size).isLessThan(200L * 1024 * 1024);
    assertThat(ContainerImages.number(json, "cds_archive_bytes")).isPositive();
    // run without a host: go-plugin's refusal, exit status 1, from the image's entrypoint
    Examples.Result alone = Examples.run(List.of("docker", "run", "--rm", "--network", "none", image),
        Map.of(), work, Examples.COMMAND_TIMEOUT);
    assertThat(alone.exit()).isEqualTo(1);
    assertThat(alone.stderr()).contains("This binary is a plugin.");
    try (Stream<Path> s = Files.list(work)) {
      assertThat(s.toList()).isEmpty();
    }
  }
}
