package dev.goplugin4j.interop;

import static dev.goplugin4j.interop.InteropSupport.PEERS;
import static dev.goplugin4j.interop.InteropSupport.assertNothingLeaked;
import static dev.goplugin4j.interop.InteropSupport.assertProcessGone;
import static dev.goplugin4j.interop.InteropSupport.exampleClient;
import static dev.goplugin4j.interop.InteropSupport.pid;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.goplugin4j.host.ChecksumMismatchException;
import dev.goplugin4j.host.PluginClient;
import dev.goplugin4j.host.PluginStartException;
import dev.goplugin4j.host.ReattachConfig;
import dev.goplugin4j.protocol.HandshakeException;
import dev.goplugin4j.protocol.PluginException;
import dev.goplugin4j.testkit.GoPeers;
import dev.goplugin4j.testkit.Leaks;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.slf4j.LoggerFactory;

/**
 * Every way a real plugin can fail to start ends in a typed exception with a message that says
 * what happened, and leaves nothing behind.
 */
class StartFailureIT {
  static {
    // logging opens its file on first use; do that before any fd snapshot
    LoggerFactory.getILoggerFactory();
  }

  @TempDir Path sockets;
  private Leaks leaks;

  /**
   * Builds (or finds) every peer this class runs before any leak snapshot: the first use of the Go
   * toolchain in a JVM leaves a socket of its own, which is not what these tests check.
   */
  @BeforeAll
  static void resolvePeers() {
    InteropSupport.goPluginVersions().forEach(v -> {
      PEERS.goPluginExample(v, GoPeers.KV_PLUGIN);
      PEERS.goPluginExample(v, GoPeers.KV_NETRPC_PLUGIN);
    });
    for (String bad : new String[] {"wrong-core", "junk-stdout", "exit-early", "hang"}) {
      PEERS.badPlugin(bad);
    }
  }

  @BeforeEach
  void snapshot() {
    leaks = Leaks.snapshotWithFds(InteropSupport.THREAD_PREFIX);
  }

  @ParameterizedTest(name = "go-plugin {0}")
  @MethodSource("dev.goplugin4j.interop.InteropSupport#goPluginVersions")
  void wrongMagicCookieFailsWithThePluginsOwnRefusal(String version) throws Exception {
    Path plugin = PEERS.goPluginExample(version, GoPeers.KV_PLUGIN);
    try (PluginClient client =
        PluginClient.builder()
            .handshake(1, ExampleHandshake.MAGIC_COOKIE_KEY, "not-the-cookie")
            .plugin("kv", new KvPlugin())
            .command(plugin.toString())
            .unixSocketTempDir(sockets)
            .startTimeout(InteropSupport.START_TIMEOUT)
            .build()) {
      assertThatThrownBy(client::start)
          .isInstanceOf(PluginStartException.class)
          .hasMessageContaining("exited before we could connect")
          .hasMessageContaining("exit status 1")
          .hasMessageContaining("This binary is a plugin");
      assertThat(client.exited()).isTrue();
    }
    assertNothingLeaked(leaks, sockets);
  }

  @Test
  void coreProtocolVersionMismatchIsAHandshakeError() throws Exception {
    try (PluginClient client =
        exampleClient(PEERS.badPlugin("wrong-core"), sockets).plugin("kv", new KvPlugin()).build()) {
      assertThatThrownBy(client::start)
          .isInstanceOf(HandshakeException.class)
          .hasMessageContaining("incompatible core API version with plugin. Plugin version: 2, core version: 1")
          .hasMessageContaining("recompiled");
    }
    assertNothingLeaked(leaks, sockets);
  }

  @ParameterizedTest(name = "go-plugin {0}")
  @MethodSource("dev.goplugin4j.interop.InteropSupport#goPluginVersions")
  void noCommonAppProtocolVersionIsAHandshakeErrorNamingBothSides(String version) throws Exception {
    Path plugin = PEERS.goPluginExample(version, GoPeers.KV_PLUGIN);
    try (PluginClient client =
        PluginClient.builder()
            .handshake(2, ExampleHandshake.MAGIC_COOKIE_KEY, ExampleHandshake.MAGIC_COOKIE_VALUE)
            .plugins(2, Map.of("kv", new KvPlugin()))
            .plugins(3, Map.of("kv", new KvPlugin()))
            .command(plugin.toString())
            .unixSocketTempDir(sockets)
            .startTimeout(InteropSupport.START_TIMEOUT)
            .build()) {
      // the plugin finds no common version in PLUGIN_PROTOCOL_VERSIONS=2,3, falls back to its own
      // version 1, and the host refuses that
      assertThatThrownBy(client::start)
          .isInstanceOf(HandshakeException.class)
          .hasMessageContaining("incompatible API version with plugin. Plugin version: 1, host versions: [2, 3]")
          .hasMessageContaining("share a protocol version");
    }
    assertNothingLeaked(leaks, sockets);
  }

  @Test
  void junkOnStdoutBeforeTheHandshakeIsNamedAsTheLikelyCause() throws Exception {
    try (PluginClient client =
        exampleClient(PEERS.badPlugin("junk-stdout"), sockets).plugin("kv", new KvPlugin()).build()) {
      assertThatThrownBy(client::start)
          .isInstanceOf(HandshakeException.class)
          .hasMessageContaining("junk-stdout: loading configuration before serving")
          .hasMessageContaining("stdout before");
    }
    assertNothingLeaked(leaks, sockets);
  }

  @Test
  void pluginExitingBeforeTheHandshakeReportsItsStatusAndStderr() throws Exception {
    try (PluginClient client =
        exampleClient(PEERS.badPlugin("exit-early"), sockets).plugin("kv", new KvPlugin()).build()) {
      assertThatThrownBy(client::start)
          .isInstanceOf(PluginStartException.class)
          .hasMessageContaining("exited before we could connect")
          .hasMessageContaining("exit status 3")
          .hasMessageContaining("EXIT_EARLY_CONFIG is missing");
    }
    assertNothingLeaked(leaks, sockets);
  }

  @Test
  void pluginThatNeverHandshakesTimesOutAndIsKilled() throws Exception {
    Duration timeout = Duration.ofSeconds(2);
    long started = System.nanoTime();
    try (PluginClient client =
        exampleClient(PEERS.badPlugin("hang"), sockets)
            .plugin("kv", new KvPlugin())
            .startTimeout(timeout)
            .build()) {
      assertThatThrownBy(client::start)
          .isInstanceOf(PluginStartException.class)
          .hasMessageContaining("timeout while waiting for plugin to start")
          .hasMessageContaining("warming up");
      assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(timeout.plusSeconds(8));
    }
    assertNothingLeaked(leaks, sockets);
  }

  @ParameterizedTest(name = "go-plugin {0}")
  @MethodSource("dev.goplugin4j.interop.InteropSupport#goPluginVersions")
  void netRpcPluginIsRejectedClearly(String version) throws Exception {
    Path plugin = PEERS.goPluginExample(version, GoPeers.KV_NETRPC_PLUGIN);
    try (PluginClient client = exampleClient(plugin, sockets).plugin("kv", new KvPlugin()).build()) {
      assertThatThrownBy(client::start)
          .isInstanceOf(HandshakeException.class)
          .hasMessageContaining("unsupported plugin protocol \"netrpc\"; allowedProtocols is [grpc]")
          .hasMessageContaining("only Go hosts can use");
    }
    assertNothingLeaked(leaks, sockets);
  }

  @Test
  void checksumMismatchRefusesToRunTheExecutable() throws Exception {
    Path plugin = PEERS.goPluginExample(GoPeers.GO_PLUGIN_LATEST, GoPeers.KV_PLUGIN);
    String wrong = "0".repeat(64);
    try (PluginClient client =
        exampleClient(plugin, sockets).plugin("kv", new KvPlugin()).sha256(wrong).build()) {
      assertThatThrownBy(client::start)
          .isInstanceOfSatisfying(
              ChecksumMismatchException.class,
              e -> {
                assertThat(e.expectedSha256()).isEqualTo(wrong);
                assertThat(e.actualSha256()).hasSize(64).isNotEqualTo(wrong);
                assertThat(e.executable()).isEqualTo(plugin);
              })
          .hasMessageContaining(wrong);
    }
    assertNothingLeaked(leaks, sockets);
  }

  @Test
  void reattachingToADeadPluginFailsWithoutTouchingAnyProcess() throws Exception {
    Path plugin = PEERS.goPluginExample(GoPeers.GO_PLUGIN_LATEST, GoPeers.KV_PLUGIN);
    ReattachConfig rc;
    try (PluginClient client = exampleClient(plugin, sockets).plugin("kv", new KvPlugin()).build()) {
      client.start();
      rc = client.reattachConfig().orElseThrow();
    }
    assertProcessGone(pid(rc));

    try (PluginClient again =
        PluginClient.builder()
            .handshake(
                ExampleHandshake.PROTOCOL_VERSION,
                ExampleHandshake.MAGIC_COOKIE_KEY,
                ExampleHandshake.MAGIC_COOKIE_VALUE)
            .plugin("kv", new KvPlugin())
            .reattach(rc)
            .build()) {
      assertThatThrownBy(again::start)
          .isInstanceOf(PluginException.class)
          .hasMessageContaining(rc.runnerId());
    }
    assertNothingLeaked(leaks, sockets);
  }
}
