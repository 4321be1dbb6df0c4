package dev.goplugin4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.goplugin4j.container.internal.HostClaims;
import dev.goplugin4j.container.internal.HostId;
import dev.goplugin4j.container.internal.Labels;
import dev.goplugin4j.host.ProcessReaper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code reap} on containers labelled as ours, with dead, live and foreign owners. */
class ReapIT {
  private static String create(HostId owner) {
    String image = CliImages.counter();
    return CliProcess.sh("docker", "create", "--label", Labels.MANAGED + "=true",
        "--label", Labels.OWNER + "=" + owner, "--label", Labels.PLUGIN + "=reap-it",
        "--network", "none", image).strip();
  }

  private static String createWithSocketDir(HostId owner, Path socketDir) {
    String image = CliImages.counter();
    return CliProcess.sh("docker", "create", "--label", Labels.MANAGED + "=true",
        "--label", Labels.OWNER + "=" + owner, "--label", Labels.PLUGIN + "=reap-it",
        "-v", socketDir + ":/tmp/go-plugin-container", "--network", "none", image).strip();
  }

  @Test
  void listsOrphansWithoutRemovingThenRemovesOnlyTheOrphan() throws Exception {
    Process gone = new ProcessBuilder("true").start();
    gone.waitFor();
    HostId me = HostId.current();
    HostId dead = new HostId(me.hostname(), gone.pid(), "t1");
    String orphan = create(dead);
    String live = create(me);
    String foreign = create(new HostId("some-other-machine", 1, "1"));
    // owner gone, but this live JVM reattached it: recorded beside its socket dir
    Path socketDir = Files.createTempDirectory("goplugin4j-reapit");
    String reattached = createWithSocketDir(dead, socketDir);
    HostClaims.claim(socketDir, me);
    try {
      CliProcess.Result list = CliProcess.run("reap");
      assertThat(list.status()).as(list.toString()).isZero();
      assertThat(list.out()).containsPattern(orphan.substring(0, 12) + ".*orphan.*reap-it")
          .containsPattern(live.substring(0, 12) + ".*live host")
          .containsPattern(foreign.substring(0, 12) + ".*other machine")
          .containsPattern(reattached.substring(0, 12) + ".*reattached")
          .contains("goplugin4j reap --remove");
      assertThat(CliProcess.sh("docker", "ps", "-aq", "--no-trunc", "--filter", "id=" + orphan))
          .contains(orphan);

      CliProcess.Result rm = CliProcess.run("reap", "--remove");
      assertThat(rm.status()).as(rm.toString()).isZero();
      assertThat(rm.out()).containsPattern(orphan.substring(0, 12) + ".*removed");
      assertThat(CliProcess.sh("docker", "ps", "-aq", "--no-trunc", "--filter", "id=" + orphan))
          .isBlank();
      for (String kept : List.of(live, foreign, reattached)) {
        assertThat(CliProcess.sh("docker", "ps", "-aq", "--no-trunc", "--filter", "id=" + kept))
            .contains(kept);
      }
    } finally {
      CliProcess.sh("docker", "rm", "-f", orphan, live, foreign, reattached);
      HostClaims.removeAll(socketDir);
      Files.deleteIfExists(socketDir);
    }
  }

  @Test
  void removeTakesAnOrphanedContainersSocketDirOwnerRecordAndClaimsWithIt() throws Exception {
    Process gone = new ProcessBuilder("true").start();
    gone.waitFor();
    HostId me = HostId.current();
    HostId dead = new HostId(me.hostname(), gone.pid(), "t1");
    Path parent = Files.createTempDirectory("reapit");
    Path socketDir = Files.createDirectory(parent.resolve("goplugin4j-4242"));
    Files.createFile(socketDir.resolve("plugin1234.sock"));
    Path owner = Files.writeString(parent.resolve("goplugin4j-4242.owner"), "hosts=" + gone.pid() + ":1\n");
    String orphan = createWithSocketDir(dead, socketDir);
    HostClaims.claim(socketDir, new HostId(me.hostname(), gone.pid(), "1"));
    try {
      CliProcess.Result rm = CliProcess.run("reap", "--remove", "--no-processes");
      assertThat(rm.status()).as(rm.toString()).isZero();
      assertThat(rm.out()).containsPattern(orphan.substring(0, 12) + ".*removed");
      assertThat(socketDir).doesNotExist();
      assertThat(owner).doesNotExist();
      assertThat(HostClaims.dirOf(socketDir)).doesNotExist();
    } finally {
      CliProcess.sh("docker", "rm", "-f", orphan);
      HostClaims.removeAll(socketDir);
      ProcessReaper.removeSocketDir(socketDir);
      Files.deleteIfExists(parent);
    }
  }

  @Test
  void listsAndRemovesAProcessPluginWhoseHostIsGoneKillingItOnlyWhenConfirmed() throws Exception {
    Process gone = new ProcessBuilder("true").start();
    gone.waitFor();
    Path parent = Files.createTempDirectory("reapit");
    Path socketDir = Files.createDirectory(parent.resolve("goplugin4j-777"));
    Path socket = socketDir.resolve("plugin777.sock");
    // a plugin: listens on a Unix socket in its dir
    Process plugin = new ProcessBuilder("/usr/bin/python3", "-c",
        "import socket,sys,time; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]);"
            + " s.listen(); print('up', flush=True); time.sleep(300)", socket.toString())
        .directory(Path.of("/").toFile()).start();
    Process unrelated = new ProcessBuilder("sleep", "300").directory(Path.of("/").toFile()).start();
    Path otherDir = Files.createDirectory(parent.resolve("goplugin4j-778"));
    try {
      assertThat(new String(plugin.getInputStream().readNBytes(2))).isEqualTo("up");
      writeDeadHostRecord(socketDir, gone.pid(), plugin.pid());
      // the same record, edited to name an unrelated process: never killed
      writeDeadHostRecord(otherDir, gone.pid(), unrelated.pid());

      CliProcess.Result list = CliProcess.run("reap", "--no-containers", "--socket-parent", parent.toString());
      assertThat(list.status()).as(list.toString()).isZero();
      assertThat(list.out())
          .containsPattern("goplugin4j-777\\s+orphan\\s+" + plugin.pid() + " \\(running\\)")
          .containsPattern("goplugin4j-778\\s+unconfirmed plugin\\s+" + unrelated.pid())
          .contains("goplugin4j reap --remove");

      CliProcess.Result rm = CliProcess.run("reap", "--remove", "--no-containers", "--socket-parent", parent.toString());
      assertThat(rm.status()).as(rm.toString()).isZero();
      assertThat(rm.out()).containsPattern("goplugin4j-777\\s+removed\\s+" + plugin.pid() + " \\(killed\\)");
      assertThat(plugin.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
      assertThat(socketDir).doesNotExist();
      assertThat(parent.resolve("goplugin4j-777.owner")).doesNotExist();
      assertThat(unrelated.isAlive()).isTrue();
      assertThat(otherDir).isDirectory();
    } finally {
      plugin.destroyForcibly().waitFor();
      unrelated.destroyForcibly().waitFor();
      ProcessReaper.removeSocketDir(socketDir);
      ProcessReaper.removeSocketDir(otherDir);
      Files.deleteIfExists(parent);
    }
  }

  /** What a host that died after starting a process plugin left beside the plugin's dir. */
  private static void writeDeadHostRecord(Path socketDir, long deadHostPid, long pluginPid)
      throws Exception {
    String stat = Files.readString(Path.of("/proc", Long.toString(pluginPid), "stat"));
    String ticks = stat.substring(stat.lastIndexOf(')') + 2).split(" ")[19];
    Files.writeString(socketDir.resolveSibling(socketDir.getFileName() + ".owner"), String.join("\n",
        "hosts=" + deadHostPid + ":1",
        "boot_id=" + Files.readString(Path.of("/proc/sys/kernel/random/boot_id")).strip(),
        "pid_namespace=" + Files.readSymbolicLink(Path.of("/proc/self/ns/pid")),
        "runner=process",
        "plugin_pid=" + pluginPid,
        "plugin_start_ticks=" + ticks,
        "plugin_executable=" + Path.of("/proc", Long.toString(pluginPid), "exe").toRealPath(),
        ""));
  }
}
