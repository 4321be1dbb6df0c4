package dev.goplugin4j.container;

import static org.assertj.core.api.Assertions.assertThat;

import dev.goplugin4j.container.internal.GoneHosts;
import dev.goplugin4j.container.internal.HostClaims;
import dev.goplugin4j.host.ProcessReaper;
import dev.goplugin4j.host.ProcessReaper.Leftover;
import dev.goplugin4j.host.ReattachConfig;
import dev.goplugin4j.testkit.GoPeers;
import dev.goplugin4j.testkit.Leaks;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * What a host killed with SIGKILL leaves (a container or a plugin process, its socket directory
 * with the sockets in it, the owner record and reattach claims beside it) is found and removed by
 * the reapers, and nothing else is touched: a process that a record names but that is not
 * confirmed to be the plugin lives on, and a planted link is never followed.
 */
@ExtendWith(NoLeftoverContainers.class)
class ReaperSocketDirIT {
  private static Path counter;

  private Path parent;
  private Process host;
  private Leaks leaks;

  @BeforeAll
  static void buildCounter() {
    counter = GoPeers.create().pluginContainerCounter();
  }

  @BeforeEach
  void setUp() throws IOException {
    Files.createDirectories(ItSupport.SOCKET_DIRS);
    parent = Files.createTempDirectory(ItSupport.SOCKET_DIRS, "reaper",
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    leaks = Leaks.snapshot("goplugin4j-");
  }

  @AfterEach
  void tearDown() throws Exception {
    if (host != null) {
      host.destroyForcibly().waitFor();
    }
    ProcessReaper.create(parent).reapOrphans();
    leaks.assertNoneWithin(Duration.ofSeconds(10));
    try (Stream<Path> left = Files.list(parent)) {
      assertThat(left.toList()).as("left in the socket parent").isEmpty();
    }
    Files.delete(parent);
  }

  @Test
  void reapOrphansRemovesADeadHostsContainerAndItsSocketDirOwnerRecordAndClaims() throws Exception {
    ReattachConfig rc = startThenKillHost("runc");
    Path dir = Path.of(rc.runnerAttributes().get("socket_dir"));
    assertThat(dir).isDirectory();
    try (Stream<Path> sockets = Files.list(dir)) {
      assertThat(sockets.toList()).as("the plugin's and the host's sockets").isNotEmpty();
    }
    assertThat(HostClaims.claim(dir, GoneHosts.one())).isTrue();
    assertThat(HostClaims.dirOf(dir)).isDirectory();
    assertThat(owner(dir)).isRegularFile();

    List<String> removed = ContainerReaper.create(ItSupport.ENGINE).reapOrphans();

    assertThat(removed).anyMatch(id -> id.startsWith(rc.runnerId()) || rc.runnerId().startsWith(id));
    assertThat(ItSupport.inspect(rc.runnerId())).isEmpty();
    assertThat(dir).doesNotExist();
    assertThat(HostClaims.dirOf(dir)).doesNotExist();
    assertThat(owner(dir)).doesNotExist();
  }

  @Test
  void reapOrphansKillsADeadHostsConfirmedPluginProcessAndRemovesItsSocketDir() throws Exception {
    ReattachConfig rc = startThenKillHost("process");
    Path dir = Path.of(rc.runnerAttributes().get("socket_dir"));
    long plugin = Long.parseLong(rc.runnerId());
    assertThat(ProcessHandle.of(plugin).map(ProcessHandle::isAlive)).contains(true);
    ProcessReaper reaper = ProcessReaper.create(parent);

    assertThat(reaper.find()).singleElement().satisfies(l -> {
      assertThat(l.socketDir()).isEqualTo(dir);
      assertThat(l.verdict()).isEqualTo(Leftover.ORPHAN);
      assertThat(l.pluginPid()).hasValue(plugin);
      assertThat(l.pluginRunning()).isTrue();
    });
    assertThat(reaper.reapOrphans()).extracting(Leftover::socketDir).containsExactly(dir);

    awaitGone(plugin);
    assertThat(dir).doesNotExist();
    assertThat(owner(dir)).doesNotExist();
    assertThat(reaper.find()).isEmpty();
  }

  @Test
  void aLiveHostsProcessPluginIsLeftAlone() throws Exception {
    ReattachConfig rc = startHost("process");
    Path dir = Path.of(rc.runnerAttributes().get("socket_dir"));
    ProcessReaper reaper = ProcessReaper.create(parent);

    assertThat(reaper.find()).extracting(Leftover::verdict).containsExactly(Leftover.LIVE_HOST);
    assertThat(reaper.reapOrphans()).isEmpty();

    assertThat(dir).isDirectory();
    assertThat(ProcessHandle.of(Long.parseLong(rc.runnerId())).map(ProcessHandle::isAlive))
        .contains(true);
    host.destroyForcibly().waitFor();
    assertThat(reaper.reapOrphans()).hasSize(1);
    awaitGone(Long.parseLong(rc.runnerId()));
  }

  @Test
  void aHostStoppedWithSigtermTakesItsProcessPluginAndSocketDirWithIt() throws Exception {
    ReattachConfig rc = startHost("process");
    Path dir = Path.of(rc.runnerAttributes().get("socket_dir"));
    long plugin = Long.parseLong(rc.runnerId());

    host.destroy(); // SIGTERM: the JVM runs its shutdown hooks
    assertThat(host.waitFor(30, TimeUnit.SECONDS)).isTrue();

    awaitGone(plugin);
    assertThat(dir).doesNotExist();
    assertThat(owner(dir)).doesNotExist();
    assertThat(ProcessReaper.create(parent).find()).isEmpty();
  }

  @Test
  void aHostStoppedWithSigtermTakesItsContainerAndSocketDirWithIt() throws Exception {
    ReattachConfig rc = startHost("runc");
    Path dir = Path.of(rc.runnerAttributes().get("socket_dir"));
    assertThat(ItSupport.inspect(rc.runnerId())).isPresent();

    host.destroy();
    assertThat(host.waitFor(30, TimeUnit.SECONDS)).isTrue();

    assertThat(ItSupport.inspect(rc.runnerId())).as("the plugin's container").isEmpty();
    assertThat(dir).doesNotExist();
    assertThat(HostClaims.dirOf(dir)).doesNotExist();
    assertThat(owner(dir)).doesNotExist();
  }

  @Test
  void aHostThatKeepsItsPluginOnExitLeavesItRunningForTheReaper() throws Exception {
    ReattachConfig rc = startHost("process", "keep");
    Path dir = Path.of(rc.runnerAttributes().get("socket_dir"));
    long plugin = Long.parseLong(rc.runnerId());

    host.destroy();
    assertThat(host.waitFor(30, TimeUnit.SECONDS)).isTrue();

    assertThat(ProcessHandle.of(plugin).map(ProcessHandle::isAlive)).contains(true);
    assertThat(dir).isDirectory();
    assertThat(ProcessReaper.create(parent).reapOrphans()).extracting(Leftover::socketDir)
        .containsExactly(dir);
    awaitGone(plugin);
  }

  @Test
  void anOwnerRecordEditedToNameAnUnrelatedProcessKillsNothingAndKeepsTheDir() throws Exception {
    ReattachConfig rc = startThenKillHost("process");
    Path dir = Path.of(rc.runnerAttributes().get("socket_dir"));
    long plugin = Long.parseLong(rc.runnerId());
    Process unrelated = new ProcessBuilder("sleep", "300").directory(Path.of("/").toFile()).start();
    try {
      String record = Files.readString(owner(dir));
      String ticks = Files.readString(Path.of("/proc", Long.toString(unrelated.pid()), "stat"))
          .replaceAll("^.*\\) ", "").split(" ")[19];
      Files.writeString(owner(dir), record
          .replaceAll("plugin_pid=\\d+", "plugin_pid=" + unrelated.pid())
          .replaceAll("plugin_start_ticks=\\d+", "plugin_start_ticks=" + ticks)
          .replaceAll("plugin_executable=.*", "plugin_executable="
              + Path.of("/proc", Long.toString(unrelated.pid()), "exe").toRealPath()));
      ProcessReaper reaper = ProcessReaper.create(parent);

      assertThat(reaper.find()).extracting(Leftover::verdict)
          .containsExactly(Leftover.UNCONFIRMED);
      assertThat(reaper.reapOrphans()).isEmpty();

      assertThat(unrelated.isAlive()).as("the unrelated process").isTrue();
      assertThat(dir).isDirectory();
    } finally {
      unrelated.destroyForcibly().waitFor();
      // the real plugin, for the clean-up
      ProcessHandle.of(plugin).ifPresent(ProcessHandle::destroyForcibly);
      awaitGone(plugin);
      ProcessReaper.removeSocketDir(dir);
    }
  }

  @Test
  void removeSocketDirRefusesALinkAndOtherNamesAndNeverFollowsLinksInside() throws Exception {
    Path victim = Files.createDirectory(parent.resolve("victim"));
    Path precious = Files.writeString(victim.resolve("precious"), "keep");
    Path link = Files.createSymbolicLink(parent.resolve("goplugin4j-123"), victim);
    Path otherName = Files.createDirectory(parent.resolve("not-ours"));
    Path dir = Files.createDirectory(parent.resolve("goplugin4j-456"));
    Files.createSymbolicLink(dir.resolve("escape"), victim);
    Files.createSymbolicLink(dir.resolve("escape-file"), precious);

    assertThat(ProcessReaper.removeSocketDir(link)).isFalse();
    assertThat(ProcessReaper.removeSocketDir(otherName)).isFalse();
    assertThat(ProcessReaper.removeSocketDir(dir)).isTrue();

    assertThat(link).exists();
    assertThat(Files.exists(link, LinkOption.NOFOLLOW_LINKS)).isTrue();
    assertThat(otherName).isDirectory();
    assertThat(dir).doesNotExist();
    assertThat(precious).hasContent("keep");
    Files.delete(link);
    Files.delete(otherName);
    Files.delete(precious);
    Files.delete(victim);
  }

  // --- helpers

  private static Path owner(Path dir) {
    return dir.resolveSibling(dir.getFileName() + ".owner");
  }

  private ReattachConfig startThenKillHost(String kind) throws Exception {
    ReattachConfig rc = startHost(kind);
    host.destroyForcibly();
    assertThat(host.waitFor(30, TimeUnit.SECONDS)).isTrue();
    return rc;
  }

  /** A host JVM of its own, run from {@code /}, that started the plugin and waits. */
  private ReattachConfig startHost(String kind, String... more) throws Exception {
    String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    List<String> command = new java.util.ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx128m", "-XX:TieredStopAtLevel=1", "-cp", cp,
        DeadHostMain.class.getName(), kind, parent.toString(), counter.toString()));
    command.addAll(List.of(more));
    host = new ProcessBuilder(command)
        .directory(Path.of("/").toFile())
        .redirectErrorStream(true)
        .start();
    host.getOutputStream().close();
    StringBuilder output = new StringBuilder();
    BufferedReader out = new BufferedReader(
        new InputStreamReader(host.getInputStream(), StandardCharsets.UTF_8));
    CompletableFuture<String> ready = CompletableFuture.supplyAsync(() -> {
      try {
        String line;
        while ((line = out.readLine()) != null) {
          if (line.startsWith(DeadHostMain.READY_PREFIX)) {
            return line.substring(DeadHostMain.READY_PREFIX.length());
          }
          output.append(line).append('\n');
        }
        return null;
      } catch (IOException e) {
        return null;
      }
    });
    String json = ready.get(120, TimeUnit.SECONDS);
    assertThat(json).as("the host JVM got ready; its output:\n%s", output).isNotNull();
    return ReattachConfig.fromJson(json);
  }

  private static void awaitGone(long pid) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false) && !zombie(pid)) {
      assertThat(System.nanoTime()).as("process %d is gone in time", pid).isLessThan(deadline);
      Thread.sleep(20);
    }
  }

  private static boolean zombie(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
      return stat.charAt(stat.lastIndexOf(')') + 2) == 'Z';
    } catch (IOException e) {
      return true;
    }
  }
}
