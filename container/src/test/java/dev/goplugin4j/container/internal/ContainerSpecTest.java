package dev.goplugin4j.container.internal;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.goplugin4j.container.ContainerConfig;
import dev.goplugin4j.container.EndpointConfig;
import dev.goplugin4j.host.PluginCommand;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ContainerSpecTest {
  private static final HostId OWNER = new HostId("box", 42, "t1000");

  private static ContainerSpec spec(ContainerConfig c) {
    return ContainerSpecs.of(c, new PluginCommand(List.of("ignored"),
        Map.of("BASIC_PLUGIN", "hello", "PLUGIN_UNIX_SOCKET_DIR", "/tmp/host-dir", "B", "2")),
        Path.of("/tmp/host-dir"), OWNER);
  }

  @Test
  void socketDirEnvIsReplacedByTheContainerPathExactlyOnce() {
    ContainerSpec s = spec(ContainerConfig.builder().image("a").env("EXTRA", "x").build());
    assertThat(s.env()).filteredOn(e -> e.startsWith("PLUGIN_UNIX_SOCKET_DIR="))
        .containsExactly("PLUGIN_UNIX_SOCKET_DIR=/tmp/go-plugin-container");
    assertThat(s.env()).contains("BASIC_PLUGIN=hello", "B=2", "EXTRA=x");
  }

  @Test
  void configEnvOverridesTheHostsValue() {
    ContainerSpec s = spec(ContainerConfig.builder().image("a").env("B", "3").build());
    assertThat(s.env()).contains("B=3").doesNotContain("B=2");
  }

  @Test
  void theHostsCommandLineIsIgnoredAsInGo() {
    ContainerSpec s = spec(ContainerConfig.builder().image("a").build());
    assertThat(s.entrypoint()).isNull();
    assertThat(s.cmd()).isNull();
  }

  @Test
  void ownerLabelsAndCapabilities() {
    ContainerSpec s = spec(ContainerConfig.builder().image("a").label("x", "y").capIpcLock(true)
        .rootless(true).groupAdd(1500).build());
    assertThat(s.labels()).containsEntry("x", "y").containsEntry(Labels.MANAGED, "true")
        .containsEntry(Labels.OWNER, "box/42/t1000").containsEntry(Labels.PLUGIN, "a");
    assertThat(s.capDrop()).containsExactly("ALL");
    assertThat(s.capAdd()).containsExactly("IPC_LOCK", "DAC_OVERRIDE");
    assertThat(s.groupAdd()).containsExactly("1500");
    ContainerSpec bare = spec(ContainerConfig.builder().image("a").ownerLabels(false).build());
    assertThat(bare.labels()).isEmpty();
  }

  @Test
  void debugKeepsTheContainer() {
    assertThat(spec(ContainerConfig.builder().image("a").build()).autoRemove()).isTrue();
    assertThat(spec(ContainerConfig.builder().image("a").debug(true).build()).autoRemove())
        .isFalse();
  }

  @Test
  void createBodyHasANonRecursivePrivateBindAndNetworkingConfig() {
    ContainerSpec s = spec(ContainerConfig.builder().image("a").tag("1").runtime("runsc")
        .endpointsConfig(Map.of("plugins", new EndpointConfig("", List.of("p1"), List.of(),
            "10.1.0.5", "", Map.of())))
        .build());
    JsonNode body = ContainerCreateBody.of(s);
    assertThat(body.path("Image").asText()).isEqualTo("a:1");
    JsonNode mount = body.path("HostConfig").path("Mounts").get(0);
    assertThat(mount.path("Type").asText()).isEqualTo("bind");
    assertThat(mount.path("Source").asText()).isEqualTo("/tmp/host-dir");
    assertThat(mount.path("Target").asText()).isEqualTo("/tmp/go-plugin-container");
    assertThat(mount.path("BindOptions").path("Propagation").asText()).isEqualTo("private");
    assertThat(mount.path("BindOptions").path("NonRecursive").asBoolean()).isTrue();
    assertThat(body.path("HostConfig").path("Runtime").asText()).isEqualTo("runsc");
    assertThat(body.path("HostConfig").path("RestartPolicy").path("Name").asText())
        .isEqualTo("no");
    assertThat(body.path("Tty").asBoolean()).isFalse();
    JsonNode ep = body.path("NetworkingConfig").path("EndpointsConfig").path("plugins");
    assertThat(ep.path("Aliases").get(0).asText()).isEqualTo("p1");
    assertThat(ep.path("IPAMConfig").path("IPv4Address").asText()).isEqualTo("10.1.0.5");
  }

  @Test
  void apiVersionsCompareNumerically() {
    assertThat(ApiNegotiation.compareVersions("1.41", "1.40")).isPositive();
    assertThat(ApiNegotiation.compareVersions("1.9", "1.40")).isNegative();
    assertThat(ApiNegotiation.compareVersions("1.43", "1.43")).isZero();
  }
}
