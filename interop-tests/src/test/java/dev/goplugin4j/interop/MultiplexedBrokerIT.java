package dev.goplugin4j.interop;

import static dev.goplugin4j.interop.InteropSupport.PEERS;
import static dev.goplugin4j.interop.InteropSupport.assertNothingLeaked;
import static dev.goplugin4j.interop.InteropSupport.deleteKvFile;
import static dev.goplugin4j.interop.InteropSupport.exampleClient;
import static dev.goplugin4j.interop.InteropSupport.uniqueKey;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.goplugin4j.host.PluginClient;
import dev.goplugin4j.protocol.MultiplexingNotSupportedException;
import dev.goplugin4j.protocol.internal.broker.BrokerImpl;
import dev.goplugin4j.testkit.GoPeers;
import dev.goplugin4j.testkit.Leaks;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The host with go-plugin's multiplexed broker ({@code PLUGIN_MULTIPLEX_GRPC=true}) against real
 * Go plugins: one Unix socket connection, a yamux session over it, every gRPC connection a yamux
 * stream, callbacks reached through knocks.
 */
class MultiplexedBrokerIT {
  @TempDir Path sockets;

  @ParameterizedTest(name = "go-plugin {0}")
  @MethodSource("dev.goplugin4j.interop.InteropSupport#goPluginVersions")
  void counterCallbacksTravelThroughKnockedYamuxStreams(String version) throws Exception {
    Path plugin = PEERS.goPluginExample(version, GoPeers.COUNTER_PLUGIN);
    String key = uniqueKey("mux");
    Leaks leaks = Leaks.snapshot(InteropSupport.THREAD_PREFIX);
    try (PluginClient client = exampleClient(plugin, sockets)
        .plugin("counter", new CounterPlugin()).multiplexBroker(true).build()) {
      Counter counter = client.dispense("counter", Counter.class);
      assertThat(counter.increment(key, 5, (a, b) -> a + b + 1000)).isEqualTo(1005);
      assertThat(counter.increment(key, 3, (a, b) -> a + b + 1000)).isEqualTo(2008);
      assertThat(client.reattachConfig().orElseThrow().multiplexed()).isTrue();
    } finally {
      deleteKvFile(key);
    }
    assertNothingLeaked(leaks, sockets);
  }

  @Test
  void plugincontainerCounterAsAProcessGivesOneThreeTwo() throws Exception {
    Path plugin = PEERS.pluginContainerCounter();
    Map<String, Long> store = new ConcurrentHashMap<>();
    Storage storage = new Storage() {
      @Override
      public long get(String k) {
        return store.getOrDefault(k, 0L);
      }

      @Override
      public void put(String k, long v) {
        store.put(k, v);
      }
    };
    Leaks leaks = Leaks.snapshot(InteropSupport.THREAD_PREFIX);
    try (PluginClient client = exampleClient(plugin, sockets)
        .plugin("counter", new StorageCounterPlugin()).multiplexBroker(true).build()) {
      StorageCounter counter = client.dispense("counter", StorageCounter.class);
      assertThat(counter.increment("hello", 1, storage)).isEqualTo(1);
      assertThat(counter.increment("hello", 2, storage)).isEqualTo(3);
      assertThat(counter.increment("world", 2, storage)).isEqualTo(2);
    }
    assertNothingLeaked(leaks, sockets);
  }

  @Test
  void hundredsOfConcurrentBrokeredCallsNeitherDeadlockNorLeakStreams() throws Exception {
    Path plugin = PEERS.pluginContainerCounter();
    Map<String, Long> store = new ConcurrentHashMap<>();
    Storage storage = new Storage() {
      @Override
      public synchronized long get(String k) {
        return store.getOrDefault(k, 0L);
      }

      @Override
      public synchronized void put(String k, long v) {
        store.put(k, v);
      }
    };
    Leaks leaks = Leaks.snapshot(InteropSupport.THREAD_PREFIX);
    ExecutorService pool = Executors.newFixedThreadPool(128);
    try (PluginClient client = exampleClient(plugin, sockets)
        .plugin("counter", new StorageCounterPlugin()).multiplexBroker(true).build()) {
      StorageCounter counter = client.dispense("counter", StorageCounter.class);
      assertThat(counter.increment("warm-up", 1, storage)).isEqualTo(1);
      BrokerImpl broker = (BrokerImpl) client.broker();
      int baseline = awaitStreamsSettled(broker);
      AtomicInteger done = new AtomicInteger();
      List<Future<Long>> results = new ArrayList<>();
      for (int i = 0; i < 256; i++) {
        String key = "k" + i;
        results.add(pool.submit(() -> {
          long v = counter.increment(key, 7, storage);
          done.incrementAndGet();
          return v;
        }));
      }
      for (Future<Long> f : results) {
        assertThat(f.get(60, TimeUnit.SECONDS)).isEqualTo(7);
      }
      assertThat(done).hasValue(256);
      assertThat(store).hasSize(257);
      // every brokered callback's stream is closed again: only the main connection's remain
      assertStreamsReturnTo(broker, baseline);
    } finally {
      pool.shutdownNow();
      pool.awaitTermination(10, TimeUnit.SECONDS);
    }
    assertNothingLeaked(leaks, sockets);
  }

  /** Waits until the open stream count stops changing (0.5 s stable) and returns it. */
  private static int awaitStreamsSettled(BrokerImpl broker) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    int last = broker.openStreamCount();
    long stableSince = System.nanoTime();
    while (System.nanoTime() - stableSince < TimeUnit.MILLISECONDS.toNanos(500)) {
      assertThat(System.nanoTime() - deadline).as("stream count never settled").isNegative();
      Thread.sleep(20);
      int now = broker.openStreamCount();
      if (now != last) {
        last = now;
        stableSince = System.nanoTime();
      }
    }
    assertThat(last).as("streams of a multiplexed connection").isPositive();
    return last;
  }

  /** Asserts the session's open stream count comes back to {@code expected} within 10 s. */
  private static void assertStreamsReturnTo(BrokerImpl broker, int expected)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (broker.openStreamCount() != expected && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertThat(broker.openStreamCount()).as("open yamux streams (leaked if above %d)", expected)
        .isEqualTo(expected);
  }

  @Test
  void pluginWithoutMultiplexingSupportIsToldToRecompile(@TempDir Path pluginTmp) throws Exception {
    // go-plugin v1.4.x predates the multiplexed broker: its handshake has no seventh field.
    Path plugin = PEERS.goPluginExample("v1.4.8", GoPeers.KV_PLUGIN);
    // it ignores PLUGIN_UNIX_SOCKET_DIR and, killed after the refused handshake, leaves its
    // socket in TMPDIR: keep that in a directory JUnit removes rather than in /tmp
    Leaks leaks = Leaks.snapshot(InteropSupport.THREAD_PREFIX);
    try (PluginClient client = exampleClient(plugin, sockets)
        .env("TMPDIR", pluginTmp.toString())
        .plugin("kv", new KvPlugin()).multiplexBroker(true).build()) {
      // its own type, so that a host can fall back to the classic broker on this failure only
      assertThatThrownBy(client::start)
          .isInstanceOf(MultiplexingNotSupportedException.class)
          .hasMessageContaining("too old")
          .hasMessageContaining("v1.6");
    }
    assertNothingLeaked(leaks, sockets);
  }

  @Test
  void pluginDyingMidCallFailsTheCallAndLeaksNothing() throws Exception {
    Path plugin = PEERS.pluginContainerCounter();
    Leaks leaks = Leaks.snapshot(InteropSupport.THREAD_PREFIX);
    try (PluginClient client = exampleClient(plugin, sockets)
        .plugin("counter", new StorageCounterPlugin()).multiplexBroker(true).build()) {
      StorageCounter counter = client.dispense("counter", StorageCounter.class);
      long pid = InteropSupport.pid(client.reattachConfig().orElseThrow());
      BrokerImpl broker = (BrokerImpl) client.broker();
      assertThat(broker.openStreamCount()).as("streams on the live connection").isPositive();
      Storage killer = new Storage() {
        @Override
        public long get(String k) {
          // the plugin is inside Increment, waiting for this callback: kill it now
          ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
          try {
            Thread.sleep(200);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          return 0;
        }

        @Override
        public void put(String k, long v) {}
      };
      assertThatThrownBy(() -> counter.increment("x", 1, killer))
          .isInstanceOf(io.grpc.StatusRuntimeException.class);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (!client.exited() && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      assertThat(client.exited()).as("the client noticed the plugin died").isTrue();
      // the session died with the plugin: every stream on it, brokered or main, is gone
      assertStreamsReturnTo(broker, 0);
    }
    assertNothingLeaked(leaks, sockets);
  }
}
