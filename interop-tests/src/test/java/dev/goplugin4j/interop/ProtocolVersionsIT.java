package dev.goplugin4j.interop;

import static dev.goplugin4j.interop.InteropSupport.PEERS;
import static dev.goplugin4j.interop.InteropSupport.assertNothingLeaked;
import static dev.goplugin4j.interop.InteropSupport.assertProcessGone;
import static dev.goplugin4j.interop.InteropSupport.pid;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.goplugin4j.host.GrpcPlugin;
import dev.goplugin4j.host.PluginClient;
import dev.goplugin4j.protocol.HandshakeException;
import dev.goplugin4j.protocol.IncompatibleVersionException;
import dev.goplugin4j.testkit.Leaks;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * A host of several app protocol versions against a real go-plugin v1.8.0 plugin that serves
 * several ({@code ServeConfig.VersionedPlugins}, testkit's {@code versioned-kv}): the plugin picks
 * the highest common version, the host and its adapter are told which, and a plugin with no
 * version in common is refused with a typed error naming both sides.
 */
class ProtocolVersionsIT {
  @TempDir Path sockets;

  private static Path plugin;

  @BeforeAll
  static void buildPluginAndStartLogging() {
    plugin = PEERS.badPlugin("versioned-kv");
    // logging opens its file on first use: before the first Leaks snapshot, not during a test
    LoggerFactory.getLogger(ProtocolVersionsIT.class).info("versioned-kv at {}", plugin);
  }

  /** What the versioned adapter made: the version it was told and the KV client. */
  record VersionedKv(int version, Kv kv) {}

  private static final GrpcPlugin<VersionedKv> ADAPTER = GrpcPlugin.versioned(
      (channel, broker, version) -> new VersionedKv(version, new KvPlugin().client(channel, broker)));

  /** A host offering versions 5 and 6, with one adapter for both, to versioned-kv. */
  private PluginClient host(String pluginVersions) {
    return PluginClient.builder()
        .handshake(ExampleHandshake.MAGIC_COOKIE_KEY, ExampleHandshake.MAGIC_COOKIE_VALUE)
        .plugins(5, Map.of("kv", ADAPTER))
        .plugins(6, Map.of("kv", ADAPTER))
        .command(plugin.toString())
        .env("VERSIONED_KV_VERSIONS", pluginVersions)
        .unixSocketTempDir(sockets)
        .startTimeout(InteropSupport.START_TIMEOUT)
        .build();
  }

  private void negotiates(String pluginVersions, int expected) throws Exception {
    Leaks leaks = Leaks.snapshotWithFds(InteropSupport.THREAD_PREFIX);
    long pid;
    try (PluginClient client = host(pluginVersions)) {
      VersionedKv v = client.dispense("kv", VersionedKv.class);

      assertThat(v.version()).as("the version the adapter was told").isEqualTo(expected);
      assertThat(client.negotiatedVersion()).contains(expected);
      assertThat(new String(v.kv().get("version"), StandardCharsets.UTF_8))
          .as("the plugin set that answers").isEqualTo(Integer.toString(expected));
      pid = pid(client.reattachConfig().orElseThrow());
    }
    assertProcessGone(pid);
    assertNothingLeaked(leaks, sockets);
  }

  @Test
  void aHostOffering5And6Gets6FromAPluginOffering5And6() throws Exception {
    negotiates("5,6", 6);
  }

  @Test
  void aHostOffering5And6Gets5FromAPluginOfferingOnly5() throws Exception {
    negotiates("5", 5);
  }

  @Test
  void aHostOffering5And6Gets6FromAPluginOffering4To7() throws Exception {
    negotiates("4,5,6,7", 6);
  }

  @Test
  void aPluginOfferingOnly7IsRefusedWithATypedErrorNamingBothSides() throws Exception {
    Leaks leaks = Leaks.snapshotWithFds(InteropSupport.THREAD_PREFIX);
    try (PluginClient client = host("7")) {
      assertThatThrownBy(client::start)
          .isInstanceOf(IncompatibleVersionException.class)
          .isInstanceOf(HandshakeException.class)
          .hasMessageContaining("Plugin version: 7, host versions: [5, 6]")
          .hasMessageContaining("PLUGIN_PROTOCOL_VERSIONS")
          .satisfies(e -> {
            IncompatibleVersionException v = (IncompatibleVersionException) e;
            assertThat(v.pluginVersion()).isEqualTo(7);
            assertThat(v.hostVersions()).containsExactly(5, 6);
          });
      assertThat(client.negotiatedVersion()).isEmpty();
    }
    assertNothingLeaked(leaks, sockets);
  }
}
