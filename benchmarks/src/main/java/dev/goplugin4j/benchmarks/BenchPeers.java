package dev.goplugin4j.benchmarks;

import dev.goplugin4j.host.PluginClient;
import dev.goplugin4j.interop.ExampleHandshake;
import dev.goplugin4j.testkit.GoPeers;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where the benchmarks find the Go binaries they drive. {@link BenchMain} resolves each once and
 * hands the paths to JMH's forked JVMs as system properties, so a fork never builds; run without
 * them (e.g. from an IDE) a benchmark builds the peer itself through {@link GoPeers} (cached).
 *
 * <p>Thread-safe (stateless).
 */
final class BenchPeers {
  /** The go-plugin version whose example plugins are measured. */
  static final String GO_PLUGIN_VERSION = GoPeers.GO_PLUGIN_LATEST;

  /** System property: go-plugin's examples/grpc plugin-go-grpc. */
  static final String KV_PLUGIN = "goplugin4j.bench.kvPlugin";

  /** System property: go-plugin's examples/bidirectional plugin-go-grpc. */
  static final String COUNTER_PLUGIN = "goplugin4j.bench.counterPlugin";

  /** System property: go-plugin's examples/streaming plugin. */
  static final String STREAMING_PLUGIN = "goplugin4j.bench.streamingPlugin";

  /** System property: our Go yamux driver ({@code benchmarks/src/main/go/yamuxbulk}). */
  static final String YAMUX_DRIVER = "goplugin4j.bench.yamuxDriver";

  /** System property: the image (without tag) of plugincontainer's plugin-counter. */
  static final String CONTAINER_IMAGE = "goplugin4j.bench.containerImage";

  /** The image scripts/bench.sh builds from {@link #containerPlugin()}. */
  static final String DEFAULT_CONTAINER_IMAGE = "goplugin4j-bench/plugin-counter";

  private BenchPeers() {}

  /** plugincontainer's examples/container plugin-counter, static (it goes into an image). */
  static Path containerPlugin() {
    return GoPeers.create().pluginContainerCounter();
  }

  static String containerImage() {
    return System.getProperty(CONTAINER_IMAGE, DEFAULT_CONTAINER_IMAGE);
  }

  static Path kvPlugin() {
    return fromPropertyOr(KV_PLUGIN, () -> GoPeers.create().goPluginExample(GO_PLUGIN_VERSION, GoPeers.KV_PLUGIN));
  }

  static Path counterPlugin() {
    return fromPropertyOr(
        COUNTER_PLUGIN, () -> GoPeers.create().goPluginExample(GO_PLUGIN_VERSION, GoPeers.COUNTER_PLUGIN));
  }

  static Path streamingPlugin() {
    return fromPropertyOr(
        STREAMING_PLUGIN, () -> GoPeers.create().goPluginExample(GO_PLUGIN_VERSION, GoPeers.STREAMING_PLUGIN));
  }

  static Path yamuxDriver() {
    return fromPropertyOr(YAMUX_DRIVER, () -> {
      throw new IllegalStateException(
          "-D" + YAMUX_DRIVER + " is not set: build benchmarks/src/main/go/yamuxbulk (scripts/bench.sh does)");
    });
  }

  /** A client builder for a go-plugin example plugin: its handshake, the given command. */
  static PluginClient.Builder exampleClient(Path executable) {
    return PluginClient.builder()
        .handshake(
            ExampleHandshake.PROTOCOL_VERSION,
            ExampleHandshake.MAGIC_COOKIE_KEY,
            ExampleHandshake.MAGIC_COOKIE_VALUE)
        .command(executable.toString());
  }

  private interface PathSupplier {
    Path get();
  }

  private static Path fromPropertyOr(String property, PathSupplier fallback) {
    String value = System.getProperty(property, "").strip();
    Path p = value.isEmpty() ? fallback.get() : Path.of(value);
    if (!Files.isExecutable(p)) {
      throw new IllegalStateException(property + ": " + p + " is not an executable file");
    }
    return p;
  }
}
