package dev.goplugin4j.container;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ContainerConfigTest {
  private static final String HEX = "5f2b" + "0".repeat(60);

  @Test
  void defaultsAreHardenedAndOtherwiseMatchGo() {
    ContainerConfig c = ContainerConfig.builder().image("counter").build();
    assertThat(c.imageRef()).isEqualTo("counter");
    assertThat(c.tag()).isEmpty();
    assertThat(c.sha256()).isEmpty();
    assertThat(c.groupAdd()).isEmpty();
    assertThat(c.rootless()).isFalse();
    assertThat(c.entrypoint()).isEmpty();
    assertThat(c.args()).isEmpty();
    assertThat(c.disableNetwork()).isFalse();
    assertThat(c.runtime()).isEmpty();
    assertThat(c.nanoCpus()).isZero();
    assertThat(c.memory()).isZero();
    assertThat(c.capIpcLock()).isFalse();
    assertThat(c.debug()).isFalse();
    assertThat(c.noNewPrivileges()).isTrue();
    assertThat(c.pidsLimit()).isEqualTo(256);
    assertThat(c.readOnlyRootFs()).isTrue();
    assertThat(c.tmpSize()).isEqualTo(64L << 20);
    assertThat(c.ownerLabels()).isTrue();
    assertThat(c.pluginName()).isEqualTo("counter");
    assertThat(c.engineEndpoint()).isEmpty();
    assertThat(c.killGrace()).isEqualTo(Duration.ofSeconds(1));
  }

  @Test
  void imageRefIsNameTagOrPinnedId() {
    assertThat(ContainerConfig.builder().image("a/b").tag("1.0").build().imageRef())
        .isEqualTo("a/b:1.0");
    ContainerConfig pinned = ContainerConfig.builder().image("a/b").tag("1.0").sha256(HEX).build();
    assertThat(pinned.imageRef()).isEqualTo("sha256:" + HEX);
    assertThat(pinned.namedRef()).isEqualTo("a/b:1.0");
  }

  @Test
  void sha256AcceptsPlainAndPrefixedHexAndStoresPlain() {
    assertThat(ContainerConfig.builder().image("a").sha256("sha256:" + HEX).build().sha256())
        .isEqualTo(HEX);
    assertThat(ContainerConfig.builder().image("a").sha256(HEX).build().sha256()).isEqualTo(HEX);
  }

  @Test
  void sha256MustBeAFullId() {
    assertThatThrownBy(() -> ContainerConfig.builder().sha256("abc123"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("sha256")
        .hasMessageContaining("--no-trunc");
    assertThatThrownBy(() -> ContainerConfig.builder().sha256(HEX.toUpperCase()))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void imageWithColonIsRejectedPointingAtTag() {
    assertThatThrownBy(() -> ContainerConfig.builder().image("broken:latest"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("broken:latest").hasMessageContaining("tag(");
  }

  @Test
  void missingImageFailsAtBuild() {
    assertThatThrownBy(() -> ContainerConfig.builder().build())
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("image must be set");
    assertThatThrownBy(() -> ContainerConfig.builder().image(""))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void rootlessRequiresGroupAdd() {
    assertThatThrownBy(() -> ContainerConfig.builder().image("a").rootless(true).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("rootless requires groupAdd");
    assertThat(ContainerConfig.builder().image("a").rootless(true).groupAdd(0).build().groupAdd())
        .hasValue(0);
  }

  @Test
  void disabledNetworkCannotJoinNetworks() {
    assertThatThrownBy(() -> ContainerConfig.builder().image("a").disableNetwork(true)
        .endpointsConfig(Map.of("plugins", EndpointConfig.withAliases("p"))).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("disableNetwork").hasMessageContaining("endpointsConfig");
  }

  @Test
  void buildReportsEveryBrokenRuleAtOnce() {
    assertThatThrownBy(() -> ContainerConfig.builder().rootless(true).disableNetwork(true)
        .endpointsConfig(Map.of("n", EndpointConfig.DEFAULT)).build())
        .hasMessageContaining("image").hasMessageContaining("rootless")
        .hasMessageContaining("disableNetwork");
  }

  @Test
  void settersRejectOutOfRangeValuesWithoutClamping() {
    ContainerConfig.Builder b = ContainerConfig.builder();
    assertThatThrownBy(() -> b.groupAdd(-1)).hasMessageContaining("groupAdd");
    assertThatThrownBy(() -> b.nanoCpus(5)).hasMessageContaining("nanoCpus");
    assertThatThrownBy(() -> b.memory(1024)).hasMessageContaining("memory");
    assertThatThrownBy(() -> b.pidsLimit(-1)).hasMessageContaining("pidsLimit");
    assertThatThrownBy(() -> b.tmpSize(10)).hasMessageContaining("tmpSize");
    assertThatThrownBy(() -> b.killGrace(Duration.ofMillis(500))).hasMessageContaining("killGrace");
    assertThatThrownBy(() -> b.killGrace(Duration.ofMinutes(5))).hasMessageContaining("killGrace");
    assertThatThrownBy(() -> b.tag("bad tag")).hasMessageContaining("tag");
    assertThatThrownBy(() -> b.runtime("run sc")).hasMessageContaining("runtime");
    assertThatThrownBy(() -> b.entrypoint()).hasMessageContaining("entrypoint");
    assertThatThrownBy(() -> b.engineEndpoint("http://x")).hasMessageContaining("engineEndpoint");
    assertThatThrownBy(() -> b.engineEndpoint("unix://")).hasMessageContaining("engineEndpoint");
  }

  @Test
  void envMayNotSetTheSocketDirAndLabelsMayNotUseOurPrefix() {
    assertThatThrownBy(() -> ContainerConfig.builder().env("PLUGIN_UNIX_SOCKET_DIR", "/x"))
        .hasMessageContaining("PLUGIN_UNIX_SOCKET_DIR");
    assertThatThrownBy(() -> ContainerConfig.builder().env("A=B", "x"))
        .hasMessageContaining("env key");
    assertThatThrownBy(() -> ContainerConfig.builder().label("dev.goplugin4j.owner", "me"))
        .hasMessageContaining("reserved");
  }

  @Test
  void newBuilderDerivesAnEqualModifiableCopy() {
    ContainerConfig c = ContainerConfig.builder().image("a").tag("t").runtime("runsc")
        .groupAdd(10).env("X", "1").label("l", "v").memory(64L << 20).debug(true).build();
    assertThat(c.newBuilder().build()).isEqualTo(c).hasSameHashCodeAs(c);
    ContainerConfig d = c.newBuilder().runtime("runc").build();
    assertThat(d.runtime()).isEqualTo("runc");
    assertThat(c.runtime()).isEqualTo("runsc");
    assertThat(d).isNotEqualTo(c);
  }

  @Test
  void toStringLeavesOutEnvironmentValues() {
    ContainerConfig c = ContainerConfig.builder().image("a").env("TOKEN", "secret").build();
    assertThat(c.toString()).contains("TOKEN").doesNotContain("secret");
  }

  @Test
  void createNeedsAnAbsoluteSocketDir() {
    ContainerConfig c = ContainerConfig.builder().image("a").build();
    assertThatThrownBy(() -> c.create(new dev.goplugin4j.host.PluginCommand(
        java.util.List.of(), Map.of()), java.nio.file.Path.of("relative")))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
