package dev.goplugin4j.interop;

import static dev.goplugin4j.interop.InteropSupport.PEERS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.goplugin4j.host.PluginClient;
import dev.goplugin4j.protocol.PluginException;
import dev.goplugin4j.testkit.GoPeers;
import dev.goplugin4j.testkit.Leaks;
import java.lang.ref.Reference;
import java.lang.ref.WeakReference;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.slf4j.LoggerFactory;

/**
 * A closed {@link PluginClient} that the application still references costs next to nothing: the
 * gRPC channel (with its Netty buffers and event loops) and the broker (with its muxer) it handed
 * to the plugin adapter become unreachable once close() returns, while the client object lives on.
 */
class ClosedClientReleasesIT {
  static {
    LoggerFactory.getILoggerFactory();
  }

  @TempDir Path sockets;

  @BeforeAll
  static void resolvePeers() {
    PEERS.goPluginExample(GoPeers.GO_PLUGIN_LATEST, GoPeers.KV_PLUGIN);
  }

  @ParameterizedTest(name = "multiplexBroker({0})")
  @ValueSource(booleans = {false, true})
  void aClosedClientStillReferencedHoldsNeitherChannelNorBroker(boolean multiplex)
      throws Exception {
    Leaks leaks = Leaks.snapshotWithFds(InteropSupport.THREAD_PREFIX);
    List<WeakReference<Object>> handedOut = new ArrayList<>();
    Path plugin = PEERS.goPluginExample(GoPeers.GO_PLUGIN_LATEST, GoPeers.KV_PLUGIN);
    PluginClient client = InteropSupport.exampleClient(plugin, sockets)
        .plugins(ExampleHandshake.PROTOCOL_VERSION, Map.of("kv", (channel, broker) -> {
          handedOut.add(new WeakReference<>(channel));
          handedOut.add(new WeakReference<>(broker));
          return new Object();
        }))
        .multiplexBroker(multiplex)
        .build();
    client.start();
    client.dispense("kv", Object.class);
    assertThat(handedOut).hasSize(2).allMatch(r -> r.get() != null);

    client.close();

    long deadline = System.nanoTime() + 10_000_000_000L;
    while (handedOut.stream().anyMatch(r -> r.get() != null) && System.nanoTime() < deadline) {
      System.gc();
      Thread.sleep(50);
    }
    assertThat(handedOut.stream().map(Reference::get).toList())
        .as("channel and broker of a closed client that is still referenced")
        .containsOnlyNulls();
    assertThat(client.exited()).isTrue();
    assertThat(client.toString()).contains("closed");
    Reference.reachabilityFence(client);
    InteropSupport.assertNothingLeaked(leaks, sockets);
  }

  /**
   * Issue 11: close() right after a failed dispense used to log "WARN ... stdio stream failed:
   * UNKNOWN: channel closed" now and then. A normal close logs nothing above DEBUG.
   */
  @Test
  void closeAfterAFailedDispenseRightAfterStartLogsNothingAboveDebug() throws Exception {
    Path plugin = PEERS.goPluginExample(GoPeers.GO_PLUGIN_LATEST, GoPeers.KV_PLUGIN);
    ch.qos.logback.classic.Logger hostLogger =
        (ch.qos.logback.classic.Logger) LoggerFactory.getLogger(PluginClient.class);
    ListAppender<ILoggingEvent> events = new ListAppender<>();
    events.start();
    hostLogger.addAppender(events);
    try {
      for (int i = 0; i < 5; i++) {
        try (PluginClient client = InteropSupport.exampleClient(plugin, sockets)
            .plugin("kv", new KvPlugin()).build()) {
          client.start();
          assertThatThrownBy(() -> client.dispense("no-such-plugin", Object.class))
              .isInstanceOf(PluginException.class);
        }
      }
    } finally {
      hostLogger.detachAppender(events);
    }
    assertThat(events.list)
        .filteredOn(e -> e.getLevel().isGreaterOrEqual(Level.INFO))
        .extracting(ILoggingEvent::getFormattedMessage)
        .isEmpty();
  }
}
