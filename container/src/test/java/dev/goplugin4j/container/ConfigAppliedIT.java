package dev.goplugin4j.container;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.goplugin4j.container.internal.ContainerInfo;
import dev.goplugin4j.container.internal.HostId;
import dev.goplugin4j.host.Runner;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Each configuration field observably applied (the engine's inspection of the container) and,
 * where a container can show it, enforced.
 */
@ExtendWith(NoLeftoverContainers.class)
class ConfigAppliedIT {

  @Test
  void everyFieldReachesTheEngine() throws Exception {
    ContainerConfig config = ContainerConfig.builder()
        .image(TestImages.COUNTER).tag("latest")
        .runtime("runc")
        .groupAdd(1500)
        .disableNetwork(true)
        .label("team", "plugins")
        .cgroupParent("/goplugin4j-it")
        .nanoCpus(500_000_000L)
        .memory(64L << 20)
        .capIpcLock(true)
        .env("EXTRA", "1")
        .env("BASIC_PLUGIN", "hello")
        .pidsLimit(100)
        .pluginName("counter")
        .debug(true)
        .build();
    Path dir = ItSupport.newSocketDir();
    Runner runner = config.create(ItSupport.counterCommand(dir), dir);
    try {
      runner.start();
      ItSupport.handshakeAndHealthCheck(runner, ItSupport.drain(runner.stderr()));
      ContainerInfo info = ItSupport.inspect(runner.id()).orElseThrow();
      JsonNode c = info.raw().path("Config");
      JsonNode h = info.raw().path("HostConfig");
      assertThat(c.path("NetworkDisabled").asBoolean()).isTrue();
      assertThat(info.labels()).containsEntry("team", "plugins")
          .containsEntry("dev.goplugin4j.managed", "true")
          .containsEntry("dev.goplugin4j.plugin", "counter")
          .containsEntry("dev.goplugin4j.owner", HostId.current().toString());
      assertThat(h.path("CgroupParent").asText()).isEqualTo("/goplugin4j-it");
      assertThat(h.path("NanoCpus").asLong()).isEqualTo(500_000_000L);
      assertThat(h.path("Memory").asLong()).isEqualTo(64L << 20);
      assertThat(texts(h.path("CapDrop"))).containsExactly("ALL");
      assertThat(texts(h.path("CapAdd"))).containsExactly("IPC_LOCK");
      assertThat(texts(h.path("GroupAdd"))).containsExactly("1500");
      assertThat(h.path("Runtime").asText()).isEqualTo("runc");
      assertThat(h.path("ReadonlyRootfs").asBoolean()).isTrue();
      assertThat(h.path("Tmpfs").path("/tmp").asText()).contains("size=" + (64L << 20));
      assertThat(h.path("PidsLimit").asLong()).isEqualTo(100);
      assertThat(texts(h.path("SecurityOpt"))).containsExactly("no-new-privileges");
      assertThat(h.path("AutoRemove").asBoolean()).as("debug keeps the container").isFalse();
      assertThat(h.path("RestartPolicy").path("Name").asText()).isIn("no", "");
      JsonNode mount = h.path("Mounts").get(0);
      assertThat(mount.path("Source").asText()).isEqualTo(dir.toString());
      assertThat(mount.path("Target").asText()).isEqualTo("/tmp/go-plugin-container");
      assertThat(mount.path("BindOptions").path("Propagation").asText()).isEqualTo("private");
      assertThat(mount.path("BindOptions").path("NonRecursive").asBoolean()).isTrue();
      List<String> env = texts(c.path("Env"));
      assertThat(env).filteredOn(e -> e.startsWith("PLUGIN_UNIX_SOCKET_DIR="))
          .containsExactly("PLUGIN_UNIX_SOCKET_DIR=/tmp/go-plugin-container");
      assertThat(env).contains("EXTRA=1", "BASIC_PLUGIN=hello");
    } finally {
      runner.kill();
      ItSupport.deleteSocketDir(dir);
    }
  }

  @Test
  void defaultsAreHardenedAndAutoRemove() throws Exception {
    ContainerConfig config = ContainerConfig.builder().image(TestImages.HANG).build();
    Path dir = ItSupport.newSocketDir();
    Runner runner = config.create(ItSupport.counterCommand(dir), dir);
    try {
      runner.start();
      JsonNode h = ItSupport.inspect(runner.id()).orElseThrow().raw().path("HostConfig");
      assertThat(h.path("AutoRemove").asBoolean()).isTrue();
      assertThat(h.path("PidsLimit").asLong()).isEqualTo(ContainerConfig.DEFAULT_PIDS_LIMIT);
      assertThat(h.path("ReadonlyRootfs").asBoolean()).isTrue();
      assertThat(texts(h.path("SecurityOpt"))).containsExactly("no-new-privileges");
      assertThat(texts(h.path("CapDrop"))).containsExactly("ALL");
      assertThat(h.path("CapAdd").isNull() || h.path("CapAdd").isEmpty()).isTrue();
    } finally {
      runner.kill();
      ItSupport.deleteSocketDir(dir);
    }
  }

  /** Runs a busybox shell script as the "plugin", returns its stdout and exit status. */
  private static Result sh(ContainerConfig.Builder builder, String script) throws Exception {
    ContainerConfig config = builder.image(TestImages.BUSYBOX)
        .entrypoint("/bin/sh", "-c", script).build();
    Path dir = ItSupport.newSocketDir();
    Runner runner = config.create(ItSupport.counterCommand(dir), dir);
    try {
      runner.start();
      ByteArrayOutputStream err = ItSupport.drain(runner.stderr());
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      runner.stdout().transferTo(out);
      int status = runner.onExit().get(60, TimeUnit.SECONDS);
      Thread.sleep(100);
      return new Result(out.toString(StandardCharsets.UTF_8) + err.toString(StandardCharsets.UTF_8),
          status, config.debug() ? runner.diagnose() : "");
    } finally {
      runner.kill();
      ItSupport.deleteSocketDir(dir);
    }
  }

  private record Result(String output, int status, String diagnosis) {}

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"runc", "runsc"})
  void disabledNetworkLeavesOnlyLoopback(String runtime) throws Exception {
    Result r = sh(ContainerConfig.builder().runtime(runtime).disableNetwork(true),
        "cat /proc/net/dev");
    assertThat(r.status()).isZero();
    assertThat(r.output()).contains("lo:").doesNotContain("eth0");
  }

  @Test
  void enabledNetworkHasAnInterfaceUnderRunc() throws Exception {
    Result r = sh(ContainerConfig.builder().runtime("runc"), "cat /proc/net/dev");
    assertThat(r.output()).contains("eth0");
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"runc", "runsc"})
  void rootFileSystemIsReadOnlyButTmpIsWritable(String runtime) throws Exception {
    Result r = sh(ContainerConfig.builder().runtime(runtime),
        "touch /tmp/ok && echo tmp-writable; touch /root-file 2>&1; echo done");
    assertThat(r.output()).contains("tmp-writable").containsIgnoringCase("read-only file system");
  }

  @Test
  void readOnlyRootFsCanBeSwitchedOff() throws Exception {
    Result r = sh(ContainerConfig.builder().readOnlyRootFs(false),
        "touch /root-file && echo root-writable");
    assertThat(r.output()).contains("root-writable");
  }

  @Test
  void allCapabilitiesAreDroppedAndNoNewPrivilegesIsSet() throws Exception {
    Result r = sh(ContainerConfig.builder(), "grep -E 'CapEff|CapBnd|NoNewPrivs' /proc/self/status");
    assertThat(r.output()).contains("CapEff:\t0000000000000000")
        .contains("CapBnd:\t0000000000000000").contains("NoNewPrivs:\t1");
  }

  @Test
  void capIpcLockAddsOnlyIpcLock() throws Exception {
    Result r = sh(ContainerConfig.builder().capIpcLock(true), "grep CapEff /proc/self/status");
    assertThat(r.output()).contains("CapEff:\t0000000000004000");
  }

  @Test
  void noNewPrivilegesCanBeSwitchedOff() throws Exception {
    Result r = sh(ContainerConfig.builder().noNewPrivileges(false),
        "grep NoNewPrivs /proc/self/status");
    assertThat(r.output()).contains("NoNewPrivs:\t0");
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"runc", "runsc"})
  void groupAddIsAmongTheProcessGroups(String runtime) throws Exception {
    Result r = sh(ContainerConfig.builder().runtime(runtime).groupAdd(1500), "id -G");
    assertThat(r.output().strip().split(" ")).contains("1500");
  }

  @Test
  void memoryLimitKillsAHog() throws Exception {
    Result r = sh(ContainerConfig.builder().runtime("runc").memory(16L << 20).debug(true),
        "tail /dev/zero");
    // 137 within the wait proves the limit was enforced: the hog never stops by itself
    assertThat(r.status()).isEqualTo(137);
    // Docker (cgroup v1) sets State.OOMKilled from an asynchronous event that can lag the exit
    // under load; the hint then falls back to the exit code
    assertThat(r.diagnosis()).containsAnyOf("exceeding its memory limit", "exit code 137");
  }

  @Test
  void pidsLimitStopsAForkBomb() throws Exception {
    Result r = sh(ContainerConfig.builder().runtime("runc").pidsLimit(10),
        "i=0; while [ $i -lt 30 ]; do sleep 5 & i=$((i+1)); done 2>&1; echo spawned");
    assertThat(r.output()).containsIgnoringCase("can't fork");
  }

  private static List<String> texts(JsonNode array) {
    List<String> out = new ArrayList<>();
    array.forEach(n -> out.add(n.asText()));
    return out;
  }

}
