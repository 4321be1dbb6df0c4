package dev.goplugin4j.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.goplugin4j.container.EngineUnavailableException;
import dev.goplugin4j.container.internal.EngineLocator;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The command line itself: usage errors, help, option parsing, discovery order. */
class CliTest {
  record Result(int status, String out, String err) {}

  static Result cli(Map<String, String> env, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int status = Main.execute(args, new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8), env);
    return new Result(status, out.toString(StandardCharsets.UTF_8),
        err.toString(StandardCharsets.UTF_8));
  }

  @Test
  void noCommandPrintsUsageAndExitsWithTheUsageErrorStatus() {
    Result r = cli(Map.of());
    assertThat(r.status()).isEqualTo(2);
    assertThat(r.err()).contains("doctor").contains("run").contains("reap");
  }

  @Test
  void helpListsEveryRunOptionTheIssueAsksFor() {
    Result r = cli(Map.of(), "run", "--help");
    assertThat(r.status()).isZero();
    assertThat(r.out()).contains("--image", "--tag", "--sha256", "--runtime", "--memory", "--cpus",
        "--no-network", "--multiplex", "--magic-cookie", "--protocol-version", "--keep");
  }

  @Test
  void runWithoutMagicCookieIsAUsageError() {
    Result r = cli(Map.of(), "run", "./plugin");
    assertThat(r.status()).isEqualTo(2);
    assertThat(r.err()).contains("--magic-cookie");
  }

  @Test
  void runWithNeitherExecutableNorImageIsAUsageError() {
    Result r = cli(Map.of(), "run", "--magic-cookie", "A=b");
    assertThat(r.status()).isEqualTo(2);
    assertThat(r.err()).contains("EXECUTABLE or --image");
  }

  @Test
  void runWithAMalformedMagicCookieIsAUsageError() {
    Result r = cli(Map.of(), "run", "--magic-cookie", "nokey", "./plugin");
    assertThat(r.status()).isEqualTo(2);
    assertThat(r.err()).contains("KEY=VALUE");
  }

  @Test
  void runOfAMissingExecutableFailsWithOneLineNotAStackTrace() {
    Result r = cli(Map.of(), "run", "--magic-cookie", "A=b", "/nonexistent/plugin");
    assertThat(r.status()).isEqualTo(1);
    assertThat(r.err()).contains("goplugin4j: error: no plugin executable at /nonexistent/plugin")
        .doesNotContain("\tat ");
  }

  @Test
  void memorySizesTakeBinaryUnitsAndRejectNonsense() {
    assertThat(RunCommand.parseSize("64m")).isEqualTo(64L << 20);
    assertThat(RunCommand.parseSize("1G")).isEqualTo(1L << 30);
    assertThat(RunCommand.parseSize("512kb")).isEqualTo(512L << 10);
    assertThat(RunCommand.parseSize("1000")).isEqualTo(1000);
    assertThatThrownBy(() -> RunCommand.parseSize("lots"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("64m");
  }

  @Test
  void doctorTriesThePlacesInTheContainerRunnersOrder() {
    Map<String, String> env = Map.of("DOCKER_HOST", "unix:///nonexistent/docker-host.sock",
        "XDG_RUNTIME_DIR", "/nonexistent/xdg");
    List<String> ours = Discovery.places(null, env).stream().map(Discovery.Place::source)
        .toList();
    try {
      new EngineLocator(null, env, "/nonexistent/docker.sock", "/nonexistent/podman.sock")
          .connect().close();
      throw new AssertionError("nothing should answer");
    } catch (EngineUnavailableException e) {
      assertThat(e.attempts()).hasSameSizeAs(ours);
      for (int i = 0; i < ours.size(); i++) {
        assertThat(e.attempts().get(i)).startsWith(ours.get(i));
      }
    }
  }

  @Test
  void jsonReportSaysWhetherEveryRequiredCheckPassed() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    Report.json(List.of(Check.ok("a", "fine", "x"), Check.warn("a", "meh", "y", "do z")),
        new PrintStream(out, true, StandardCharsets.UTF_8));
    assertThat(out.toString(StandardCharsets.UTF_8)).contains("\"passed\": true")
        .contains("\"status\": \"WARN\"").contains("\"fix\": \"do z\"");
    assertThat(Report.passed(List.of(Check.fail("a", "b", "c", "d")))).isFalse();
  }

  @Test
  void tableShowsTheFixUnderTheRowAndASummary() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    Report.table(List.of(Check.ok("engine", "fine", "x"),
            Check.fail("runtime", "broken", "y", "do z")),
        new PrintStream(out, true, StandardCharsets.UTF_8));
    assertThat(out.toString(StandardCharsets.UTF_8))
        .contains("ENGINE").contains("  OK    fine")
        .contains("RUNTIME").contains("  FAIL  broken").contains("fix: do z")
        .contains("doctor: 1 check failed, 0 warnings");
  }
}
