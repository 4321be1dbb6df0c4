package dev.goplugin4j.container.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.goplugin4j.container.ContainerConfig;
import dev.goplugin4j.host.PluginCommand;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * How the runner tells engines apart and picks the strategy that works on each: Podman's fixed
 * runtime per service, and {@code --group-add 0} instead of {@code CAP_DAC_OVERRIDE} on rootless
 * Docker. The JSON samples are trimmed answers of Docker 20.10 and Podman 4.3.1 on this machine.
 */
class EngineStrategyTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HostId OWNER = new HostId("box", 42, "t1000");

  private static JsonNode json(String s) {
    try {
      return JSON.readTree(s);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static ContainerSpec spec(ContainerConfig c, Map<String, String> hostEnv) {
    return ContainerSpecs.of(c, new PluginCommand(List.of(), hostEnv), Path.of("/tmp/d"),
        OWNER);
  }

  @Test
  void dockerVersionIsNotPodmanAndHasNoFixedRuntime() {
    EngineFacts f = ApiNegotiation.facts(json("{\"Version\":\"20.10.24+dfsg1\",\"ApiVersion\":"
        + "\"1.41\",\"Components\":[{\"Name\":\"Engine\"},{\"Name\":\"containerd\"},"
        + "{\"Name\":\"runc\"},{\"Name\":\"docker-init\"}]}"));
    assertThat(f).isEqualTo(new EngineFacts(false, ""));
  }

  @Test
  void dockerPingAloneSettlesTheApiVersionButPodmanOrAVersionlessPingAsksVersion() {
    // header names as this machine's Docker 20.10 and Podman 4.3.1 send them, lower-cased
    assertThat(ApiNegotiation.pingNeedsVersion(Map.of("api-version", "1.41",
        "server", "Docker/20.10.24+dfsg1 (linux)", "ostype", "linux"))).isFalse();
    assertThat(ApiNegotiation.pingNeedsVersion(Map.of("api-version", "1.41",
        "libpod-api-version", "4.3.1", "server", "Libpod/4.3.1 (linux)"))).isTrue();
    assertThat(ApiNegotiation.pingNeedsVersion(Map.of("server", "Docker/18.09"))).isTrue();
    assertThat(ApiNegotiation.pingNeedsVersion(Map.of("api-version", ""))).isTrue();
  }

  @Test
  void negotiationSpeaksTheLowerVersionAndRefusesEnginesOlderThanTheMinimum() {
    assertThat(ApiNegotiation.negotiate("1.41", "unix:///e.sock")).isEqualTo("1.41");
    assertThat(ApiNegotiation.negotiate("1.47", "unix:///e.sock"))
        .isEqualTo(ApiNegotiation.MAX_API_VERSION);
    assertThat(ApiNegotiation.negotiate(ApiNegotiation.MIN_API_VERSION, "unix:///e.sock"))
        .isEqualTo(ApiNegotiation.MIN_API_VERSION);
    assertThatThrownBy(
            () -> ApiNegotiation.negotiate("1.39", "unix:///e.sock"))
        .isInstanceOf(EngineException.class)
        .hasMessageContaining("speaks API 1.39")
        .hasMessageContaining("Docker 19.03+");
    assertThatThrownBy(
            () -> ApiNegotiation.negotiate("", "unix:///e.sock"))
        .isInstanceOf(EngineException.class)
        .hasMessageContaining("not a Docker Engine API");
  }

  @Test
  void podmanVersionNamesTheServicesRuntime() {
    EngineFacts f = ApiNegotiation.facts(json("{\"Version\":\"4.3.1\",\"ApiVersion\":\"1.41\","
        + "\"Components\":[{\"Name\":\"Podman Engine\"},{\"Name\":\"Conmon\"},"
        + "{\"Name\":\"OCI Runtime (runsc)\"}]}"));
    assertThat(f).isEqualTo(new EngineFacts(true, "runsc"));
  }

  @Test
  void rootlessIsReadFromDockerSecurityOptionsAndPodmanRootless() {
    assertThat(ApiNegotiation.rootless(json("{\"SecurityOptions\":"
        + "[\"name=seccomp,profile=default\",\"name=rootless\"]}"))).isTrue();
    assertThat(ApiNegotiation.rootless(json("{\"SecurityOptions\":"
        + "[\"name=seccomp,profile=default\"]}"))).isFalse();
    assertThat(ApiNegotiation.rootless(json("{\"Rootless\":true,\"SecurityOptions\":"
        + "[\"name=seccomp,profile=default\"]}"))).isTrue();
    assertThat(ApiNegotiation.rootless(json("{\"Rootless\":false}"))).isFalse();
  }

  @Test
  void podmanServiceWithAnotherDefaultRuntimeIsRefusedWithTheWayOut() {
    assertThat(RuntimeHints.podmanRuntimeMismatch("runsc", new EngineFacts(true, "runc"),
        "unix:///run/podman/podman.sock"))
        .hasValueSatisfying(m -> assertThat(m)
            .contains("unix:///run/podman/podman.sock", "default runtime \"runc\"",
                "ignores the requested runtime \"runsc\"", "podman --runtime runsc system service",
                "[engine] runtime = \"runsc\""));
  }

  @Test
  void podmanServiceWithTheRequestedRuntimeAndDockerAreAccepted() {
    assertThat(RuntimeHints.podmanRuntimeMismatch("runsc", new EngineFacts(true, "runsc"), "e"))
        .isEmpty();
    assertThat(RuntimeHints.podmanRuntimeMismatch("runsc", new EngineFacts(false, ""), "e"))
        .isEmpty();
    // an old Podman that does not name its runtime: nothing to compare against
    assertThat(RuntimeHints.podmanRuntimeMismatch("runsc", new EngineFacts(true, ""), "e"))
        .isEmpty();
  }

  @Test
  void disabledNetworkIsAlsoSentAsNetworkModeNoneWhichPodmanHonours() {
    ContainerSpec off = spec(ContainerConfig.builder().image("a").disableNetwork(true).build(),
        Map.of());
    JsonNode body = ContainerCreateBody.of(off);
    assertThat(body.path("NetworkDisabled").asBoolean()).isTrue();
    assertThat(body.path("HostConfig").path("NetworkMode").asText()).isEqualTo("none");
    ContainerSpec on = spec(ContainerConfig.builder().image("a").build(), Map.of());
    assertThat(ContainerCreateBody.of(on).path("HostConfig").has("NetworkMode")).isFalse();
  }

  @Test
  void rootlessDockerStrategyUsesGroupZeroInsteadOfDacOverride() {
    ContainerConfig c = ContainerConfig.builder().image("a").rootless(true).groupAdd(1001)
        .capIpcLock(true).build();
    ContainerSpec upstream = spec(c, Map.of("PLUGIN_UNIX_SOCKET_GROUP", "1001", "K", "v"));
    assertThat(upstream.capAdd()).containsExactly("IPC_LOCK", "DAC_OVERRIDE");

    ContainerSpec s = SocketStrategy.rootlessDockerSpec(upstream, c);
    assertThat(s.groupAdd()).containsExactly("0");
    assertThat(s.capAdd()).containsExactly("IPC_LOCK");
    assertThat(s.env()).contains("PLUGIN_UNIX_SOCKET_GROUP=0", "K=v")
        .doesNotContain("PLUGIN_UNIX_SOCKET_GROUP=1001");
    assertThat(s).usingRecursiveComparison()
        .ignoringFields("groupAdd", "capAdd", "env").isEqualTo(upstream);
  }

  @Test
  void rootlessDockerStrategyKeepsASocketGroupTheConfigSetsAndAddsNoneTheHostDidNot() {
    ContainerConfig explicit = ContainerConfig.builder().image("a").rootless(true).groupAdd(1001)
        .env("PLUGIN_UNIX_SOCKET_GROUP", "7").build();
    ContainerSpec kept = SocketStrategy.rootlessDockerSpec(
        spec(explicit, Map.of("PLUGIN_UNIX_SOCKET_GROUP", "1001")), explicit);
    assertThat(kept.env()).contains("PLUGIN_UNIX_SOCKET_GROUP=7");

    ContainerConfig plain = ContainerConfig.builder().image("a").rootless(true).groupAdd(1001)
        .build();
    ContainerSpec none = SocketStrategy.rootlessDockerSpec(spec(plain, Map.of()), plain);
    assertThat(none.env()).noneMatch(e -> e.startsWith("PLUGIN_UNIX_SOCKET_GROUP="));
  }
}
