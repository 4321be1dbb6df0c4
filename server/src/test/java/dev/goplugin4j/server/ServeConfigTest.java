package dev.goplugin4j.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ServeConfigTest {
  private static final GrpcServerPlugin NOTHING = (services, broker) -> {};

  @Test
  void buildRequiresTheHandshake() {
    assertThatThrownBy(() -> ServeConfig.builder().plugin("kv", NOTHING).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("handshake(");
  }

  @Test
  void buildRequiresAtLeastOnePlugin() {
    assertThatThrownBy(() -> ServeConfig.builder().handshake(1, "K", "v").build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("no plugins to serve");
  }

  @Test
  void handshakeRejectsEmptyCookieAndVersionBelowOne() {
    assertThatThrownBy(() -> ServeConfig.builder().handshake(0, "K", "v"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("protocolVersion");
    assertThatThrownBy(() -> ServeConfig.builder().handshake(1, "", "v"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("magicCookieKey");
    assertThatThrownBy(() -> ServeConfig.builder().handshake(1, "A=B", "v"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("magicCookieKey");
    assertThatThrownBy(() -> ServeConfig.builder().handshake(1, "K", ""))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("magicCookieValue");
  }

  @Test
  void pluginNamesMustBeUniquePerVersion() {
    ServeConfig.Builder b = ServeConfig.builder().plugin("kv", NOTHING);
    assertThatThrownBy(() -> b.plugin("kv", NOTHING))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("\"kv\" is already set");
  }

  @Test
  void pluginsOfTheHandshakeVersionCannotBeSetTwoWays() {
    ServeConfig.Builder b =
        ServeConfig.builder()
            .handshake(2, "K", "v")
            .plugin("kv", NOTHING)
            .plugins(2, Map.of("other", NOTHING));
    assertThatThrownBy(b::build)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("version 2 are set twice");
  }

  @Test
  void versionedPluginsAreSortedAndIncludeTheHandshakeVersion() {
    ServeConfig c =
        ServeConfig.builder()
            .handshake(2, "K", "v")
            .plugin("kv", NOTHING)
            .plugins(5, Map.of("kv", NOTHING))
            .plugins(1, Map.of("kv", NOTHING))
            .build();
    assertThat(c.versionedPlugins().keySet()).containsExactly(1, 2, 5);
    assertThat(c.protocolVersion()).isEqualTo(2);
  }

  @Test
  void defaultsAreDocumentedValues() {
    ServeConfig c = ServeConfig.builder().handshake(1, "K", "v").plugin("kv", NOTHING).build();
    assertThat(c.exitWhenHostExits()).isTrue();
    assertThat(c.ignoreInterrupts()).isTrue();
    assertThat(c.listenOnTcp()).isFalse();
    assertThat(c.shutdownGracePeriod()).isEqualTo(Duration.ofSeconds(1));
    assertThat(c.tlsProvider()).isEmpty();
    assertThat(c.logger()).isEmpty();
    assertThat(c.serverCustomizer()).isEmpty();
  }

  @Test
  void shutdownGracePeriodIsBounded() {
    assertThatThrownBy(() -> ServeConfig.builder().shutdownGracePeriod(Duration.ofMillis(-1)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> ServeConfig.builder().shutdownGracePeriod(Duration.ofMinutes(2)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("shutdownGracePeriod");
  }

  @Test
  void newBuilderDerivesAModifiedCopy() {
    ServeConfig c = ServeConfig.builder().handshake(1, "K", "v").plugin("kv", NOTHING).build();
    ServeConfig d = c.newBuilder().listenOnTcp(true).build();
    assertThat(d.listenOnTcp()).isTrue();
    assertThat(c.listenOnTcp()).isFalse();
    assertThat(d.versionedPlugins()).isEqualTo(c.versionedPlugins());
  }

  @Test
  void notLaunchedByHostCarriesGoPluginsGuidance() {
    NotLaunchedByHostException e = new NotLaunchedByHostException("BASIC_PLUGIN");
    assertThat(e.getMessage())
        .startsWith("This binary is a plugin. These are not meant to be executed directly.")
        .endsWith("load any plugins automatically");
    assertThat(e.cookieKey()).isEqualTo("BASIC_PLUGIN");
  }
}
