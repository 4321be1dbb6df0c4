package dev.goplugin4j.host.internal.process;

import static org.assertj.core.api.Assertions.assertThat;

import dev.goplugin4j.host.ProcessReaper;
import dev.goplugin4j.host.ProcessReaper.Leftover;
import dev.goplugin4j.protocol.NetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Owner records beside socket dirs, the verdicts drawn from them, and the /proc parsers. */
class OwnerRecordsTest {
  @TempDir Path tmp;

  @Test
  void aHostRecordsItselfAndThePluginAndTheRecordGoesWithTheDir() throws Exception {
    Path dir = Files.createDirectory(tmp.resolve("goplugin4j-1234"));
    SocketDirOwner.recordHost(dir);
    SocketDirOwner.recordPlugin(dir, 42, 4711);

    Path record = tmp.resolve("goplugin4j-1234.owner");
    assertThat(Files.getPosixFilePermissions(record))
        .isEqualTo(java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
    Map<String, String> fields = SocketDirOwner.read(dir).orElseThrow();
    assertThat(fields).containsEntry("hosts", SocketDirOwner.thisHost())
        .containsEntry("runner", "process").containsEntry("plugin_pid", "42")
        .containsEntry("plugin_start_ticks", "4711")
        .containsKeys("boot_id", "pid_namespace", "time_namespace");

    assertThat(ProcessReaper.removeSocketDir(dir)).isTrue();
    assertThat(dir).doesNotExist();
    assertThat(record).doesNotExist();
  }

  @Test
  void nothingIsRecordedForADirectoryThatIsNotAHostsSocketDir() throws Exception {
    Path dir = Files.createDirectory(tmp.resolve("mine"));
    SocketDirOwner.recordHost(dir);
    assertThat(tmp.resolve("mine.owner")).doesNotExist();
    // and a plugin start in a dir without a record adds nothing
    Path bare = Files.createDirectory(tmp.resolve("goplugin4j-99"));
    SocketDirOwner.recordPlugin(bare, 42, 1);
    assertThat(tmp.resolve("goplugin4j-99.owner")).doesNotExist();
  }

  @Test
  void aReattachingHostIsAddedOnce() throws Exception {
    Path dir = Files.createDirectory(tmp.resolve("goplugin4j-7"));
    Files.writeString(SocketDirOwner.recordOf(dir), "hosts=1:1\n");
    SocketDirOwner.addHost(dir);
    SocketDirOwner.addHost(dir);
    assertThat(SocketDirOwner.read(dir).orElseThrow())
        .containsEntry("hosts", "1:1," + SocketDirOwner.thisHost());
  }

  @Test
  void aRecordThatIsALinkIsNotTrusted() throws Exception {
    Path dir = Files.createDirectory(tmp.resolve("goplugin4j-8"));
    Path elsewhere = Files.writeString(tmp.resolve("forged"), "hosts=1:1\nrunner=process\n");
    Files.createSymbolicLink(SocketDirOwner.recordOf(dir), elsewhere);

    assertThat(SocketDirOwner.read(dir)).isEmpty();
    assertThat(OrphanScan.judge(dir).verdict()).isEqualTo(Leftover.NO_RECORD);
  }

  @Test
  void verdictsFollowTheRecord() throws Exception {
    Map<String, String> here = SocketDirOwner.machine();
    String machine = "boot_id=" + here.get("boot_id") + "\npid_namespace=" + here.get("pid_namespace");
    String deadHost = "hosts=" + deadPid() + ":1";

    assertThat(verdict("goplugin4j-1", "hosts=" + SocketDirOwner.thisHost() + "\n" + machine))
        .isEqualTo(Leftover.LIVE_HOST);
    assertThat(verdict("goplugin4j-2", deadHost + "\nboot_id=another-boot\npid_namespace=x"))
        .isEqualTo(Leftover.OTHER_MACHINE);
    assertThat(verdict("goplugin4j-3", deadHost + "\n" + machine))
        .as("no runner recorded: a container's, or a start that never ran the plugin")
        .isEqualTo(Leftover.OTHER_RUNNER);
    assertThat(verdict("goplugin4j-4", deadHost + "\n" + machine
        + "\nrunner=process\nplugin_pid=" + deadPid() + "\nplugin_start_ticks=1"))
        .isEqualTo(Leftover.ORPHAN);
    assertThat(verdict("goplugin4j-5", null)).isEqualTo(Leftover.NO_RECORD);
    // start ticks from another time namespace are shifted: never compared
    assertThat(verdict("goplugin4j-6", "hosts=" + SocketDirOwner.thisHost() + "\n" + machine
        + "\ntime_namespace=time:[1]")).isEqualTo(Leftover.OTHER_MACHINE);
    assertThat(verdict("goplugin4j-7", "hosts=" + SocketDirOwner.thisHost() + "\n" + machine
        + "\ntime_namespace=" + here.get("time_namespace"))).isEqualTo(Leftover.LIVE_HOST);
  }

  @Test
  void reapRemovesOnlyOrphansAndKillsNothingItCannotConfirm() throws Exception {
    Map<String, String> here = SocketDirOwner.machine();
    String machine = "boot_id=" + here.get("boot_id") + "\npid_namespace=" + here.get("pid_namespace");
    String deadHost = "hosts=" + deadPid() + ":1";
    Path orphan = dirWithRecord("goplugin4j-10", deadHost + "\n" + machine
        + "\nrunner=process\nplugin_pid=" + deadPid() + "\nplugin_start_ticks=1");
    // names this very JVM as the plugin, with a wrong executable: never killed
    long self = ProcessHandle.current().pid();
    Path unconfirmed = dirWithRecord("goplugin4j-11", deadHost + "\n" + machine
        + "\nrunner=process\nplugin_pid=" + self + "\nplugin_start_ticks="
        + ProcStat.startTicks(self).getAsLong() + "\nplugin_executable=/bin/true");
    Path live = dirWithRecord("goplugin4j-12", "hosts=" + SocketDirOwner.thisHost() + "\n" + machine);

    List<Leftover> reaped = ProcessReaper.create(tmp).reapOrphans();

    assertThat(reaped).extracting(Leftover::socketDir).containsExactly(orphan);
    assertThat(orphan).doesNotExist();
    assertThat(unconfirmed).isDirectory();
    assertThat(live).isDirectory();
    assertThat(ProcessReaper.create(tmp).find()).extracting(Leftover::verdict)
        .containsExactly(Leftover.UNCONFIRMED, Leftover.LIVE_HOST);
  }

  @Test
  void procStatFieldsAreReadAfterTheLastParenthesis() {
    String stat = "4242 (a (weird) name) S 17 4242 4242 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 98765 0";
    assertThat(ProcStat.parse(stat, 1)).isEqualTo(OptionalLong.of(17));
    assertThat(ProcStat.parse(stat, 19)).isEqualTo(OptionalLong.of(98765));
    assertThat(ProcStat.parse("garbage", 1)).isEmpty();
    assertThat(ProcStat.startTicks(ProcessHandle.current().pid())).isPresent();
    assertThat(ProcStat.uptimeTicks().getAsLong())
        .isGreaterThanOrEqualTo(ProcStat.startTicks(ProcessHandle.current().pid()).getAsLong());
  }

  @Test
  void listeningUnixSocketsAreFoundByPathAndByDirectory() {
    List<String> lines = List.of(
        "Num       RefCount Protocol Flags    Type St Inode Path",
        "0000000000000000: 00000002 00000000 00010000 0001 01 111 /tmp/goplugin4j-1/plugin1.sock",
        "0000000000000000: 00000003 00000000 00000000 0001 03 222 /tmp/goplugin4j-1/plugin1.sock",
        "0000000000000000: 00000002 00000000 00010000 0001 01 333 /tmp/goplugin4j-1/sub/x.sock",
        "0000000000000000: 00000002 00000000 00010000 0001 01 444 /tmp/with space.sock",
        "0000000000000000: 00000002 00000000 00010000 0001 01 555");
    assertThat(ProcessIdentity.unixListeners(lines, "/tmp/goplugin4j-1/plugin1.sock"))
        .containsExactly("111");
    assertThat(ProcessIdentity.unixListeners(lines, "/tmp/with space.sock")).containsExactly("444");
    assertThat(ProcessIdentity.unixListenersIn(lines, Path.of("/tmp/goplugin4j-1")))
        .containsExactly("111");
  }

  @Test
  void listeningTcpSocketsAreFoundByPort() {
    List<String> lines = List.of(
        "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode",
        "   0: 0100007F:2710 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 777 1",
        "   1: 0100007F:2710 0100007F:9C40 01 00000000:00000000 00:00000000 00000000     0        0 888 1");
    assertThat(ProcessIdentity.tcpListeners(lines, 10000)).containsExactly("777");
    assertThat(ProcessIdentity.tcpListeners(lines, 10001)).isEmpty();
  }

  @Test
  void thisJvmIsNotTakenForAListenerItDoesNotHold() {
    long self = ProcessHandle.current().pid();
    assertThat(ProcessIdentity.holdsListener(self, NetAddress.unix(tmp.resolve("no.sock").toString())))
        .isFalse();
    assertThat(ProcessIdentity.executable(self)).isPresent();
  }

  // --- helpers

  private String verdict(String name, String record) throws Exception {
    return OrphanScan.judge(dirWithRecord(name, record)).verdict();
  }

  private Path dirWithRecord(String name, String record) throws Exception {
    Path dir = Files.createDirectory(tmp.resolve(name));
    if (record != null) {
      Files.writeString(SocketDirOwner.recordOf(dir), record + "\n");
    }
    return dir;
  }

  private static long deadPid() throws Exception {
    Process gone = new ProcessBuilder("true").start();
    gone.waitFor();
    return gone.pid();
  }
}
