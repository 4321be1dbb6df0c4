package dev.goplugin4j.container;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.goplugin4j.container.internal.Engine;
import dev.goplugin4j.container.internal.Labels;
import dev.goplugin4j.host.PluginClient;
import dev.goplugin4j.host.PluginStartException;
import dev.goplugin4j.host.ReattachConfig;
import dev.goplugin4j.interop.Storage;
import dev.goplugin4j.interop.StorageCounter;
import dev.goplugin4j.interop.StorageCounterPlugin;
import dev.goplugin4j.protocol.PluginException;
import dev.goplugin4j.testkit.Leaks;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * End to end with the host client, as plugincontainer's own tests do: plugincontainer's
 * plugin-counter in a container, its storage served by the host through the broker, AutoMTLS on.
 */
@ExtendWith(NoLeftoverContainers.class)
class PluginClientContainerIT {
  private static final Logger LOG = LoggerFactory.getLogger(PluginClientContainerIT.class);
  private static final int SOCKET_GID = 1500;

  /** The in-memory storage plugincontainer's tests use (RemoteRunnerIT uses it too). */
  static final class MemoryStorage implements Storage {
    final Map<String, Long> data = new ConcurrentHashMap<>();

    @Override
    public long get(String key) {
      return data.getOrDefault(key, 0L);
    }

    @Override
    public void put(String key, long value) {
      data.put(key, value);
    }
  }

  private static PluginClient.Builder client(ContainerConfig config) {
    return host().runner(config);
  }

  private static PluginClient.Builder host() {
    return PluginClient.builder()
        .handshake(1, "BASIC_PLUGIN", "hello")
        .plugin("counter", new StorageCounterPlugin())
        .autoMtls(true)
        .skipHostEnv(true)
        .unixSocketTempDir(socketParent())
        .startTimeout(Duration.ofSeconds(60));
  }

  private static java.nio.file.Path socketParent() {
    try {
      return Files.createDirectories(ItSupport.SOCKET_DIRS);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static void exercise(PluginClient client) {
    StorageCounter counter = client.dispense("counter", StorageCounter.class);
    MemoryStorage storage = new MemoryStorage();
    assertThat(counter.increment("hello", 1, storage)).isEqualTo(1);
    assertThat(counter.increment("hello", 2, storage)).isEqualTo(3);
    assertThat(counter.increment("world", 2, storage)).isEqualTo(2);
    assertThat(storage.data).containsEntry("hello", 3L).containsEntry("world", 2L);
  }

  private static String containerId(PluginClient client) {
    return client.reattachConfig().orElseThrow().runnerId();
  }

  /** Every way of naming the image, under runc and runsc. */
  static Stream<Arguments> runtimesAndImageRefs() {
    String id = TestImages.imageIdLazy(TestImages.COUNTER + ":latest");
    String hex = id.substring("sha256:".length());
    List<Arguments> list = new ArrayList<>();
    for (String runtime : List.of("runc", "runsc")) {
      list.add(Arguments.of(runtime, "name", (UnaryOperator<ContainerConfig.Builder>) b -> b));
      list.add(Arguments.of(runtime, "name and tag",
          (UnaryOperator<ContainerConfig.Builder>) b -> b.tag("latest")));
      list.add(Arguments.of(runtime, "name and sha256",
          (UnaryOperator<ContainerConfig.Builder>) b -> b.sha256(hex)));
      list.add(Arguments.of(runtime, "name, tag and sha256",
          (UnaryOperator<ContainerConfig.Builder>) b -> b.tag("latest").sha256(hex)));
      list.add(Arguments.of(runtime, "name and sha256:-prefixed id",
          (UnaryOperator<ContainerConfig.Builder>) b -> b.sha256(id)));
    }
    return list.stream();
  }

  @ParameterizedTest(name = "{0}: {1}")
  @MethodSource("runtimesAndImageRefs")
  void counterIncrementsThroughHostStorageInAContainer(String runtime, String how,
      UnaryOperator<ContainerConfig.Builder> imageRef) {
    ContainerConfig config = imageRef.apply(ContainerConfig.builder().image(TestImages.COUNTER))
        .runtime(runtime).groupAdd(SOCKET_GID).build();
    String id;
    Leaks leaks = Leaks.snapshot("goplugin4j-");
    long t0 = System.nanoTime();
    try (PluginClient client = client(config).unixSocketGroup(Integer.toString(SOCKET_GID))
        .build()) {
      client.start();
      LOG.info("{} / {}: PluginClient start (container create -> handshake -> connected) {} ms",
          runtime, how, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
      id = containerId(client);
      exercise(client);
    }
    assertThat(ItSupport.inspect(id)).as("close removes the container").isEmpty();
    // no runner thread (output pump, exit wait) or client thread outlives the client
    leaks.assertNoneWithin(Duration.ofSeconds(10));
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"runc", "runsc"})
  void nonRootContainerUserWorksThroughTheSharedGroup(String runtime) {
    ContainerConfig config = ContainerConfig.builder().image(TestImages.COUNTER).tag("nonroot")
        .runtime(runtime).groupAdd(SOCKET_GID).build();
    String id;
    try (PluginClient client = client(config).unixSocketGroup(Integer.toString(SOCKET_GID))
        .build()) {
      client.start();
      id = containerId(client);
      assertThat(ItSupport.inspect(id).orElseThrow().raw().path("Config").path("User").asText())
          .isEqualTo(TestImages.NONROOT_UID + ":" + TestImages.NONROOT_UID);
      exercise(client);
    }
    assertThat(ItSupport.inspect(id)).isEmpty();
  }

  @Test
  void mlockWorksWithCapIpcLock() {
    ContainerConfig config = ContainerConfig.builder().image(TestImages.COUNTER)
        .runtime("runc").env("MLOCK", "true").capIpcLock(true).build();
    try (PluginClient client = client(config).build()) {
      exercise(client);
    }
  }

  @Test
  void mlockFailsWithoutCapIpcLock() {
    ContainerConfig config = ContainerConfig.builder().image(TestImages.COUNTER)
        .runtime("runc").env("MLOCK", "true").debug(true).build();
    try (PluginClient client = client(config).build()) {
      assertThatThrownBy(client::start).isInstanceOf(PluginException.class)
          .hasMessageContaining("Mlockall");
    }
  }

  @Test
  void detachLeavesTheContainerRunningAndNoThreadBehindAndALaterHostReattachesAndKills() {
    ContainerConfig config = ContainerConfig.builder().image(TestImages.COUNTER).runtime("runc")
        .build();
    Leaks leaks = Leaks.snapshot("goplugin4j-");
    PluginClient first = client(config).build();
    String json;
    String id;
    try {
      first.start();
      exercise(first);
      ReattachConfig rc = first.reattachConfig().orElseThrow();
      assertThat(rc.runnerKind()).isEqualTo(ReattachConfig.KIND_CONTAINER);
      assertThat(rc.runnerAttributes()).containsKeys(ContainerRunners.ATTR_SOCKET_DIR,
          ContainerRunners.ATTR_ENGINE);
      json = rc.toJson();
      id = rc.runnerId();
    } finally {
      first.detach();
    }
    assertThat(ItSupport.inspect(id)).hasValueSatisfying(i -> assertThat(i.running()).isTrue());
    // detach released the runner's output pump, exit wait and engine connections too
    leaks.assertNoneWithin(Duration.ofSeconds(10));

    PluginClient second = host()
        .reattach(ReattachConfig.fromJson(json), ContainerRunners.reattacher()).build();
    try {
      // Only the main connection: go-plugin's non-multiplexed broker closes for good when the
      // first host's broker stream ends (gRPCBrokerServer.StartStream defers Close), so
      // broker-backed calls cannot work after any reattach, with or without containers.
      second.start();
      second.ping();
      assertThat(second.dispense("counter", StorageCounter.class)).isNotNull();
    } finally {
      second.detach();
    }
    assertThat(ItSupport.inspect(id)).hasValueSatisfying(i -> assertThat(i.running()).isTrue());
    // the reattached runner's release closed its engine connection and its exit wait
    leaks.assertNoneWithin(Duration.ofSeconds(10));

    try (PluginClient third = host()
        .reattach(ReattachConfig.fromJson(json), ContainerRunners.reattacher()).build()) {
      third.start();
      third.ping();
    }
    assertThat(ItSupport.inspect(id)).as("the reattached host's close removes it").isEmpty();
    leaks.assertNoneWithin(Duration.ofSeconds(10));
  }

  @Test
  void multiplexedPluginEndsWithItsHostsConnectionSoReattachAfterDetachIsRefusedAndNothingIsLeft()
      throws Exception {
    ContainerConfig config = ContainerConfig.builder().image(TestImages.COUNTER).runtime("runc")
        .build();
    Leaks leaks = Leaks.snapshot("goplugin4j-");
    ReattachConfig rc;
    PluginClient first = client(config).multiplexBroker(true).build();
    try {
      first.start();
      exercise(first);
      rc = first.reattachConfig().orElseThrow();
      assertThat(rc.multiplexed()).isTrue();
    } finally {
      first.detach();
    }
    leaks.assertNoneWithin(Duration.ofSeconds(10));
    // go-plugin's GRPCServerMuxer accepts one connection for the plugin's life: when that yamux
    // session ends, its gRPC server stops serving and the plugin exits (auto-removed).
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (ItSupport.inspect(rc.runnerId()).map(i -> i.running()).orElse(false)
        && System.nanoTime() < deadline) {
      Thread.sleep(100);
    }
    assertThat(ItSupport.inspect(rc.runnerId()).map(i -> i.running()).orElse(false))
        .as("the multiplexed plugin exits once its only host connection is gone").isFalse();
    try (PluginClient second = host().multiplexBroker(true)
        .reattach(ReattachConfig.fromJson(rc.toJson()), ContainerRunners.reattacher()).build()) {
      assertThatThrownBy(second::start).isInstanceOf(ContainerException.class)
          .hasMessageContaining("cannot reattach").hasMessageContaining(rc.runnerId());
    } finally {
      ItSupport.deleteSocketDir(java.nio.file.Path.of(
          rc.runnerAttributes().get(ContainerRunners.ATTR_SOCKET_DIR)));
    }
    leaks.assertNoneWithin(Duration.ofSeconds(10));
  }

  @Test
  void startTimeoutOnAPluginThatNeverHandshakesFailsTypedWithDiagnosisAndRemovesTheContainer() {
    String pluginName = "start-timeout-it";
    ContainerConfig config = ContainerConfig.builder().image(TestImages.HANG)
        .pluginName(pluginName).build();
    Leaks leaks = Leaks.snapshot("goplugin4j-");
    long t0 = System.nanoTime();
    try (PluginClient client = client(config).startTimeout(Duration.ofSeconds(3)).build()) {
      assertThatThrownBy(client::start).isInstanceOf(PluginStartException.class)
          .hasMessageContaining("timeout while waiting for plugin to start")
          .hasMessageContaining("3000 ms")
          .hasMessageContaining("Image ref: " + TestImages.HANG)
          .hasMessageContaining("Engine: " + ItSupport.ENGINE);
    }
    long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    assertThat(millis).as("start gave up at the timeout (plus the kill grace)").isLessThan(15_000);
    try (Engine e = ItSupport.engine()) {
      assertThat(e.listByLabel(Labels.PLUGIN, pluginName)).as("the container is gone").isEmpty();
    }
    leaks.assertNoneWithin(Duration.ofSeconds(10));
  }
}
