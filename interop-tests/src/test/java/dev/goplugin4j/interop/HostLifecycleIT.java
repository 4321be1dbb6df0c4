package dev.goplugin4j.interop;

import static dev.goplugin4j.interop.InteropSupport.PEERS;
import static dev.goplugin4j.interop.InteropSupport.assertNothingLeaked;
import static dev.goplugin4j.interop.InteropSupport.assertProcessGone;
import static dev.goplugin4j.interop.InteropSupport.exampleClient;
import static dev.goplugin4j.interop.InteropSupport.pid;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.goplugin4j.host.PluginClient;
import dev.goplugin4j.host.ReattachConfig;
import dev.goplugin4j.testkit.GoPeers;
import dev.goplugin4j.testkit.Leaks;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.MethodDescriptor;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.slf4j.LoggerFactory;

/**
 * The host's lifecycle against real Go plugins: the channel customizer reaches brokered channels,
 * close() shuts a plugin down through {@code plugin.GRPCController/Shutdown} (and kills one that
 * ignores it), and a reattached client in go-plugin's test mode leaves the plugin running. Every
 * test also checks that no thread, process, socket directory or file descriptor is left.
 */
class HostLifecycleIT {
  private static final String SHUTDOWN = "plugin.GRPCController/Shutdown";

  static {
    // logging opens its file on first use; do that before any fd snapshot
    LoggerFactory.getILoggerFactory();
  }

  @TempDir Path sockets;
  private final ListAppender<ILoggingEvent> hostLog = new ListAppender<>();
  private ch.qos.logback.classic.Logger hostLogger;
  private Level oldLevel;

  @BeforeEach
  void captureHostLog() {
    // ClientSession logs as PluginClient
    hostLogger = (ch.qos.logback.classic.Logger) LoggerFactory.getLogger(PluginClient.class);
    oldLevel = hostLogger.getLevel();
    hostLogger.setLevel(Level.DEBUG);
    hostLog.start();
    hostLogger.addAppender(hostLog);
  }

  @AfterEach
  void releaseHostLog() {
    hostLogger.detachAppender(hostLog);
    hostLog.stop();
    hostLogger.setLevel(oldLevel);
  }

  /** One list of called methods per channel the client builds, in the order it builds them. */
  private static final class ChannelCalls implements Consumer<ManagedChannelBuilder<?>> {
    final List<List<String>> channels = new CopyOnWriteArrayList<>();

    @Override
    public void accept(ManagedChannelBuilder<?> builder) {
      List<String> calls = new CopyOnWriteArrayList<>();
      channels.add(calls);
      builder.intercept(new ClientInterceptor() {
        @Override
        public <Q, R> ClientCall<Q, R> interceptCall(
            MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
          calls.add(method.getFullMethodName());
          return next.newCall(method, options);
        }
      });
    }

    List<String> all() {
      return channels.stream().flatMap(List::stream).toList();
    }
  }

  private List<String> messages(Level level) {
    return hostLog.list.stream()
        .filter(e -> e.getLevel() == level)
        .map(ILoggingEvent::getFormattedMessage)
        .toList();
  }

  @ParameterizedTest(name = "multiplexed broker {0}")
  @ValueSource(booleans = {false, true})
  void theChannelCustomizerAlsoShapesChannelsTheBrokerDials(boolean multiplex) throws Exception {
    Path plugin = PEERS.badPlugin("broker-serve");
    ChannelCalls customizer = new ChannelCalls();
    Leaks leaks = Leaks.snapshotWithFds(InteropSupport.THREAD_PREFIX);
    try (PluginClient client =
        exampleClient(plugin, sockets)
            .plugin("kv", new KvPlugin())
            .multiplexBroker(multiplex)
            .channelCustomizer(customizer)
            .build()) {
      Kv kv = client.dispense("kv", Kv.class);
      // the plugin serves a second, read-only KV through broker.AcceptAndServe and answers its id
      int id = Integer.parseInt(new String(kv.get("serve"), StandardCharsets.UTF_8));
      ManagedChannel brokered = client.broker().dial(id);
      Kv brokeredKv = new KvPlugin().client(brokered, client.broker());

      assertThat(new String(brokeredKv.get("via-broker"), StandardCharsets.UTF_8))
          .isEqualTo("brokered:via-broker");
      assertThatThrownBy(() -> brokeredKv.put("k", new byte[0]))
          .hasMessageContaining("read-only");

      assertThat(customizer.channels).as("channels the customizer saw (main, brokered)").hasSize(2);
      assertThat(customizer.channels.get(0)).contains("proto.KV/Get").doesNotContain("proto.KV/Put");
      assertThat(customizer.channels.get(1)).containsExactly("proto.KV/Get", "proto.KV/Put");
    }
    assertNothingLeaked(leaks, sockets);
  }

  @ParameterizedTest(name = "go-plugin {0}")
  @MethodSource("dev.goplugin4j.interop.InteropSupport#goPluginVersions")
  void closeCallsShutdownAndThePluginExitsByItselfWithStatusZero(String version) throws Exception {
    Path plugin = PEERS.goPluginExample(version, GoPeers.KV_PLUGIN);
    ChannelCalls customizer = new ChannelCalls();
    Leaks leaks = Leaks.snapshotWithFds(InteropSupport.THREAD_PREFIX);
    long pid;
    try (PluginClient client =
        exampleClient(plugin, sockets).plugin("kv", new KvPlugin()).channelCustomizer(customizer).build()) {
      client.start();
      pid = pid(client.reattachConfig().orElseThrow());
      assertThat(customizer.all()).doesNotContain(SHUTDOWN);
    }
    assertThat(customizer.all()).containsOnlyOnce(SHUTDOWN);
    assertThat(messages(Level.DEBUG))
        .anySatisfy(m -> assertThat(m).contains("exited gracefully after Shutdown, exit status 0"));
    assertThat(messages(Level.WARN)).noneSatisfy(m -> assertThat(m).contains("failed to exit gracefully"));
    assertProcessGone(pid);
    assertNothingLeaked(leaks, sockets);
  }

  @Test
  void aPluginThatIgnoresShutdownIsKilledAfterTheGracePeriodWithAWarning() throws Exception {
    Path plugin = PEERS.badPlugin("ignore-shutdown");
    ChannelCalls customizer = new ChannelCalls();
    ByteArrayOutputStream stderr = new ByteArrayOutputStream();
    Leaks leaks = Leaks.snapshotWithFds(InteropSupport.THREAD_PREFIX);
    long pid;
    long closing;
    try (PluginClient client =
        exampleClient(plugin, sockets)
            .plugin("kv", new KvPlugin())
            .channelCustomizer(customizer)
            .stderr(stderr)
            .build()) {
      Kv kv = client.dispense("kv", Kv.class);
      kv.put("k", "v".getBytes(StandardCharsets.UTF_8));
      pid = pid(client.reattachConfig().orElseThrow());
      closing = System.nanoTime();
    }
    Duration closeTook = Duration.ofNanos(System.nanoTime() - closing);

    assertThat(customizer.all()).containsOnlyOnce(SHUTDOWN);
    assertThat(messages(Level.WARN))
        .anySatisfy(m -> assertThat(m).contains("failed to exit gracefully within 2000 ms; killing it"));
    assertThat(messages(Level.DEBUG)).noneSatisfy(m -> assertThat(m).contains("exited gracefully"));
    assertProcessGone(pid);
    // only an upper bound: the grace period is 2 s, the kill waits for the exit
    assertThat(closeTook).isLessThan(Duration.ofSeconds(10));
    synchronized (stderr) {
      assertThat(stderr.toString(StandardCharsets.UTF_8))
          .contains("ignore-shutdown: told to shut down, staying alive until killed");
    }
    assertNothingLeaked(leaks, sockets);
  }

  @Test
  void closingAReattachedClientInTestModeLeavesThePluginRunning() throws Exception {
    Path plugin = PEERS.goPluginExample(GoPeers.GO_PLUGIN_LATEST, GoPeers.KV_PLUGIN);
    String key = InteropSupport.uniqueKey("testmode");
    Leaks leaks = Leaks.snapshotWithFds(InteropSupport.THREAD_PREFIX);
    ReattachConfig rc;
    try {
      try (PluginClient first = exampleClient(plugin, sockets).plugin("kv", new KvPlugin()).build()) {
        first.dispense("kv", Kv.class).put(key, "kept".getBytes(StandardCharsets.UTF_8));
        rc = first.reattachConfig().orElseThrow();
        first.detach();
      }
      ReattachConfig testMode = new ReattachConfig(
          rc.protocol(), rc.protocolVersion(), rc.address(), rc.runnerKind(), rc.runnerId(),
          rc.runnerAttributes(), rc.multiplexed(), rc.pluginCertificate(), rc.hostCertificate(),
          rc.hostPrivateKey(), true);
      ChannelCalls customizer = new ChannelCalls();
      try (PluginClient inTestMode = reattaching(testMode).channelCustomizer(customizer).build()) {
        assertThat(inTestMode.dispense("kv", Kv.class).get(key)).asString(StandardCharsets.UTF_8).startsWith("kept");
      }
      assertThat(customizer.all()).doesNotContain(SHUTDOWN);
      assertThat(ProcessHandle.of(pid(rc)).map(ProcessHandle::isAlive)).as("plugin after a test-mode close").contains(true);

      // still serving: a normal reattach reaches it, and its close stops it for real
      try (PluginClient last = reattaching(rc).build()) {
        assertThat(last.dispense("kv", Kv.class).get(key)).asString(StandardCharsets.UTF_8).startsWith("kept");
      }
      assertProcessGone(pid(rc));
    } finally {
      InteropSupport.deleteKvFile(key);
    }
    assertNothingLeaked(leaks, sockets);
  }

  private static PluginClient.Builder reattaching(ReattachConfig rc) {
    return PluginClient.builder()
        .handshake(
            ExampleHandshake.PROTOCOL_VERSION,
            ExampleHandshake.MAGIC_COOKIE_KEY,
            ExampleHandshake.MAGIC_COOKIE_VALUE)
        .plugin("kv", new KvPlugin())
        .reattach(rc)
        .startTimeout(InteropSupport.START_TIMEOUT);
  }
}
