package dev.goplugin4j.container;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.goplugin4j.host.PluginClient;
import dev.goplugin4j.host.ReattachConfig;
import dev.goplugin4j.interop.Storage;
import dev.goplugin4j.interop.StorageCounter;
import dev.goplugin4j.interop.StorageCounterPlugin;
import dev.goplugin4j.protocol.PluginException;
import dev.goplugin4j.testkit.Leaks;
import java.nio.file.Files;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
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

  /** The in-memory storage plugincontainer's tests use. */
  private static final class MemoryStorage implements Storage {
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

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"runc", "runsc"})
  void counterIncrementsThroughHostStorageInAContainer(String runtime) {
    ContainerConfig config = ContainerConfig.builder().image(TestImages.COUNTER)
        .runtime(runtime).groupAdd(SOCKET_GID).build();
    String id;
    Leaks leaks = Leaks.snapshot("goplugin4j-");
    long t0 = System.nanoTime();
    try (PluginClient client = client(config).unixSocketGroup(Integer.toString(SOCKET_GID))
        .build()) {
      client.start();
      LOG.info("{}: PluginClient start (container create -> handshake -> connected) {} ms",
          runtime, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
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
  void newHostReattachesToARunningContainerAndKillRemovesIt() {
    ContainerConfig config = ContainerConfig.builder().image(TestImages.COUNTER).runtime("runc")
        .build();
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

    try (PluginClient second = host()
        .reattach(ReattachConfig.fromJson(json), ContainerRunners.reattacher()).build()) {
      // Only the main connection: go-plugin's non-multiplexed broker closes for good when the
      // first host's broker stream ends (gRPCBrokerServer.StartStream defers Close), so
      // broker-backed calls cannot work after any reattach, with or without containers.
      second.start();
      second.ping();
      assertThat(second.dispense("counter", StorageCounter.class)).isNotNull();
    }
    assertThat(ItSupport.inspect(id)).as("the reattached host's close removes it").isEmpty();
  }
}
