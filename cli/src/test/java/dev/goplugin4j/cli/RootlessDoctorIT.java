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
    assertThat(row(rows, "engine", "kind").get("detail").getAsString()).startsWith("Docker ");
    // the verdict must match what the engine itself reports, whatever its cgroup driver
    String[] cg = CliProcess.sh("docker", "-H", "unix://" + xdg + "/docker.sock", "info",
        "--format", "{{.CgroupDriver}} {{.CgroupVersion}} {{.MemoryLimit}} {{.CPUCfsQuota}}"
            + " {{.PidsLimit}}").strip().split(" ");
    assertThat(cg).as("docker info of the rootless engine").hasSize(5);
    JsonObject limits = row(rows, "cgroup", "limits");
    String detail = limits.get("detail").getAsString();
    assertThat(detail).as(r.toString()).startsWith("cgroup v" + cg[1] + ", driver " + cg[0] + ":");
    if (cg[0].equals("none")) {
      assertThat(status(limits)).isEqualTo("WARN");
      assertThat(detail).contains("limits accepted but not enforced");
      assertThat(limits.get("fix").getAsString()).contains("cgroup v2 with systemd delegation");
    } else if (cg[2].equals("true") && cg[3].equals("true") && cg[4].equals("true")) {
      assertThat(status(limits)).isEqualTo("OK");
      assertThat(detail).endsWith(": enforced");
    } else {
      assertThat(status(limits)).isEqualTo("WARN");
      assertThat(detail).contains("the engine cannot enforce");
    }
    assertThat(status(row(rows, "sockets", "runc: shared uid"))).as(r.toString()).isEqualTo("OK");
    assertThat(status(row(rows, "sockets", "runc: gid 0"))).as(r.toString()).isEqualTo("OK");
    assertThat(status(row(rows, "sockets", "runc: shared gid"))).isEqualTo("INFO");
    assertThat(status(row(rows, "sockets", "runc: strategy to use"))).isEqualTo("OK");
    assertThat(status(row(rows, "sockets", "runsc: shared uid"))).as(r.toString())
        .isEqualTo("OK");
  }
}
