package dev.goplugin4j.interop;

import static org.assertj.core.api.Assertions.assertThat;

import dev.goplugin4j.host.PluginClient;
import dev.goplugin4j.host.ReattachConfig;
import dev.goplugin4j.testkit.GoPeers;
import dev.goplugin4j.testkit.Leaks;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;

/** Shared helpers of the interoperability ITs. */
final class InteropSupport {
  /** Thread name prefix of everything the host starts. */
  static final String THREAD_PREFIX = "goplugin4j-";

  /** How long cleanup may take after close: graceful stop is up to 2 s, then a kill. */
  static final Duration CLEANUP = Duration.ofSeconds(10);

  /** A generous start timeout: the 2-core CI machine is busy with parallel builds. */
  static final Duration START_TIMEOUT = Duration.ofSeconds(GoPeers.inCi() ? 60 : 30);

  static final GoPeers PEERS = GoPeers.create();

  private InteropSupport() {}

  /** The go-plugin versions under test. */
  static Stream<String> goPluginVersions() {
    return GoPeers.GO_PLUGIN_VERSIONS.stream();
  }

  /** A builder with the examples' handshake, a start timeout and a private socket parent. */
  static PluginClient.Builder exampleClient(Path binary, Path socketParent) {
    return PluginClient.builder()
        .handshake(
            ExampleHandshake.PROTOCOL_VERSION,
            ExampleHandshake.MAGIC_COOKIE_KEY,
            ExampleHandshake.MAGIC_COOKIE_VALUE)
        .command(binary.toString())
        .unixSocketTempDir(socketParent)
        .startTimeout(START_TIMEOUT);
  }

  /** A key no other test uses, so the upstream plugins' kv_ files never collide. */
  static String uniqueKey(String prefix) {
    return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
  }

  /** Deletes the file the upstream KV and Counter plugins keep for {@code key} in our cwd. */
  static void deleteKvFile(String key) throws IOException {
    Files.deleteIfExists(Path.of("kv_" + key));
  }

  /** The plugin's pid from its reattach config. */
  static long pid(ReattachConfig rc) {
    assertThat(rc.runnerKind()).isEqualTo(ReattachConfig.KIND_PROCESS);
    return Long.parseLong(rc.runnerId());
  }

  /**
   * Asserts that nothing the client made outlives it: no goplugin4j threads, no child process,
   * nothing left in the socket parent directory.
   */
  static void assertNothingLeaked(Leaks leaks, Path socketParent) throws IOException {
    leaks.assertNoneWithin(CLEANUP);
    try (Stream<Path> left = Files.list(socketParent)) {
      List<Path> entries = left.toList();
      assertThat(entries).as("socket directories left in " + socketParent).isEmpty();
    }
  }

  /** Asserts the process is gone within the cleanup time. */
  static void assertProcessGone(long pid) throws InterruptedException {
    long deadline = System.nanoTime() + CLEANUP.toNanos();
    while (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
      assertThat(System.nanoTime() - deadline).as("process %d still alive", pid).isNegative();
      Thread.sleep(50);
    }
  }
}
