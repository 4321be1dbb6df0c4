package dev.goplugin4j.interop;

import static dev.goplugin4j.interop.InteropSupport.PEERS;
import static dev.goplugin4j.interop.InteropSupport.assertNothingLeaked;
import static dev.goplugin4j.interop.InteropSupport.assertProcessGone;
import static dev.goplugin4j.interop.InteropSupport.exampleClient;
import static dev.goplugin4j.interop.InteropSupport.pid;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.goplugin4j.host.PluginClient;
import dev.goplugin4j.host.PluginStartException;
import dev.goplugin4j.host.ProcessIdentityException;
import dev.goplugin4j.host.ReattachConfig;
import dev.goplugin4j.testkit.GoPeers;
import dev.goplugin4j.testkit.Leaks;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * Hostile plugin lifecycles with real processes: a plugin that exits while a helper it forked
 * keeps its stdout and stderr open, and a reattach config edited to name an unrelated process.
 * Each ends in a typed exception, in time, and leaves nothing (threads, fds, children, the helper,
 * socket directories); the unrelated process is never killed.
 */
class HostileLifecycleIT {
  static {
    LoggerFactory.getILoggerFactory();
  }

  private static final Duration START_TIMEOUT = Duration.ofSeconds(5);

  @TempDir Path sockets;
  @TempDir Path work;

  @BeforeAll
  static void resolvePeers() {
    PEERS.goPluginExample(GoPeers.GO_PLUGIN_LATEST, GoPeers.KV_PLUGIN);
  }

  @Test
  void aPluginThatExitsWhileAHelperHoldsItsStdoutFailsInTimeAndCloseKillsTheHelper()
      throws Exception {
    Path helperPid = work.resolve("helper.pid");
    Path plugin = Files.writeString(work.resolve("plugin.sh"), String.join("\n",
        "#!/bin/sh",
        "sleep 60 &",
        "echo $! > '" + helperPid + "'",
        // a moment for the host to see the pipes (see docs/security.md for an exit within ~1 ms)
        "sleep 0.1",
        "exit 0",
        ""));
    Files.setPosixFilePermissions(plugin, PosixFilePermissions.fromString("rwx------"));
    Leaks leaks = Leaks.snapshotWithFds(InteropSupport.THREAD_PREFIX);
    long elapsed;
    try (PluginClient client = exampleClient(plugin, sockets)
        .plugin("kv", new KvPlugin())
        .startTimeout(START_TIMEOUT)
        .build()) {
      long t0 = System.nanoTime();
      assertThatThrownBy(client::start)
          .isInstanceOf(PluginStartException.class)
          .hasMessageContaining("plugin exited before we could connect (exit status 0)");
      elapsed = System.nanoTime() - t0;
    }
    assertThat(Duration.ofNanos(elapsed)).as("time to fail")
        .isLessThan(START_TIMEOUT.plusSeconds(1));
    long helper = Long.parseLong(Files.readString(helperPid).strip());
    assertThat(gone(helper)).as("the helper that held the plugin's stdout, after close()").isTrue();
    assertNothingLeaked(leaks, sockets);
  }

  @Test
  void aReattachConfigEditedToNameAnUnrelatedProcessFailsTypedAndThatProcessLives()
      throws Exception {
    Path plugin = PEERS.goPluginExample(GoPeers.GO_PLUGIN_LATEST, GoPeers.KV_PLUGIN);
    Leaks leaks = Leaks.snapshotWithFds(InteropSupport.THREAD_PREFIX);
    Process unrelated = new ProcessBuilder("sleep", "300").directory(Path.of("/").toFile()).start();
    ReattachConfig rc;
    try {
      try (PluginClient first = exampleClient(plugin, sockets).plugin("kv", new KvPlugin())
          .build()) {
        first.start();
        rc = first.reattachConfig().orElseThrow();
        first.detach();
      }
      // the pid and start (time and ticks) edited to match the unrelated process, the rest the plugin's
      Map<String, String> attributes = new TreeMap<>(rc.runnerAttributes());
      attributes.put("start_time", Long.toString(
          unrelated.toHandle().info().startInstant().orElseThrow().toEpochMilli()));
      String stat = Files.readString(Path.of("/proc", Long.toString(unrelated.pid()), "stat"));
      attributes.put("start_ticks", stat.substring(stat.lastIndexOf(')') + 2).split(" ")[19]);
      ReattachConfig edited = new ReattachConfig(rc.protocol(), rc.protocolVersion(), rc.address(),
          rc.runnerKind(), Long.toString(unrelated.pid()), attributes, rc.multiplexed(),
          rc.pluginCertificate(), rc.hostCertificate(), rc.hostPrivateKey(), false);
      // ... and with its executable too: the socket still tells
      attributes.put("executable",
          Files.readSymbolicLink(Path.of("/proc", Long.toString(unrelated.pid()), "exe")).toString());
      ReattachConfig editedFully = new ReattachConfig(rc.protocol(), rc.protocolVersion(),
          rc.address(), rc.runnerKind(), Long.toString(unrelated.pid()), attributes,
          rc.multiplexed(), rc.pluginCertificate(), rc.hostCertificate(), rc.hostPrivateKey(), false);

      for (ReattachConfig bad : new ReattachConfig[] {edited, editedFully}) {
        try (PluginClient client = reattaching(bad)) {
          assertThatThrownBy(client::start)
              .isInstanceOf(ProcessIdentityException.class)
              .hasMessageContaining("process " + unrelated.pid() + " is not the plugin")
              .hasMessageContaining("nothing was killed");
        }
        assertThat(unrelated.isAlive()).as("the unrelated process").isTrue();
      }

      // the real plugin still serves; a reattach and close stop it
      try (PluginClient last = reattaching(rc)) {
        last.start();
      }
      assertProcessGone(pid(rc));
    } finally {
      unrelated.destroyForcibly().waitFor();
    }
    assertNothingLeaked(leaks, sockets);
  }

  private static PluginClient reattaching(ReattachConfig rc) {
    return PluginClient.builder()
        .handshake(
            ExampleHandshake.PROTOCOL_VERSION,
            ExampleHandshake.MAGIC_COOKIE_KEY,
            ExampleHandshake.MAGIC_COOKIE_VALUE)
        .plugin("kv", new KvPlugin())
        .reattach(rc)
        .startTimeout(START_TIMEOUT)
        .build();
  }

  /** Gone, or a zombie (this container's PID 1 may not reap orphans). */
  private static boolean gone(long pid) throws InterruptedException {
    long deadline = System.nanoTime() + InteropSupport.CLEANUP.toNanos();
    while (System.nanoTime() < deadline) {
      try {
        String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"),
            StandardCharsets.US_ASCII);
        if (stat.charAt(stat.lastIndexOf(')') + 2) == 'Z') {
          return true;
        }
      } catch (NoSuchFileException e) {
        return true;
      } catch (IOException e) {
        throw new AssertionError(e);
      }
      Thread.sleep(20);
    }
    return false;
  }
}
