package dev.goplugin4j.micrometer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.goplugin4j.host.GrpcPlugin;
import dev.goplugin4j.host.PluginClient;
import dev.goplugin4j.host.PluginStartException;
import dev.goplugin4j.host.PluginSupervisor;
import dev.goplugin4j.interop.Counter;
import dev.goplugin4j.interop.CounterPlugin;
import dev.goplugin4j.interop.ExampleHandshake;
import dev.goplugin4j.interop.Kv;
import dev.goplugin4j.interop.KvPlugin;
import dev.goplugin4j.interop.proto.kv.GetRequest;
import dev.goplugin4j.interop.proto.kv.KVGrpc;
import dev.goplugin4j.protocol.GrpcBroker;
import dev.goplugin4j.testkit.GoPeers;
import dev.goplugin4j.testkit.Leaks;
import io.grpc.Channel;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * {@link PluginMetrics} with a real {@link SimpleMeterRegistry} against real Go plugins: go-plugin's
 * KV and bidirectional Counter examples, and testkit's flaky-kv, broker-serve and exit-early
 * peers.
 */
class PluginMetricsIT {
  static {
    LoggerFactory.getILoggerFactory();
  }

  private static final GoPeers PEERS = GoPeers.create();
  private static final String VERSION = "v1.8.0";
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
        .startTimeout(START_TIMEOUT);
  }

  private double live(String plugin) {
    return registry.get(PluginMetrics.LIVE).tag("plugin", plugin).tag("runner", "process")
        .gauge().value();
  }

  private Timer rpc(String plugin, String method, String status, String channel) {
    return registry.get(PluginMetrics.RPC).tag("plugin", plugin).tag("runner", "process")
        .tag("method", method).tag("status", status).tag("channel", channel).timer();
  }

  @Test
  void aStartCallsAndACloseGiveLiveStartsPhasesRpcTimersAndARequestedExit() throws Exception {
    Path binary = PEERS.goPluginExample(VERSION, GoPeers.KV_PLUGIN);
    String name = binary.getFileName().toString();
    String key = "metrics-" + UUID.randomUUID().toString().substring(0, 8);
    Leaks leaks = Leaks.snapshot("goplugin4j-");
    try (PluginClient client = client(binary).plugin("kv", new KvPlugin()).build()) {
      Kv kv = client.dispense("kv", Kv.class);
      assertThat(live(name)).isEqualTo(1.0);
      kv.put(key, "v".getBytes(StandardCharsets.UTF_8));
      kv.put(key, "w".getBytes(StandardCharsets.UTF_8));
      assertThat(kv.get(key)).asString(StandardCharsets.UTF_8).startsWith("w");
    } finally {
      Files.deleteIfExists(Path.of("kv_" + key));
    }
    assertThat(live(name)).isZero();
    assertThat(registry.get(PluginMetrics.STARTS).tag("plugin", name).tag("result", "started")
        .tag("cause", "none").counter().count()).isEqualTo(1.0);
    Timer start = registry.get(PluginMetrics.START_TIME).tag("plugin", name)
        .tag("result", "started").timer();
    assertThat(start.count()).isEqualTo(1);
    assertThat(start.totalTime(TimeUnit.NANOSECONDS)).isPositive();
    assertThat(registry.get(PluginMetrics.START_PHASE).tag("plugin", name).timers())
        .extracting(t -> t.getId().getTag("phase"))
        .containsExactlyInAnyOrder("prepare", "runner start", "handshake line", "handshake parse",
            "channel", "broker and stdio", "connect");
    assertThat(rpc(name, "proto.KV/Put", "OK", "main").count()).isEqualTo(2);
    assertThat(rpc(name, "proto.KV/Get", "OK", "main").count()).isEqualTo(1);
    // the client's own calls are not the application's
    assertThat(registry.find(PluginMetrics.RPC).meters())
        .extracting(m -> m.getId().getTag("method"))
        .doesNotContain("grpc.health.v1.Health/Check", "plugin.GRPCBroker/StartStream",
            "plugin.GRPCStdio/StreamStdio", "plugin.GRPCController/Shutdown");
    assertThat(registry.get(PluginMetrics.EXITS).tag("plugin", name).tag("cause", "requested")
        .counter().count()).isEqualTo(1.0);
    leaks.assertNoneWithin(Duration.ofSeconds(10));
  }

  @Test
  void aCrashCountsAnExitByItsCodeAndTheFailedCallByItsStatus() throws Exception {
    Path binary = PEERS.badPlugin("flaky-kv");
    String name = binary.getFileName().toString();
    try (PluginClient client = client(binary).plugin("kv", new KvPlugin()).build()) {
      Kv kv = client.dispense("kv", Kv.class);
      assertThatThrownBy(() -> kv.put("crash", "7".getBytes(StandardCharsets.UTF_8)))
          .isInstanceOf(StatusRuntimeException.class);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      while (registry.find(PluginMetrics.EXITS).counter() == null && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      assertThat(registry.get(PluginMetrics.EXITS).tag("plugin", name).tag("cause", "exit")
          .tag("status", "7").counter().count()).isEqualTo(1.0);
      assertThat(live(name)).as("a crashed plugin is not live").isZero();
      assertThat(registry.get(PluginMetrics.RPC).tag("plugin", name).tag("method", "proto.KV/Put")
          .timers())
          .extracting(t -> t.getId().getTag("status"))
          .singleElement().isNotEqualTo("OK");
    }
    assertThat(live(name)).as("closing a crashed client does not count it twice").isZero();
  }

  @Test
  void aFailedStartIsCountedByItsCauseAndLeavesNothingLive() {
    Path binary = PEERS.badPlugin("exit-early");
    String name = binary.getFileName().toString();
    PluginClient client = client(binary).plugin("kv", new KvPlugin()).build();
    assertThatThrownBy(client::start).isInstanceOf(PluginStartException.class);
    client.close();
    assertThat(registry.get(PluginMetrics.STARTS).tag("plugin", name).tag("result", "failed")
        .tag("cause", "PluginStartException").counter().count()).isEqualTo(1.0);
    assertThat(registry.get(PluginMetrics.START_TIME).tag("plugin", name).tag("result", "failed")
        .timer().count()).isEqualTo(1);
    assertThat(registry.find(PluginMetrics.LIVE).gauges()).allMatch(g -> g.value() == 0.0);
  }

  /** The plugin's main KV stub plus the host's broker. */
  record Offering(KVGrpc.KVBlockingStub kv, GrpcBroker broker) {}

  /** Hands out the raw stub and broker; stateless and thread-safe. */
  static final class OfferingPlugin implements GrpcPlugin<Offering> {
    @Override
    public Offering client(Channel channel, GrpcBroker broker) {
      return new Offering(KVGrpc.newBlockingStub(channel), broker);
    }
  }

  private static String get(KVGrpc.KVBlockingStub kv, String key) {
    return kv.withDeadlineAfter(30, TimeUnit.SECONDS)
        .get(GetRequest.newBuilder().setKey(key).build()).getValue().toStringUtf8();
  }

  @Test
  void brokeredChannelsAreCountedOnceEachAndTheirCallsTaggedBrokered() throws Exception {
    Path binary = PEERS.badPlugin("broker-serve");
    String name = binary.getFileName().toString();
    try (PluginClient client = client(binary).plugin("kv", new OfferingPlugin()).build()) {
      Offering offering = client.dispense("kv", Offering.class);
      for (int round = 0; round < 2; round++) {
        int id = Integer.parseInt(get(offering.kv(), "serve"));
        ManagedChannel brokered = offering.broker().dial(id);
        try {
          KVGrpc.KVBlockingStub stub = KVGrpc.newBlockingStub(brokered);
          assertThat(get(stub, "a")).isEqualTo("brokered:a");
          assertThat(get(stub, "b")).isEqualTo("brokered:b");
        } finally {
          brokered.shutdownNow();
          brokered.awaitTermination(10, TimeUnit.SECONDS);
        }
      }
    }
    assertThat(registry.get(PluginMetrics.BROKERED_CHANNELS).tag("plugin", name).counter()
        .count()).isEqualTo(2.0);
    assertThat(rpc(name, "proto.KV/Get", "OK", "brokered").count()).isEqualTo(4);
    assertThat(rpc(name, "proto.KV/Get", "OK", "main").count()).isEqualTo(2);
  }

  @Test
  void thePluginsCallsBackIntoTheHostAreTimedAsCallbacks() throws Exception {
    Path binary = PEERS.goPluginExample(VERSION, GoPeers.COUNTER_PLUGIN);
    String name = binary.getFileName().toString();
    String key = "metrics-" + UUID.randomUUID().toString().substring(0, 8);
    try (PluginClient client = client(binary).plugin("counter", new CounterPlugin()).build()) {
      Counter counter = client.dispense("counter", Counter.class);
      assertThat(counter.increment(key, 5, Math::addExact)).isEqualTo(5);
      assertThat(counter.increment(key, 3, Math::addExact)).isEqualTo(8);
    } finally {
      Files.deleteIfExists(Path.of("kv_" + key));
    }
    Timer callbacks = registry.get(PluginMetrics.CALLBACKS).tag("plugin", name)
        .tag("runner", "process").tag("method", "proto.AddHelper/Sum").tag("status", "OK").timer();
    assertThat(callbacks.count()).isEqualTo(2);
    assertThat(rpc(name, "proto.Counter/Put", "OK", "main").count()).isEqualTo(2);
    assertThat(registry.getMeters()).extracting(Meter::getId)
        .allMatch(id -> id.getName().startsWith("goplugin4j."));
  }

  @Test
  void aSupervisorThatRestartsAndGivesUpIsCountedWithEveryStartAndExitOfItsPlugin()
      throws Exception {
    Path binary = PEERS.badPlugin("flaky-kv");
    String name = binary.getFileName().toString();
    CountDownLatch gaveUp = new CountDownLatch(1);
    // the plugin exits 1.5 s after the host connected; no AutoMTLS, whose first handshake in a JVM on a
    // loaded machine can take longer than that
    try (PluginSupervisor s = PluginSupervisor.builder()
        .plugin("kv", () -> client(binary).plugin("kv", new KvPlugin())
            .autoMtls(false).env("FLAKY_EXIT_AFTER_MS", "1500"))
        .restartBackoff(Duration.ofMillis(100), Duration.ofMillis(200))
        .giveUpAfter(3, Duration.ofMinutes(5))
        .healthCheckInterval(Duration.ZERO)
        .listener(metrics)
        .listener(e -> {
          if (e instanceof PluginSupervisor.GaveUp) {
            gaveUp.countDown();
          }
        })
        .build()) {
      s.start();
      assertThat(gaveUp.await(2, TimeUnit.MINUTES)).as("gave up").isTrue();
    }
    assertThat(registry.get(PluginMetrics.SUPERVISOR_FAILURES).tag("plugin", "kv").counter()
        .count()).isEqualTo(2.0);
    assertThat(registry.get(PluginMetrics.SUPERVISOR_RESTARTS).tag("plugin", "kv").counter()
        .count()).isEqualTo(2.0);
    assertThat(registry.get(PluginMetrics.SUPERVISOR_GIVE_UPS).tag("plugin", "kv").counter()
        .count()).isEqualTo(1.0);
    assertThat(registry.get(PluginMetrics.STARTS).tag("plugin", name).tag("result", "started")
        .counter().count()).isEqualTo(3.0);
    assertThat(registry.get(PluginMetrics.EXITS).tag("plugin", name).tag("cause", "exit")
        .counters()).extracting(c -> c.count()).containsOnly(3.0);
    assertThat(live(name)).isZero();
  }
}
