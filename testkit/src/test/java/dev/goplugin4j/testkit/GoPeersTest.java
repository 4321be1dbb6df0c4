package dev.goplugin4j.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GoPeersTest {
  private final GoPeers peers = GoPeers.create();

  @Test
  void builtKvExampleRefusesToRunWithoutTheMagicCookie() throws Exception {
    Path binary = peers.goPluginExample(GoPeers.GO_PLUGIN_LATEST, GoPeers.KV_PLUGIN);

    Result result = run(binary, List.of());

    assertThat(result.exitCode()).isEqualTo(1);
    assertThat(result.output()).contains("This binary is a plugin");
  }

  @Test
  void oldGoPluginVersionBuildsItsOwnBinary() throws Exception {
    Path old = peers.goPluginExample("v1.6.3", GoPeers.KV_PLUGIN);
    Path latest = peers.goPluginExample(GoPeers.GO_PLUGIN_LATEST, GoPeers.KV_PLUGIN);

    assertThat(old).isNotEqualTo(latest);
    assertThat(run(old, List.of()).output()).contains("This binary is a plugin");
  }

  @Test
  void secondRequestReusesTheCachedBinary() {
    Path first = peers.goPluginExample(GoPeers.GO_PLUGIN_LATEST, GoPeers.KV_PLUGIN);
    long start = System.nanoTime();
    Path second = peers.goPluginExample(GoPeers.GO_PLUGIN_LATEST, GoPeers.KV_PLUGIN);

    assertThat(second).isEqualTo(first);
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
  }

  @Test
  void concurrentRequestsForTheSamePeerAllGetOneWorkingBinary(@TempDir Path cache) throws Exception {
    GoPeers isolated = GoPeers.create(cache, "go", GoPeers.DEFAULT_BUILD_TIMEOUT);
    ExecutorService pool = Executors.newFixedThreadPool(3);
    try {
      List<Future<Path>> results = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        results.add(pool.submit(() -> isolated.badPlugin("exit-early")));
      }
      Path expected = results.get(0).get(10, TimeUnit.MINUTES);
      for (Future<Path> f : results) {
        assertThat(f.get(10, TimeUnit.MINUTES)).isEqualTo(expected);
      }
      assertThat(run(expected, List.of()).exitCode()).isEqualTo(3);
      try (var files = Files.list(expected.getParent())) {
        assertThat(files.map(p -> p.getFileName().toString())).noneMatch(n -> n.contains(".tmp-"));
      }
    } finally {
      pool.shutdownNow();
      assertThat(pool.awaitTermination(1, TimeUnit.MINUTES)).isTrue();
    }
  }

  @Test
  void exitEarlyPluginExplainsOnStderrAndExitsWithStatus3() throws Exception {
    Result result = run(peers.badPlugin("exit-early"), List.of());

    assertThat(result.exitCode()).isEqualTo(3);
    assertThat(result.output()).contains("exit-early: cannot start");
  }

  @Test
  void wrongCorePluginPrintsCoreVersion2() throws Exception {
    Process p = new ProcessBuilder(peers.badPlugin("wrong-core").toString()).start();
    try {
      String line = new String(p.getInputStream().readNBytes(27), StandardCharsets.UTF_8);
      assertThat(line).isEqualTo("2|1|unix|/tmp/x.sock|grpc|\n");
    } finally {
      p.destroyForcibly();
      p.waitFor(10, TimeUnit.SECONDS);
      p.getInputStream().close();
      p.getErrorStream().close();
      p.getOutputStream().close();
    }
  }

  @Test
  void everyBadPluginBuilds() {
    for (String name : GoPeers.BAD_PLUGINS) {
      assertThat(peers.badPlugin(name)).isExecutable();
    }
  }

  @Test
  void unknownBadPluginIsRejectedWithTheKnownNames() {
    assertThatThrownBy(() -> peers.badPlugin("no-such-plugin"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("no-such-plugin")
        .hasMessageContaining("junk-stdout");
  }

  @Test
  void missingGoToolchainFailsWithAClearMessage(@TempDir Path cache) {
    GoPeers noGo = GoPeers.create(cache, "/nonexistent/go", Duration.ofMinutes(1));

    assertThatThrownBy(() -> noGo.goPluginExample(GoPeers.GO_PLUGIN_LATEST, GoPeers.KV_PLUGIN))
        .isInstanceOf(GoBuildException.class)
        .hasMessageContaining("/nonexistent/go")
        .hasMessageContaining("Install Go");
  }

  @Test
  void failingBuildReportsTheOutputOfGo(@TempDir Path cache) {
    GoPeers isolated = GoPeers.create(cache, "go", GoPeers.DEFAULT_BUILD_TIMEOUT);

    // streaming exists only from v1.8.0 on
    assertThatThrownBy(() -> isolated.goPluginExample("v1.6.3", GoPeers.STREAMING_PLUGIN))
        .isInstanceOf(GoBuildException.class)
        .hasMessageContaining("exit status")
        .hasMessageContaining("examples/streaming/plugin")
        .hasMessageContaining("go-plugin@v1.6.3");
  }

  @Test
  void repositoryRootIsTheDirectoryHoldingGit(@TempDir Path tmp) throws IOException {
    Path repo = Files.createDirectories(tmp.resolve("repo"));
    Files.createDirectory(repo.resolve(".git"));
    Path module = Files.createDirectories(repo.resolve("a/b"));

    assertThat(GoPeers.repositoryRoot(module)).isEqualTo(repo);
  }

  @Test
  void repositoryRootWithoutGitIsTheTopmostPomDirectory(@TempDir Path tmp) throws IOException {
    Path root = Files.createDirectories(tmp.resolve("root"));
    Files.writeString(root.resolve("pom.xml"), "<project/>");
    Path module = Files.createDirectories(root.resolve("module"));
    Files.writeString(module.resolve("pom.xml"), "<project/>");

    assertThat(GoPeers.repositoryRoot(module)).isEqualTo(root);
  }

  private static Result run(Path binary, List<String> args) throws Exception {
    List<String> command = new ArrayList<>();
    command.add(binary.toString());
    command.addAll(args);
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
    pb.environment().remove("BASIC_PLUGIN");
    Process p = pb.start();
    p.getOutputStream().close();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).as("process exited").isTrue();
    p.getInputStream().close();
    return new Result(p.exitValue(), out);
  }

  private record Result(int exitCode, String output) {}
}
