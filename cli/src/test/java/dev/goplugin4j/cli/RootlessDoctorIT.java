package dev.goplugin4j.cli;

import static dev.goplugin4j.cli.DoctorIT.row;
import static dev.goplugin4j.cli.DoctorIT.rows;
import static dev.goplugin4j.cli.DoctorIT.status;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonObject;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@code doctor --probe} run by the non-root test user against its rootless Docker, as {@code
 * scripts/setup-engine.sh --all} sets them up (a missing user or engine fails, naming that
 * command). Expected verdicts are the measured facts of docs/containers.md: limits not enforced
 * on cgroup v1, root plugin images work, and non-root ones only with gid 0 under runc.
 */
class RootlessDoctorIT {
  static final String USER = System.getenv().getOrDefault("GOPLUGIN4J_TEST_USER",
      "goplugin4j-test");

  @Test
  void rootlessDockerIsRecognisedWithUnenforcedLimitsAndTheStrategiesThatWork() {
    String uid = CliProcess.sh("sh", "-c", "id -u " + USER + " 2>/dev/null || echo missing")
        .strip();
    assertThat(uid).as("test user " + USER + ": run scripts/setup-engine.sh --all as root")
        .isNotEqualTo("missing");
    String xdg = "/run/user/" + uid;
    CliProcess.Result r = CliProcess.runAs(USER, java.util.Map.of("XDG_RUNTIME_DIR", xdg,
        "HOME", CliProcess.sh("sh", "-c", "getent passwd " + USER + " | cut -d: -f6").strip()),
        "doctor", "--json", "--probe", "--engine", "unix://" + xdg + "/docker.sock");
    assertThat(r.status()).as(r.toString()).isZero();
    List<JsonObject> rows = rows(r);
    assertThat(row(rows, "engine", "rootful or rootless").get("detail").getAsString())
        .as(r.toString()).startsWith("rootless");
    assertThat(status(row(rows, "runtime", "--ignore-cgroups"))).isEqualTo("OK");
    JsonObject limits = row(rows, "cgroup", "limits");
    if (row(rows, "engine", "kind").get("detail").getAsString().contains("Docker")
        && limits.get("detail").getAsString().contains("driver none")) {
      assertThat(status(limits)).isEqualTo("WARN");
      assertThat(limits.get("detail").getAsString()).contains("limits accepted but not enforced");
    }
    assertThat(status(row(rows, "sockets", "runc: shared uid"))).as(r.toString()).isEqualTo("OK");
    assertThat(status(row(rows, "sockets", "runc: gid 0"))).as(r.toString()).isEqualTo("OK");
    assertThat(status(row(rows, "sockets", "runc: shared gid"))).isEqualTo("INFO");
    assertThat(status(row(rows, "sockets", "runc: strategy to use"))).isEqualTo("OK");
    assertThat(status(row(rows, "sockets", "runsc: shared uid"))).as(r.toString())
        .isEqualTo("OK");
  }
}
