package dev.goplugin4j.interop;

import static dev.goplugin4j.interop.InteropSupport.PEERS;
import static dev.goplugin4j.interop.InteropSupport.assertNothingLeaked;
import static dev.goplugin4j.interop.InteropSupport.exampleClient;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.goplugin4j.host.PluginClient;
import dev.goplugin4j.testkit.GoPeers;
import dev.goplugin4j.testkit.Leaks;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * The host against go-plugin's examples/streaming plugin (exists from v1.8.0 on): client- and
 * server-streaming calls in chunks.
 */
class StreamingIT {
  static {
    // logging opens its file on first use; do that before any fd snapshot
    LoggerFactory.getILoggerFactory();
  }

  @TempDir Path sockets;
  @TempDir Path files;

  @Test
  void streamerWritesInChunksAndReadsTheSameBytesBack() throws Exception {
    Path plugin = PEERS.goPluginExample(GoPeers.GO_PLUGIN_LATEST, GoPeers.STREAMING_PLUGIN);
    Path file = files.resolve("lorem.txt");
    byte[] text = "Lorem ipsum dolor sit amet".getBytes(StandardCharsets.UTF_8);
    Leaks leaks = Leaks.snapshotWithFds(InteropSupport.THREAD_PREFIX);
    try (PluginClient client =
        exampleClient(plugin, sockets).plugin("streamer", new StreamerPlugin()).build()) {
      Streamer streamer = client.dispense("streamer", Streamer.class);
      streamer.configure(file.toString(), 10);

      streamer.write(text);
      byte[] back = streamer.read();

      assertThat(Files.readAllBytes(file)).isEqualTo(text);
      assertThat(back).isEqualTo(text);
    }
    assertNothingLeaked(leaks, sockets);
  }

  @Test
  void streamerMovesEightMebibytesInSmallChunksBothWays() throws Exception {
    Path plugin = PEERS.goPluginExample(GoPeers.GO_PLUGIN_LATEST, GoPeers.STREAMING_PLUGIN);
    Path file = files.resolve("big.bin");
    byte[] data = new byte[8 << 20];
    new Random(42).nextBytes(data);
    Leaks leaks = Leaks.snapshotWithFds(InteropSupport.THREAD_PREFIX);
    try (PluginClient client =
        exampleClient(plugin, sockets).plugin("streamer", new StreamerPlugin()).autoMtls(true).build()) {
      Streamer streamer = client.dispense("streamer", Streamer.class);
      streamer.configure(file.toString(), 4096);

      streamer.write(data);
      byte[] back = streamer.read();

      assertThat(Files.size(file)).isEqualTo(data.length);
      assertThat(back).isEqualTo(data);
    }
    assertNothingLeaked(leaks, sockets);
  }

  @Test
  void readOfAMissingFileFailsWithThePluginsStatusAndTheStreamerStaysUsable() throws Exception {
    Path plugin = PEERS.goPluginExample(GoPeers.GO_PLUGIN_LATEST, GoPeers.STREAMING_PLUGIN);
    Path file = files.resolve("after.bin");
    byte[] data = "still works".getBytes(StandardCharsets.UTF_8);
    Leaks leaks = Leaks.snapshotWithFds(InteropSupport.THREAD_PREFIX);
    try (PluginClient client =
        exampleClient(plugin, sockets).plugin("streamer", new StreamerPlugin()).build()) {
      Streamer streamer = client.dispense("streamer", Streamer.class);
      streamer.configure(files.resolve("missing.bin").toString(), 1024);

      assertThatThrownBy(streamer::read).isInstanceOf(StatusRuntimeException.class)
          .hasMessageContaining("missing.bin");

      streamer.configure(file.toString(), 4);
      streamer.write(data);
      assertThat(streamer.read()).isEqualTo(data);
    }
    assertNothingLeaked(leaks, sockets);
  }

  @Test
  void anInterruptedReadIsCancelledKeepsTheInterruptAndTheStreamerStaysUsable() throws Exception {
    Path plugin = PEERS.goPluginExample(GoPeers.GO_PLUGIN_LATEST, GoPeers.STREAMING_PLUGIN);
    Path file = files.resolve("interrupted.bin");
    byte[] data = new byte[1 << 20];
    new Random(3).nextBytes(data);
    Leaks leaks = Leaks.snapshotWithFds(InteropSupport.THREAD_PREFIX);
    try (PluginClient client =
        exampleClient(plugin, sockets).plugin("streamer", new StreamerPlugin()).build()) {
      Streamer streamer = client.dispense("streamer", Streamer.class);
      streamer.configure(file.toString(), 4096);
      streamer.write(data);

      Thread.currentThread().interrupt();
      assertThatThrownBy(streamer::read).isInstanceOfSatisfying(StatusRuntimeException.class,
          e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.CANCELLED));
      assertThat(Thread.interrupted()).as("interrupt kept").isTrue();

      assertThat(streamer.read()).isEqualTo(data);
    }
    assertNothingLeaked(leaks, sockets);
  }

  @Test
  void aWriteThePluginCannotStoreFailsWithItsStatusAndTheStreamerStaysUsable() throws Exception {
    Path plugin = PEERS.goPluginExample(GoPeers.GO_PLUGIN_LATEST, GoPeers.STREAMING_PLUGIN);
    Path file = files.resolve("after-write.bin");
    byte[] data = new byte[3 << 20];
    new Random(5).nextBytes(data);
    Leaks leaks = Leaks.snapshotWithFds(InteropSupport.THREAD_PREFIX);
    try (PluginClient client =
        exampleClient(plugin, sockets).plugin("streamer", new StreamerPlugin()).autoMtls(true).build()) {
      Streamer streamer = client.dispense("streamer", Streamer.class);
      // a directory: the plugin takes every chunk, then fails to open it for writing
      streamer.configure(files.toString(), 65536);

      assertThatThrownBy(() -> streamer.write(data)).isInstanceOf(StatusRuntimeException.class)
          .hasMessageContaining(files.getFileName().toString());

      streamer.configure(file.toString(), 65536);
      streamer.write(data);
      assertThat(streamer.read()).isEqualTo(data);
    }
    assertNothingLeaked(leaks, sockets);
  }
}
