package dev.goplugin4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code doctor} against the machine's real engine: the healthy rootful Docker with runc and
 * runsc, plus the test runtime runsc-nouds (gVisor registered without --host-uds), all set up by
 * scripts/setup-engine.sh; and a dead endpoint. The shared dockerd is never stopped or
 * reconfigured.
 */
class DoctorIT {
  static List<JsonObject> rows(CliProcess.Result r) {
    JsonObject root = JsonParser.parseString(r.out()).getAsJsonObject();
    List<JsonObject> rows = new ArrayList<>();
    for (JsonElement e : root.getAsJsonArray("checks")) {
      rows.add(e.getAsJsonObject());
    }
    return rows;
  }

  static JsonObject row(List<JsonObject> rows, String area, String nameContains) {
    return rows.stream().filter(o -> o.get("area").getAsString().equals(area)
            && o.get("name").getAsString().contains(nameContains)).findFirst()
        .orElseThrow(() -> new AssertionError("no " + area + " row " + nameContains + ": " + rows));
  }

  static String status(JsonObject row) {
    return row.get("status").getAsString();
  }

  /** The test runtime registered without --host-uds: the one row doctor must warn about. */
  static final String NO_UDS = "gVisor runtime \"runsc-nouds\"";

  static boolean aboutNoUds(JsonObject row) {
    return row.get("name").getAsString().startsWith(NO_UDS)
        || row.get("name").getAsString().startsWith("runsc-nouds:");
  }

  @Test
  void healthyRootfulDockerWithRuncAndRunscPassesEveryCheck(@TempDir Path socketParent) {
    CliProcess.Result r = CliProcess.run("doctor", "--json", "--socket-dir",
        socketParent.toString());
    assertThat(r.status()).as(r.toString()).isZero();
    List<JsonObject> rows = rows(r);
    assertThat(rows).as(r.toString()).filteredOn(o -> !aboutNoUds(o))
        .noneMatch(o -> status(o).equals("FAIL") || status(o).equals("WARN"));
    assertThat(row(rows, "discovery", "rootful Docker").get("detail").getAsString())
        .contains("chosen");
    assertThat(row(rows, "engine", "kind").get("detail").getAsString()).startsWith("Docker ");
    assertThat(row(rows, "engine", "rootful or rootless").get("detail").getAsString())
        .startsWith("rootful");
    assertThat(row(rows, "runtime", "registered").get("detail").getAsString())
        .contains("runc").contains("runsc");
    assertThat(status(row(rows, "runtime", "--host-uds"))).isEqualTo("OK");
    assertThat(status(row(rows, "runtime", "--network=none"))).isEqualTo("OK");
    assertThat(status(row(rows, "cgroup", "limits"))).isEqualTo("OK");
    assertThat(status(row(rows, "host", "POSIX default ACLs"))).isEqualTo("OK");
    assertThat(status(row(rows, "host", "path length"))).isEqualTo("OK");
    assertThat(CliProcess.socketDirs(socketParent)).isEmpty();
  }

  @Test
  void gvisorRegisteredWithoutHostUdsIsFlaggedWithTheDaemonJsonFixWhileRunscStillPasses() {
    CliProcess.Result r = CliProcess.run("doctor", "--json");
    List<JsonObject> rows = rows(r);
    assertThat(row(rows, "runtime", "registered").get("detail").getAsString())
        .as("scripts/setup-engine.sh registers the test runtime").contains("runsc-nouds");
    JsonObject noUds = row(rows, "runtime", NO_UDS + ": --host-uds");
    // runsc beside it works: the engine can sandbox plugins, only not with this runtime
    assertThat(status(noUds)).as(r.toString()).isEqualTo("WARN");
    assertThat(noUds.get("detail").getAsString()).startsWith("missing (runtimeArgs [--network=none])")
        .contains("times out waiting for the socket");
    assertThat(noUds.get("fix").getAsString())
        .contains("do not run plugins with ContainerConfig.runtime(\"runsc-nouds\"): use \"runsc\"")
        .contains("/etc/docker/daemon.json")
        .contains("{\"runtimes\":{\"runsc-nouds\":{\"path\":\"/usr/bin/runsc\","
            + "\"runtimeArgs\":[\"--network=none\",\"--host-uds=all\"]}}}")
        .contains("kill -HUP $(pidof dockerd)");
    assertThat(status(row(rows, "runtime", "gVisor runtime \"runsc\": --host-uds"))).isEqualTo("OK");
    assertThat(status(row(rows, "runtime", NO_UDS + ": --network=none"))).isEqualTo("OK");
    // a warning: the exit status still says the machine can run plugins
    assertThat(r.status()).as(r.toString()).isZero();
  }

  @Test
  void tableIsTheDefaultAndProgressGoesToStderr() {
    CliProcess.Result r = CliProcess.run("doctor");
    assertThat(r.status()).as(r.toString()).isZero();
    assertThat(r.out()).contains("DISCOVERY", "ENGINE", "RUNTIME", "CGROUP", "HOST", "SOCKETS")
        .contains("doctor: all required checks pass");
    assertThat(r.err()).contains("goplugin4j: looking for a container engine");
  }

  @Test
  void probeFindsWorkingSocketStrategiesUnderRuncAndRunscAndLeavesNothingBehind(
      @TempDir Path socketParent) {
    CliProcess.Result r = CliProcess.run("doctor", "--json", "--probe", "--socket-dir",
        socketParent.toString());
    assertThat(r.status()).as(r.toString()).isZero();
    List<JsonObject> rows = rows(r);
    for (String rt : List.of("runc", "runsc")) {
      JsonObject verdict = row(rows, "sockets", rt + ": strategy to use");
      assertThat(status(verdict)).as(r.toString()).isEqualTo("OK");
      // as root on rootful Docker every strategy works (docs/containers.md's table)
      for (String s : List.of("shared uid", "shared gid", "ACL + capability", "gid 0")) {
        assertThat(status(row(rows, "sockets", rt + ": " + s))).as(rt + " " + s + "\n" + r)
            .isEqualTo("OK");
      }
    }
    JsonObject notProbed = row(rows, "sockets", "runsc-nouds: socket permission strategies");
    assertThat(status(notProbed)).isEqualTo("SKIP");
    assertThat(notProbed.get("detail").getAsString()).contains("without --host-uds");
    assertThat(CliProcess.sh("docker", "ps", "-aq", "--filter",
        "label=dev.goplugin4j.plugin=goplugin4j-doctor-probe")).isBlank();
    assertThat(CliProcess.socketDirs(socketParent)).isEmpty();
  }

  @Test
  void deadExplicitEngineFailsWithEveryAttemptAndTheFix() {
    CliProcess.Result r = CliProcess.run("doctor", "--json", "--engine",
        "unix:///nonexistent.sock");
    assertThat(r.status()).as(r.toString()).isEqualTo(1);
    List<JsonObject> rows = rows(r);
    JsonObject engine = row(rows, "discovery", "container engine");
    assertThat(status(engine)).isEqualTo("FAIL");
    assertThat(engine.get("fix").getAsString()).contains("scripts/setup-engine.sh")
        .contains("no such socket");
    assertThat(status(row(rows, "discovery", "--engine unix:///nonexistent.sock")))
        .isEqualTo("WARN");
    assertThat(status(row(rows, "engine", "engine, runtimes"))).isEqualTo("SKIP");
  }

  @Test
  void deadDockerHostIsAWarningAndTheRunnerFallsBackToTheRootfulSocket() {
    Map<String, String> env = new HashMap<>();
    env.put("DOCKER_HOST", "unix:///nonexistent.sock");
    CliProcess.Result r = CliProcess.run(env, "doctor", "--json");
    assertThat(r.status()).as(r.toString()).isZero();
    List<JsonObject> rows = rows(r);
    JsonObject dh = row(rows, "discovery", "DOCKER_HOST");
    assertThat(status(dh)).isEqualTo("WARN");
    assertThat(dh.get("detail").getAsString()).isEqualTo("no such socket");
    assertThat(row(rows, "discovery", "rootful Docker").get("detail").getAsString())
        .contains("chosen");
  }
}
