package dev.goplugin4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/** The doctor's engine verdicts, on {@code docker info}/{@code docker version} answers captured from Docker 20.10. */
class EngineChecksTest {
  private static final String ENDPOINT = "unix:///var/run/docker.sock";

  static String resource(String name) {
    try (InputStream in = EngineChecksTest.class.getResourceAsStream("/engines/" + name)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The captured rootful answer, edited. */
  static EngineFacts facts(String endpoint, Consumer<JsonObject> editInfo,
      Consumer<JsonObject> editVersion) {
    JsonObject info = JsonParser.parseString(resource("docker-20.10-rootful-info.json"))
        .getAsJsonObject();
    JsonObject version = JsonParser.parseString(resource("docker-20.10-rootful-version.json"))
        .getAsJsonObject();
    editInfo.accept(info);
    editVersion.accept(version);
    return EngineFacts.parse(endpoint, version.toString(), info.toString());
  }

  static EngineFacts facts(Consumer<JsonObject> editInfo) {
    return facts(ENDPOINT, editInfo, v -> {});
  }

  static List<Check> checks(EngineFacts f) {
    return new EngineChecks(f, Map.of("PATH", "/usr/bin"), p -> true).checks();
  }

  static Check row(List<Check> checks, String nameContains) {
    return checks.stream().filter(c -> c.name().contains(nameContains)).findFirst()
        .orElseThrow(() -> new AssertionError("no row " + nameContains + " in " + checks));
  }

  static void runscArgs(JsonObject info, String... args) {
    JsonArray a = new JsonArray();
    for (String s : args) {
      a.add(s);
    }
    info.getAsJsonObject("Runtimes").getAsJsonObject("runsc").add("runtimeArgs", a);
  }

  @Test
  void capturedRootfulDockerWithRuncAndRunscIsReadAsIs() {
    EngineFacts f = facts(i -> {});
    assertThat(f.kind()).isEqualTo("Docker");
    assertThat(f.version()).isEqualTo("20.10.24+dfsg1");
    assertThat(f.rootless()).isFalse();
    assertThat(f.runtimes()).containsOnlyKeys("runc", "runsc");
    assertThat(f.runtimes().get("runsc").args()).containsExactly("--network=none", "--host-uds=all");
    assertThat(f.cgroupDriver()).isEqualTo("cgroupfs");
    assertThat(f.memoryLimit()).isTrue();
  }

  @Test
  void healthyRootfulDockerWithRunscRegisteredProperlyHasNoWarningOrFailure() {
    List<Check> checks = checks(facts(i -> {}));
    assertThat(checks).allSatisfy(c -> assertThat(c.status()).isEqualTo(Check.Status.OK));
    assertThat(row(checks, "--host-uds").detail()).isEqualTo("all");
    assertThat(row(checks, "limits").detail()).contains("enforced");
  }

  @Test
  void runscWithoutHostUdsFailsAndTheFixIsTheDaemonJsonSnippetAndAHup() {
    Check c = row(checks(facts(i -> runscArgs(i, "--network=none"))), "--host-uds");
    assertThat(c.status()).isEqualTo(Check.Status.FAIL);
    assertThat(c.detail()).contains("missing");
    assertThat(c.fix())
        .contains("/etc/docker/daemon.json")
        .contains("{\"runtimes\":{\"runsc\":{\"path\":\"/usr/bin/runsc\","
            + "\"runtimeArgs\":[\"--network=none\",\"--host-uds=all\"]}}}")
        .contains("kill -HUP $(pidof dockerd)");
  }

  @Test
  void aSecondGvisorRuntimeWithoutHostUdsBesideAWorkingOneIsAWarningNamingTheWorkingOne() {
    List<Check> checks = checks(facts(i -> {
      JsonObject r = new JsonObject();
      r.addProperty("path", "/usr/bin/runsc");
      i.getAsJsonObject("Runtimes").add("runsc-nouds", r);
    }));
    Check c = row(checks, "\"runsc-nouds\": --host-uds");
    assertThat(c.status()).isEqualTo(Check.Status.WARN);
    assertThat(c.detail()).startsWith("missing").contains("times out waiting for the socket");
    assertThat(c.fix()).contains("ContainerConfig.runtime(\"runsc-nouds\")").contains("use \"runsc\"")
        .contains("\"runsc-nouds\":{\"path\":\"/usr/bin/runsc\",\"runtimeArgs\":[\"--host-uds=all\"]}");
    assertThat(row(checks, "\"runsc\": --host-uds").status()).isEqualTo(Check.Status.OK);
    assertThat(Report.passed(checks)).isTrue();
  }

  @Test
  void aDefaultRuntimeWithoutHostUdsFailsEvenBesideAWorkingOne() {
    List<Check> checks = checks(facts(i -> {
      JsonObject r = new JsonObject();
      r.addProperty("path", "/usr/bin/runsc");
      i.getAsJsonObject("Runtimes").add("runsc-nouds", r);
      i.addProperty("DefaultRuntime", "runsc-nouds");
    }));
    assertThat(row(checks, "\"runsc-nouds\": --host-uds").status()).isEqualTo(Check.Status.FAIL);
    assertThat(Report.passed(checks)).isFalse();
  }

  @Test
  void hostUdsCreateIsAWarningThatPointsToTheMultiplexedBroker() {
    Check c = row(checks(facts(i -> runscArgs(i, "--network=none", "--host-uds=create"))),
        "--host-uds");
    assertThat(c.status()).isEqualTo(Check.Status.WARN);
    assertThat(c.fix()).contains("multiplexBroker(true)").contains("--host-uds=all");
  }

  @Test
  void hostUdsOpenCannotCreateSocketsAndFails() {
    Check c = row(checks(facts(i -> runscArgs(i, "--network=none", "--host-uds", "open"))),
        "--host-uds");
    assertThat(c.status()).isEqualTo(Check.Status.FAIL);
    assertThat(c.detail()).contains("\"open\"");
  }

  @Test
  void missingNetworkNoneIsAWarningNamingOldGvisorsError() {
    Check c = row(checks(facts(i -> runscArgs(i, "--host-uds=all"))), "--network=none");
    assertThat(c.status()).isEqualTo(Check.Status.WARN);
    assertThat(c.fix()).contains("cannot run with network enabled in root network namespace")
        .contains("\"runtimeArgs\":[\"--network=none\",\"--host-uds=all\"]");
  }

  @Test
  void runscNotRegisteredIsAWarningWithTheInstallAndRegisterSteps() {
    Check c = row(checks(facts(i -> i.getAsJsonObject("Runtimes").remove("runsc"))), "gVisor");
    assertThat(c.status()).isEqualTo(Check.Status.WARN);
    assertThat(c.fix()).contains("apt-get install runsc").contains("kill -HUP");
  }

  @Test
  void missingRunscExecutableFails() {
    List<Check> checks = new EngineChecks(facts(i -> {}), Map.of(), p -> false).checks();
    assertThat(row(checks, "executable").status()).isEqualTo(Check.Status.FAIL);
  }

  @Test
  void rootlessEngineOnCgroupV1WarnsThatLimitsAreNotEnforcedAndRequiresIgnoreCgroups() {
    List<Check> checks = checks(facts("unix:///run/user/1001/docker.sock", i -> {
      JsonArray sec = new JsonArray();
      sec.add("name=seccomp,profile=default");
      sec.add("name=rootless");
      i.add("SecurityOptions", sec);
      i.addProperty("CgroupDriver", "none");
      i.addProperty("MemoryLimit", false);
      i.addProperty("CpuCfsQuota", false);
    }, v -> {}));
    assertThat(row(checks, "rootful or rootless").detail()).startsWith("rootless");
    Check limits = row(checks, "limits");
    assertThat(limits.status()).isEqualTo(Check.Status.WARN);
    assertThat(limits.detail()).contains("limits accepted but not enforced");
    Check ignore = row(checks, "--ignore-cgroups");
    assertThat(ignore.status()).isEqualTo(Check.Status.FAIL);
    assertThat(ignore.fix()).contains("~/.config/docker/daemon.json")
        .contains("\"--network=none\",\"--host-uds=all\",\"--ignore-cgroups\"");
  }

  @Test
  void rootlessEngineWithIgnoreCgroupsPasses() {
    List<Check> checks = checks(facts(i -> {
      JsonArray sec = new JsonArray();
      sec.add("name=rootless");
      i.add("SecurityOptions", sec);
      runscArgs(i, "--network=none", "--host-uds=all", "--ignore-cgroups");
    }));
    assertThat(row(checks, "--ignore-cgroups").status()).isEqualTo(Check.Status.OK);
  }

  @Test
  void podmanIsRecognisedAndItsMissingRuntimeListPointsToContainersConf() {
    EngineFacts f = facts("unix:///run/podman/podman.sock", i -> i.add("Runtimes",
        new JsonObject()), v -> {
          JsonObject c = new JsonObject();
          c.addProperty("Name", "Podman Engine");
          v.getAsJsonArray("Components").add(c);
        });
    assertThat(f.kind()).isEqualTo("Podman");
    Check c = row(checks(f), "registered OCI runtimes");
    assertThat(c.status()).isEqualTo(Check.Status.WARN);
    assertThat(c.fix()).contains("containers.conf").contains("--host-uds=all");
  }

  @Test
  void withFlagReplacesOldValuesAndKeepsOtherArguments() {
    assertThat(EngineChecks.withFlag(List.of("--debug", "--host-uds", "open"), "--host-uds=all"))
        .containsExactly("--host-uds=all", "--debug");
    assertThat(EngineChecks.withFlag(List.of("--host-uds=all"), "--network=none"))
        .containsExactly("--network=none", "--host-uds=all");
    assertThat(EngineChecks.withFlag(List.of("--ignore-cgroups"), "--ignore-cgroups"))
        .containsExactly("--ignore-cgroups");
  }

  @Test
  void runtimeFlagParsingAcceptsBothSpellings() {
    EngineFacts.Runtime r = new EngineFacts.Runtime("runsc", "/usr/bin/runsc",
        List.of("-host-uds", "all", "--network=none"));
    assertThat(r.flag("--host-uds")).isEqualTo("all");
    assertThat(r.flag("--network")).isEqualTo("none");
    assertThat(r.flag("--ignore-cgroups")).isNull();
  }

  @Test
  void flagsOfAPodmanRuntimeWrapperScriptCountAndCommentsDoNot() {
    String script = "#!/bin/sh\n# --host-uds=none would be wrong\nextra=\n"
        + "if true; then extra=--ignore-cgroups; fi\n"
        + "exec /usr/bin/runsc --network=none --host-uds=all $extra \"$@\"\n";
    assertThat(EngineChecks.scriptFlags(script))
        .containsExactly("--ignore-cgroups", "--network=none", "--host-uds=all");
    EngineFacts f = facts(i -> runscArgs(i));
    List<Check> checks = new EngineChecks(f, Map.of(), p -> true, p -> script).checks();
    assertThat(row(checks, "--host-uds").status()).isEqualTo(Check.Status.OK);
    assertThat(row(checks, "executable").detail()).contains("wrapper script");
  }
}
