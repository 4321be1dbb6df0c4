package dev.goplugin4j.interop;

import static dev.goplugin4j.interop.InteropSupport.PEERS;
import static dev.goplugin4j.interop.InteropSupport.assertNothingLeaked;
import static dev.goplugin4j.interop.InteropSupport.assertProcessGone;
import static dev.goplugin4j.interop.InteropSupport.deleteKvFile;
import static dev.goplugin4j.interop.InteropSupport.exampleClient;
import static dev.goplugin4j.interop.InteropSupport.pid;
import static dev.goplugin4j.interop.InteropSupport.uniqueKey;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.goplugin4j.host.PluginClient;
import dev.goplugin4j.host.ReattachConfig;
import dev.goplugin4j.testkit.GoPeers;
import dev.goplugin4j.testkit.Leaks;
import io.grpc.StatusRuntimeException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.slf4j.LoggerFactory;

/** The host against go-plugin's examples/grpc KV plugin, unmodified, at each covered version. */
class KvIT {
  static {
    // logging opens its file on first use; do that before any fd snapshot
    LoggerFactory.getILoggerFactory();
  }

  private static final String SUFFIX = "\n\nWritten from plugin-go-grpc";

  @TempDir Path sockets;

  @ParameterizedTest(name = "go-plugin {0}")
  @MethodSource("dev.goplugin4j.interop.InteropSupport#goPluginVersions")
  void kvPutThenGetReturnsValueWithAutoMtls(String version) throws Exception {
    putThenGet(version, true);
  }

  @ParameterizedTest(name = "go-plugin {0}")
  @MethodSource("dev.goplugin4j.interop.InteropSupport#goPluginVersions")
  void kvPutThenGetReturnsValueWithoutAutoMtls(String version) throws Exception {
    putThenGet(version, false);
  }

  @Test
  void kvFromGoPluginBefore15WorksBecauseItsTmpdirIsTheSocketDir() throws Exception {
    // go-plugin v1.4.x ignores PLUGIN_UNIX_SOCKET_DIR and makes its socket in TMPDIR; the host
    // points TMPDIR at the socket dir, so the address rules accept it and nothing is left
    putThenGet("v1.4.8", true);
  }

  private void putThenGet(String version, boolean autoMtls) throws Exception {
    Path plugin = PEERS.goPluginExample(version, GoPeers.KV_PLUGIN);
    String key = uniqueKey("kv");
    Leaks leaks = Leaks.snapshotWithFds(InteropSupport.THREAD_PREFIX);
    long pid;
    try (PluginClient client =
        exampleClient(plugin, sockets).plugin("kv", new KvPlugin()).autoMtls(autoMtls).build()) {
      Kv kv = client.dispense("kv", Kv.class);

      kv.put(key, "hello from Java".getBytes(StandardCharsets.UTF_8));
      byte[] value = kv.get(key);

      assertThat(new String(value, StandardCharsets.UTF_8)).isEqualTo("hello from Java" + SUFFIX);
      assertThat(client.negotiatedVersion()).contains(1);
      assertThat(client.exited()).isFalse();
      pid = pid(client.reattachConfig().orElseThrow());
    } finally {
      deleteKvFile(key);
    }
    assertProcessGone(pid);
    assertNothingLeaked(leaks, sockets);
  }

  @ParameterizedTest(name = "go-plugin {0}")
  @MethodSource("dev.goplugin4j.interop.InteropSupport#goPluginVersions")
  void kvGetOfMissingKeyFailsWithThePluginsError(String version) throws Exception {
    Path plugin = PEERS.goPluginExample(version, GoPeers.KV_PLUGIN);
    Leaks leaks = Leaks.snapshotWithFds(InteropSupport.THREAD_PREFIX);
    try (PluginClient client = exampleClient(plugin, sockets).plugin("kv", new KvPlugin()).build()) {
      Kv kv = client.dispense("kv", Kv.class);

      assertThatThrownBy(() -> kv.get(uniqueKey("missing")))
          .isInstanceOf(StatusRuntimeException.class)
          .hasMessageContaining("no such file or directory");
    }
    assertNothingLeaked(leaks, sockets);
  }

  @Test
  void killStopsThePluginAtOnceAndReportsItExited() throws Exception {
    Path plugin = PEERS.goPluginExample(GoPeers.GO_PLUGIN_LATEST, GoPeers.KV_PLUGIN);
    Leaks leaks = Leaks.snapshotWithFds(InteropSupport.THREAD_PREFIX);
    try (PluginClient client = exampleClient(plugin, sockets).plugin("kv", new KvPlugin()).build()) {
      client.start();
      long pid = pid(client.reattachConfig().orElseThrow());

      client.kill();

      assertThat(client.exited()).isTrue();
      assertProcessGone(pid);
    }
    assertNothingLeaked(leaks, sockets);
  }

  @Test
  void reattachedClientTalksToTheSameRunningPlugin() throws Exception {
    // the in-memory KV plugin: only the same process can still know the value
    Path plugin = PEERS.badPlugin("stdout-chatty");
    Leaks leaks = Leaks.snapshotWithFds(InteropSupport.THREAD_PREFIX);
    ReattachConfig rc;
    try (PluginClient first = exampleClient(plugin, sockets).plugin("kv", new KvPlugin()).build()) {
      first.dispense("kv", Kv.class).put("k", "kept in memory".getBytes(StandardCharsets.UTF_8));
      rc = first.reattachConfig().orElseThrow();
      first.detach();
    }
    long pid = pid(rc);
    assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive)).contains(true);

    try (PluginClient second =
        PluginClient.builder()
            .handshake(
                ExampleHandshake.PROTOCOL_VERSION,
                ExampleHandshake.MAGIC_COOKIE_KEY,
                ExampleHandshake.MAGIC_COOKIE_VALUE)
            .plugin("kv", new KvPlugin())
            .reattach(ReattachConfig.fromJson(rc.toJson()))
            .build()) {
      byte[] value = second.dispense("kv", Kv.class).get("k");

      assertThat(new String(value, StandardCharsets.UTF_8)).isEqualTo("kept in memory");
      assertThat(second.negotiatedVersion()).contains(1);
    }
    assertProcessGone(pid);
    assertNothingLeaked(leaks, sockets);
  }
}
