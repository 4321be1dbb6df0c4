package dev.goplugin4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.goplugin4j.host.ReattachConfig;
import dev.goplugin4j.testkit.GoPeers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code run} against real Go plugins: go-plugin's KV example, and plugincontainer's counter in a container. */
class RunIT {
  static final String COOKIE = "BASIC_PLUGIN=hello";

  static JsonObject json(CliProcess.Result r) {
    assertThat(r.status()).as(r.toString()).isZero();
    return JsonParser.parseString(r.out()).getAsJsonObject();
  }

  static List<String> services(JsonObject o) {
    List<String> out = new ArrayList<>();
    o.getAsJsonArray("services").forEach(e -> out.add(e.getAsString()));
    return out;
  }

  @Test
  void goKvPluginHandshakesAndShowsItsServicesThroughReflection(@TempDir Path socketParent) {
    Path kv = GoPeers.create().goPluginExample(GoPeers.GO_PLUGIN_LATEST, GoPeers.KV_PLUGIN);
    CliProcess.Result r = CliProcess.run("run", "--json", "--magic-cookie", COOKIE,
        "--socket-dir", socketParent.toString(), kv.toString());
    JsonObject o = json(r);
    assertThat(o.get("protocol_version").getAsInt()).isEqualTo(1);
    assertThat(o.get("network").getAsString()).isEqualTo("unix");
    assertThat(o.get("address").getAsString()).startsWith(socketParent.toString());
    assertThat(o.get("protocol").getAsString()).isEqualTo("grpc");
    assertThat(o.get("auto_mtls").getAsBoolean()).isTrue();
    // asked by default: go-plugin v1.8 answers the seventh field and serves multiplexed
    assertThat(o.get("multiplexed").getAsBoolean()).isTrue();
    assertThat(o.get("multiplex_supported").getAsBoolean()).isTrue();
    assertThat(o.get("health").getAsString()).isEqualTo("SERVING");
    assertThat(o.get("runner_kind").getAsString()).isEqualTo("process");
    assertThat(services(o)).contains("proto.KV", "plugin.GRPCBroker", "plugin.GRPCController",
        "plugin.GRPCStdio", "grpc.health.v1.Health");
    assertThat(r.err()).contains("waiting for its handshake").contains("connected in");
    assertThat(CliProcess.socketDirs(socketParent)).isEmpty();
  }

  @Test
  void multiplexedKvPluginReportsMuxSupport(@TempDir Path socketParent) {
    Path kv = GoPeers.create().goPluginExample(GoPeers.GO_PLUGIN_LATEST, GoPeers.KV_PLUGIN);
    JsonObject o = json(CliProcess.run("run", "--json", "--multiplex", "--magic-cookie", COOKIE,
        "--socket-dir", socketParent.toString(), kv.toString()));
    assertThat(o.get("multiplexed").getAsBoolean()).isTrue();
    assertThat(services(o)).contains("proto.KV");
  }

  @Test
  void aPluginTooOldToAnswerIsStartedAgainWithoutMultiplexingAndReportedAsNotSupportingIt(
      @TempDir Path socketParent) {
    // go-plugin v1.4 predates the multiplexed broker: its handshake has no seventh field
    Path old = GoPeers.create().goPluginExample("v1.4.8", GoPeers.KV_PLUGIN);
    CliProcess.Result r = CliProcess.run("run", "--json", "--magic-cookie", COOKIE,
        "--socket-dir", socketParent.toString(), old.toString());
    JsonObject o = json(r);
    assertThat(o.get("multiplexed").getAsBoolean()).isFalse();
    assertThat(o.get("multiplex_supported").getAsBoolean()).isFalse();
    assertThat(o.get("multiplex").getAsString()).startsWith("no, the plugin does not support it:")
        .contains("no seventh field");
    assertThat(o.get("health").getAsString()).isEqualTo("SERVING");
    assertThat(services(o)).contains("proto.KV");
    assertThat(r.err()).contains("did not accept the multiplexed broker")
        .contains("starting it again without it");
    // it ignores PLUGIN_UNIX_SOCKET_DIR: its socket went in its TMPDIR, which the host points at
    // the plugin's socket directory
    assertThat(o.get("address").getAsString()).matches(socketParent + "/goplugin4j-[0-9]+/plugin[0-9]+");
    // the first start was killed after the refused handshake: even its socket is gone
    assertThat(socketParent.toFile().list()).isEmpty();
  }

  @Test
  void aHandshakeFailureThatIsNotAboutMultiplexingIsReportedOnceWithoutAStartAgain(
      @TempDir Path dir) throws Exception {
    // not a plugin: its first line is no handshake, with or without multiplexing asked for
    Path notAPlugin = dir.resolve("not-a-plugin");
    Files.writeString(notAPlugin, "#!/bin/sh\necho hello from a script\nsleep 30\n");
    assertThat(notAPlugin.toFile().setExecutable(true)).isTrue();
    Path sockets = Files.createDirectory(dir.resolve("sockets"));
    CliProcess.Result r = CliProcess.run("run", "--magic-cookie", COOKIE,
        "--socket-dir", sockets.toString(), notAPlugin.toString());
    assertThat(r.status()).as(r.toString()).isEqualTo(1);
    assertThat(r.err()).contains("unrecognized remote plugin message")
        .doesNotContain("multiplexed broker").doesNotContain("starting it again");
    assertThat(r.err().split("starting " + notAPlugin, -1)).as(r.err()).hasSize(2);
    assertThat(CliProcess.socketDirs(sockets)).isEmpty();
  }

  @Test
  void requiringMultiplexingOfAPluginTooOldForItFailsWithoutAFallback(@TempDir Path socketParent)
      throws Exception {
    Files.createDirectory(socketParent.resolve("tmp"));
    Path old = GoPeers.create().goPluginExample("v1.4.8", GoPeers.KV_PLUGIN);
    // killed after the refused handshake, the old plugin leaves its socket in its TMPDIR
    Path pluginTmp = socketParent.resolve("tmp");
    CliProcess.Result r = CliProcess.run("run", "--multiplex", "--magic-cookie", COOKIE,
        "--socket-dir", socketParent.toString(), "--env", "TMPDIR=" + pluginTmp, old.toString());
    assertThat(r.status()).as(r.toString()).isEqualTo(1);
    assertThat(r.err()).contains("no seventh field").doesNotContain("starting it again");
    assertThat(CliProcess.socketDirs(socketParent)).isEmpty();
  }

  @Test
  void noMultiplexDoesNotAskAndSaysSo() {
    Path kv = GoPeers.create().goPluginExample(GoPeers.GO_PLUGIN_LATEST, GoPeers.KV_PLUGIN);
    CliProcess.Result r = CliProcess.run("run", "--no-multiplex", "--magic-cookie", COOKIE,
        kv.toString());
    assertThat(r.status()).as(r.toString()).isZero();
    assertThat(r.out()).contains("multiplexed:        not asked (--no-multiplex)");
  }

  @Test
  void tableNamesEveryFieldAUserNeeds() {
    Path kv = GoPeers.create().goPluginExample(GoPeers.GO_PLUGIN_LATEST, GoPeers.KV_PLUGIN);
    CliProcess.Result r = CliProcess.run("run", "--magic-cookie", COOKIE, kv.toString());
    assertThat(r.status()).as(r.toString()).isZero();
    assertThat(r.out()).contains("protocol version:   1", "address:            unix ",
        "protocol:           grpc with AutoMTLS", "multiplexed:        yes (yamux broker)",
        "health:             SERVING", "proto.KV");
  }

  @Test
  void wrongMagicCookieFailsWithTheLibrarysMessage() {
    Path kv = GoPeers.create().goPluginExample(GoPeers.GO_PLUGIN_LATEST, GoPeers.KV_PLUGIN);
    CliProcess.Result r = CliProcess.run("run", "--magic-cookie", "BASIC_PLUGIN=wrong",
        "--start-timeout", "20", kv.toString());
    assertThat(r.status()).as(r.toString()).isEqualTo(1);
    assertThat(r.err()).contains("goplugin4j: error:");
  }

  @Test
  void containerizedCounterUnderGvisorShowsItsServicesAndIsRemoved(@TempDir Path socketParent) {
    String id = CliImages.counter();
    String tag = CliProcess.sh("docker", "image", "inspect", "--format",
        "{{index .RepoTags 0}}", id).strip();
    CliProcess.Result r = CliProcess.run("run", "--json", "--magic-cookie", COOKIE,
        "--socket-dir", socketParent.toString(), "--image", CliImages.COUNTER, "--tag",
        CliImages.tagOf(tag), "--sha256", id, "--runtime", "runsc", "--no-network",
        "--memory", "64m", "--cpus", "0.5");
    JsonObject o = json(r);
    assertThat(o.get("runner_kind").getAsString()).isEqualTo("container");
    assertThat(o.get("health").getAsString()).isEqualTo("SERVING");
    assertThat(services(o)).contains("proto.Counter", "plugin.GRPCBroker");
    String container = o.get("runner_id").getAsString();
    assertThat(CliProcess.sh("docker", "ps", "-aq", "--no-trunc", "--filter", "id=" + container))
        .isBlank();
    assertThat(CliProcess.socketDirs(socketParent)).isEmpty();
  }

  @Test
  void keepLeavesTheContainerRunningWithAReattachConfigThatReapThenRemoves(
      @TempDir Path socketParent) {
    String id = CliImages.counter();
    String tag = CliProcess.sh("docker", "image", "inspect", "--format",
        "{{index .RepoTags 0}}", id).strip();
    CliProcess.Result r = CliProcess.run("run", "--keep", "--magic-cookie", COOKIE,
        "--socket-dir", socketParent.toString(), "--image", CliImages.COUNTER, "--tag",
        CliImages.tagOf(tag), "--no-network");
    assertThat(r.status()).as(r.toString()).isZero();
    String json = r.out().lines().filter(l -> l.startsWith("{")).findFirst().orElseThrow();
    ReattachConfig rc = ReattachConfig.fromJson(json);
    try {
      assertThat(rc.runnerKind()).isEqualTo(ReattachConfig.KIND_CONTAINER);
      assertThat(rc.autoMtls()).isTrue();
      assertThat(rc.multiplexed()).as("--keep does not ask for multiplexing").isFalse();
      assertThat(r.out()).contains("multiplexed:        not asked: with --keep");
      assertThat(r.err()).contains("private key").contains("docker rm -f " + rc.runnerId());
      assertThat(CliProcess.sh("docker", "inspect", "--format", "{{.State.Running}}",
          rc.runnerId()).strip()).isEqualTo("true");
      // the CLI that started it has exited: the container is an orphan now
      CliProcess.Result reap = CliProcess.run("reap", "--remove", "--json");
      assertThat(reap.status()).as(reap.toString()).isZero();
      assertThat(reap.out()).contains(rc.runnerId());
      assertThat(CliProcess.sh("docker", "ps", "-aq", "--no-trunc", "--filter",
          "id=" + rc.runnerId())).isBlank();
    } finally {
      CliProcess.sh("sh", "-c", "docker rm -f " + rc.runnerId() + " >/dev/null 2>&1 || true");
      CliProcess.sh("rm", "-rf", rc.runnerAttributes().getOrDefault("socket_dir", "/nonexistent"));
    }
  }
}
