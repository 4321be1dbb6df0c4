package dev.goplugin4j.interop;

import static dev.goplugin4j.interop.InteropSupport.PEERS;
import static dev.goplugin4j.interop.InteropSupport.assertNothingLeaked;
import static dev.goplugin4j.interop.InteropSupport.deleteKvFile;
import static dev.goplugin4j.interop.InteropSupport.exampleClient;
import static dev.goplugin4j.interop.InteropSupport.uniqueKey;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.goplugin4j.host.PluginClient;
import dev.goplugin4j.testkit.GoPeers;
import dev.goplugin4j.testkit.Leaks;
import io.grpc.StatusRuntimeException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.slf4j.LoggerFactory;

/**
 * The host against go-plugin's examples/bidirectional Counter plugin: every Put makes the plugin
 * dial back the AddHelper the host serves through the broker.
 */
class CounterIT {
  static {
    // logging opens its file on first use; do that before any fd snapshot
    LoggerFactory.getILoggerFactory();
  }

  @TempDir Path sockets;

  @ParameterizedTest(name = "go-plugin {0}, autoMtls {1}")
  @MethodSource("versionsAndMtls")
  void counterIncrementsThroughTheHostsAddHelperCallback(String version, boolean autoMtls) throws Exception {
    Path plugin = PEERS.goPluginExample(version, GoPeers.COUNTER_PLUGIN);
    String key = uniqueKey("counter");
    List<String> calls = new CopyOnWriteArrayList<>();
    // adds 1000 on top, so the result proves the plugin used our callback
    AddHelper adder =
        (a, b) -> {
          calls.add(a + "+" + b);
          return a + b + 1000;
        };
    Leaks leaks = Leaks.snapshotWithFds(InteropSupport.THREAD_PREFIX);
    try (PluginClient client =
        exampleClient(plugin, sockets).plugin("counter", new CounterPlugin()).autoMtls(autoMtls).build()) {
      Counter counter = client.dispense("counter", Counter.class);

      long first = counter.increment(key, 5, adder);
      long second = counter.increment(key, 3, adder);

      assertThat(first).isEqualTo(1005);
      assertThat(second).isEqualTo(2008);
      assertThat(calls).containsExactly("0+5", "1005+3");
    } finally {
      deleteKvFile(key);
    }
    assertNothingLeaked(leaks, sockets);
  }

  @ParameterizedTest(name = "go-plugin {0}")
  @MethodSource("dev.goplugin4j.interop.InteropSupport#goPluginVersions")
  void failingCallbackReachesThePluginAndComesBackAsItsError(String version) throws Exception {
    Path plugin = PEERS.goPluginExample(version, GoPeers.COUNTER_PLUGIN);
    String key = uniqueKey("counter");
    Leaks leaks = Leaks.snapshotWithFds(InteropSupport.THREAD_PREFIX);
    try (PluginClient client =
        exampleClient(plugin, sockets).plugin("counter", new CounterPlugin()).build()) {
      Counter counter = client.dispense("counter", Counter.class);

      assertThatThrownBy(
              () ->
                  counter.put(
                      key,
                      1,
                      (a, b) -> {
                        throw new ArithmeticException("adder is broken on purpose");
                      }))
          .isInstanceOf(StatusRuntimeException.class)
          .hasMessageContaining("adder is broken on purpose");
      // the connection survives a failed callback
      assertThat(counter.increment(key, 2, Math::addExact)).isEqualTo(2);
    } finally {
      deleteKvFile(key);
    }
    assertNothingLeaked(leaks, sockets);
  }

  static List<Object[]> versionsAndMtls() {
    return GoPeers.GO_PLUGIN_VERSIONS.stream()
        .flatMap(v -> java.util.stream.Stream.of(new Object[] {v, true}, new Object[] {v, false}))
        .toList();
  }
}
