package dev.goplugin4j.container;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.goplugin4j.host.PluginClient;
import dev.goplugin4j.host.PluginEvent;
import dev.goplugin4j.host.PluginSupervisor;
import dev.goplugin4j.interop.Kv;
import dev.goplugin4j.interop.KvPlugin;
import dev.goplugin4j.testkit.GoPeers;
import dev.goplugin4j.testkit.Leaks;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Events and supervision with a plugin in a container (runc): the started event names the
 * container, a crash gives an unrequested exit with the container's exit code and hint, and the
 * supervisor restarts a crashed container plugin, and one whose health check hangs, in a new
 * container. testkit's flaky-kv plugin,
 * in an image imported locally ({@value #IMAGE}).
 */
class ContainerEventsAndSupervisionIT {
  static final String IMAGE = "goplugin4j-it/flaky-kv";
  private static final String HASH_LABEL = "dev.goplugin4j.test.content";

  @BeforeAll
  static void buildImage() throws Exception {
    Path binary = GoPeers.create().badPlugin("flaky-kv");
    String hash = sha256(Files.readAllBytes(binary));
    Process inspect = new ProcessBuilder("docker", "image", "inspect", "--format",
        "{{index .Config.Labels \"" + HASH_LABEL + "\"}}", IMAGE).redirectErrorStream(true).start();
    String existing = new String(inspect.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (inspect.waitFor() == 0 && existing.strip().equals(hash)) {
      return;
    }
    Path root = Files.createTempDirectory("goplugin4j-image-");
    Path tar = Files.createTempFile("goplugin4j-image-", ".tar");
    try {
      Path bin = Files.createDirectories(root.resolve("bin"));
      Files.copy(binary, bin.resolve("flaky-kv"));
      bin.resolve("flaky-kv").toFile().setExecutable(true, false);
      run("tar", "--numeric-owner", "--owner=0", "--group=0", "-C", root.toString(), "-cf",
          tar.toString(), ".");
      run("docker", "import", "--change", "ENTRYPOINT [\"/bin/flaky-kv\"]", "--change",
          "LABEL " + HASH_LABEL + "=" + hash, tar.toString(), IMAGE);
    } finally {
      run("rm", "-rf", root.toString(), tar.toString());
    }
  }

  private static void run(String... cmd) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(5, TimeUnit.MINUTES) || p.exitValue() != 0) {
      throw new IllegalStateException(String.join(" ", cmd) + " failed: " + out);
    }
  }

  private static String sha256(byte[] bytes) throws NoSuchAlgorithmException {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
  }

  private static Path socketParent() {
    try {
      return Files.createDirectories(ItSupport.SOCKET_DIRS);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static PluginClient.Builder flaky() {
    return PluginClient.builder()
        .handshake(1, "BASIC_PLUGIN", "hello")
        .plugin("kv", new KvPlugin())
        .skipHostEnv(true)
        .unixSocketTempDir(socketParent())
        .startTimeout(Duration.ofSeconds(60))
        .runner(ContainerConfig.builder().image(IMAGE).runtime("runc").build());
  }

  @Test
  void aCrashedContainerPluginGivesExitedUnrequestedWithItsCodeAndTheEnginesHint()
      throws Exception {
    Leaks leaks = Leaks.snapshot("goplugin4j-");
    List<PluginEvent> events = new CopyOnWriteArrayList<>();
    String containerId;
    try (PluginClient client = flaky().listener(events::add).build()) {
      Kv kv = client.dispense("kv", Kv.class);
      PluginEvent.Started started = (PluginEvent.Started) events.stream()
          .filter(e -> e instanceof PluginEvent.Started).findFirst().orElseThrow();
      assertThat(started.source().runnerKind()).isEqualTo("container");
      containerId = started.containerId().orElseThrow();
      assertThat(ItSupport.inspect(containerId)).isPresent();
      assertThatThrownBy(() -> kv.put("crash", "1".getBytes(StandardCharsets.UTF_8)))
          .isInstanceOf(StatusRuntimeException.class);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (events.stream().noneMatch(e -> e instanceof PluginEvent.Exited)) {
        assertThat(System.nanoTime() - deadline).as("Exited within 30 s").isNegative();
        Thread.sleep(20);
      }
    }
    PluginEvent.Exited exited = (PluginEvent.Exited) events.stream()
        .filter(e -> e instanceof PluginEvent.Exited).findFirst().orElseThrow();
    assertThat(exited.requested()).isFalse();
    assertThat(exited.exitCode()).hasValue(1);
    assertThat(exited.hint()).contains("exit code 1").contains("error internal to the plugin");
    List<String> kinds = new ArrayList<>();
    events.stream().filter(e -> !(e instanceof PluginEvent.Stderr))
        .forEach(e -> kinds.add(e.getClass().getSimpleName()));
    assertThat(kinds).containsExactly("Starting", "Started", "Exited", "Closed");
    assertThat(ItSupport.inspect(containerId)).isEmpty();
    leaks.assertNoneWithin(Duration.ofSeconds(10));
  }

  @Test
  void theSupervisorRestartsACrashedContainerPluginInANewContainer() throws Exception {
    Leaks leaks = Leaks.snapshot("goplugin4j-");
    List<String> containers = new CopyOnWriteArrayList<>();
    Supplier<PluginClient.Builder> spec = () -> flaky().listener(e -> {
      if (e instanceof PluginEvent.Started s) {
        containers.add(s.containerId().orElseThrow());
      }
    });
    try (PluginSupervisor supervisor = PluginSupervisor.builder()
        .plugin("kv", spec)
        .restartBackoff(Duration.ofMillis(100), Duration.ofSeconds(1))
        .healthCheckInterval(Duration.ZERO)
        .build()) {
      supervisor.start();
      assertThatThrownBy(() -> supervisor.call("kv", c -> {
        c.dispense("kv", Kv.class).put("crash", "3".getBytes(StandardCharsets.UTF_8));
        return null;
      })).isInstanceOf(StatusRuntimeException.class);
      // until the engine reports the container's exit, the supervisor still lends the dead client
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
      while (supervisor.status("kv").restarts() < 1) {
        assertThat(System.nanoTime() - deadline).as("restarted within 90 s").isNegative();
        Thread.sleep(50);
      }
      String version = supervisor.call("kv", Duration.ofSeconds(90),
          c -> new String(c.dispense("kv", Kv.class).get("version"), StandardCharsets.UTF_8));
      assertThat(version).isEqualTo("1");
      assertThat(supervisor.status("kv").restarts()).isEqualTo(1);
      assertThat(supervisor.status("kv").lastFailure()).contains("status 3");
    }
    assertThat(containers).hasSize(2).doesNotHaveDuplicates();
    for (String id : containers) {
      assertThat(ItSupport.inspect(id)).as("container " + id).isEmpty();
    }
    leaks.assertNoneWithin(Duration.ofSeconds(10));
  }

  @Test
  void theSupervisorsHealthCheckFindsAHangingContainerPluginAndReplacesIt() throws Exception {
    Leaks leaks = Leaks.snapshot("goplugin4j-");
    List<String> containers = new CopyOnWriteArrayList<>();
    Supplier<PluginClient.Builder> spec = () -> flaky().listener(e -> {
      if (e instanceof PluginEvent.Started s) {
        containers.add(s.containerId().orElseThrow());
      }
    });
    try (PluginSupervisor supervisor = PluginSupervisor.builder()
        .plugin("kv", spec)
        .restartBackoff(Duration.ofMillis(100), Duration.ofSeconds(1))
        .healthCheckInterval(Duration.ofMillis(500))
        .build()) {
      supervisor.start();
      supervisor.call("kv", c -> {
        c.dispense("kv", Kv.class).put("hang", new byte[0]);
        return null;
      });
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
      while (supervisor.status("kv").restarts() < 1) {
        assertThat(System.nanoTime() - deadline).as("restarted within 90 s").isNegative();
        Thread.sleep(50);
      }
      String version = supervisor.call("kv", Duration.ofSeconds(90),
          c -> new String(c.dispense("kv", Kv.class).get("version"), StandardCharsets.UTF_8));
      assertThat(version).isEqualTo("1");
      assertThat(supervisor.status("kv").lastFailure()).contains("health check failed");
      assertThat(ItSupport.inspect(containers.get(0))).as("the hung container").isEmpty();
    }
    assertThat(containers).hasSize(2).doesNotHaveDuplicates();
    for (String id : containers) {
      assertThat(ItSupport.inspect(id)).as("container " + id).isEmpty();
    }
    leaks.assertNoneWithin(Duration.ofSeconds(10));
  }
}
