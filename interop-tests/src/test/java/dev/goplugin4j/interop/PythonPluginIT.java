package dev.goplugin4j.interop;

import static dev.goplugin4j.interop.InteropSupport.assertNothingLeaked;
import static dev.goplugin4j.interop.InteropSupport.deleteKvFile;
import static dev.goplugin4j.interop.InteropSupport.uniqueKey;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.goplugin4j.host.PluginClient;
import dev.goplugin4j.protocol.HandshakeException;
import dev.goplugin4j.testkit.GoPeers;
import dev.goplugin4j.testkit.Leaks;
import dev.goplugin4j.testkit.PythonPeers;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The host against go-plugin's own Python plugin ({@code examples/grpc/plugin-python}, grpcio from
 * PyPI): a non-Go plugin that serves plaintext gRPC over TCP and knows nothing of AutoMTLS, the
 * broker or stdio forwarding.
 */
class PythonPluginIT {
  private static final PythonPeers PYTHON = PythonPeers.create();

  @TempDir Path sockets;

  private static PluginClient.Builder pythonClient(Path sockets) {
    List<String> cmd = PYTHON.goPluginPythonKv(GoPeers.GO_PLUGIN_LATEST);
    return PluginClient.builder()
        .handshake(1, "BASIC_PLUGIN", "hello")
        .plugin("kv_grpc", new KvPlugin())
        .command(cmd.get(0), cmd.get(1))
        .unixSocketTempDir(sockets)
        .startTimeout(InteropSupport.START_TIMEOUT);
  }

  @Test
  void pythonKvPluginPutThenGetOverPlaintextTcp() throws Exception {
    String key = uniqueKey("py");
    Leaks leaks = Leaks.snapshot(InteropSupport.THREAD_PREFIX);
    try (PluginClient client = pythonClient(sockets).autoMtls(false).build()) {
      Kv kv = client.dispense("kv_grpc", Kv.class);
      kv.put(key, "from java".getBytes(StandardCharsets.UTF_8));
      assertThat(new String(kv.get(key), StandardCharsets.UTF_8))
          .isEqualTo("from java\n\nWritten from plugin-python");
      assertThat(client.reattachConfig().orElseThrow().address().network()).isEqualTo("tcp");
    } finally {
      deleteKvFile(key);
    }
    assertNothingLeaked(leaks, sockets);
  }

  @Test
  void autoMtlsAgainstAPluginWithoutItIsRefusedWithTheFix() throws Exception {
    Leaks leaks = Leaks.snapshot(InteropSupport.THREAD_PREFIX);
    try (PluginClient client = pythonClient(sockets).build()) {
      assertThatThrownBy(client::start)
          .isInstanceOf(HandshakeException.class)
          .hasMessageContaining("does not support AutoMTLS")
          .hasMessageContaining("autoMtls(false)");
    }
    assertNothingLeaked(leaks, sockets);
  }
}
