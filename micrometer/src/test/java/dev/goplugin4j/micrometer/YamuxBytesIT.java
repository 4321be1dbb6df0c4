package dev.goplugin4j.micrometer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.goplugin4j.host.PluginClient;
import dev.goplugin4j.host.TransportStats;
import dev.goplugin4j.interop.Counter;
import dev.goplugin4j.interop.CounterPlugin;
import dev.goplugin4j.interop.ExampleHandshake;
import dev.goplugin4j.testkit.GoPeers;
import dev.goplugin4j.testkit.Leaks;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * {@link PluginMetrics#YAMUX_BYTES} and {@link PluginClient#transportStats()} against go-plugin's
 * bidirectional Counter example (v1.8.0) on the multiplexed broker: every call, main and
 * brokered (the plugin's AddHelper callback), crosses the one yamux connection, so both
 * directions grow with the calls, and the counts survive the client's close.
 */
class YamuxBytesIT {
  static {
    LoggerFactory.getILoggerFactory();
  }

  private static final GoPeers PEERS = GoPeers.create();
  private static final Duration START_TIMEOUT = Duration.ofSeconds(GoPeers.inCi() ? 60 : 30);

  @TempDir Path sockets;

  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private final PluginMetrics metrics = new PluginMetrics(registry);

  private PluginClient.Builder client(Path binary) {
    return metrics.instrument(PluginClient.builder())
        .handshake(ExampleHandshake.PROTOCOL_VERSION, ExampleHandshake.MAGIC_COOKIE_KEY,
            ExampleHandshake.MAGIC_COOKIE_VALUE)
        .command(binary.toString())
        .unixSocketTempDir(sockets)
        .startTimeout(START_TIMEOUT)
        .plugin("counter", new CounterPlugin());
  }

  private double bytes(String plugin, String direction) {
    FunctionCounter c = registry.get(PluginMetrics.YAMUX_BYTES).tag("plugin", plugin)
        .tag("runner", "process").tag("direction", direction).functionCounter();
    return c.count();
  }

  @Test
  void bytesOverTheMultiplexedConnectionGrowWithTheCallsBothWaysAndStayCountedAfterClose()
      throws Exception {
    Path binary = PEERS.goPluginExample("v1.8.0", GoPeers.COUNTER_PLUGIN);
    String name = binary.getFileName().toString();
    String key = "yamux-" + UUID.randomUUID().toString().substring(0, 8);
    Leaks leaks = Leaks.snapshot("goplugin4j-");
    TransportStats stats;
    double sentAfterOne;
    double receivedAfterOne;
    double sentAfterAll;
    double receivedAfterAll;
    try {
      PluginClient client = metrics.bindTransport(client(binary).multiplexBroker(true).build());
      try (client) {
        stats = client.transportStats().orElseThrow();
        assertThat(stats.bytesSent()).isZero();
        assertThat(stats.bytesReceived()).isZero();
        assertThat(bytes(name, "sent")).isZero();

        Counter counter = client.dispense("counter", Counter.class);
        assertThat(counter.increment(key, 1, Math::addExact)).isEqualTo(1);
        sentAfterOne = bytes(name, "sent");
        receivedAfterOne = bytes(name, "received");
        // the start (health check, broker and stdio streams) and one call each way
        assertThat(sentAfterOne).isPositive();
        assertThat(receivedAfterOne).isPositive();
        assertThat(stats.finished()).isFalse();

        for (int i = 2; i <= 21; i++) {
          assertThat(counter.increment(key, 1, Math::addExact)).isEqualTo(i);
        }
        sentAfterAll = bytes(name, "sent");
        receivedAfterAll = bytes(name, "received");
        // twenty more Puts, each with its brokered AddHelper callback, and Gets
        assertThat(sentAfterAll).isGreaterThan(sentAfterOne);
        assertThat(receivedAfterAll).isGreaterThan(receivedAfterOne);
        assertThat(stats.bytesSent()).isGreaterThanOrEqualTo((long) sentAfterAll);
      }
      assertThat(stats.finished()).isTrue();
      long finalSent = stats.bytesSent();
      assertThat(finalSent).isGreaterThanOrEqualTo((long) sentAfterAll);
      assertThat(bytes(name, "sent")).isEqualTo((double) finalSent);
      assertThat(bytes(name, "received")).isEqualTo((double) stats.bytesReceived())
          .isGreaterThanOrEqualTo(receivedAfterAll);
      // the finished client's counts stay in the meter and no longer change
      assertThat(stats.bytesSent()).isEqualTo(finalSent);
    } finally {
      Files.deleteIfExists(Path.of("kv_" + key));
    }
    leaks.assertNoneWithin(Duration.ofSeconds(10));
  }

  @Test
  void aClientWithoutTheMultiplexedBrokerHasNoTransportStatsAndNoYamuxMeter() throws Exception {
    Path binary = PEERS.goPluginExample("v1.8.0", GoPeers.COUNTER_PLUGIN);
    try (PluginClient client = metrics.bindTransport(client(binary).build())) {
      assertThat(client.transportStats()).isEmpty();
    }
    assertThat(registry.find(PluginMetrics.YAMUX_BYTES).meters()).isEmpty();
  }
}
