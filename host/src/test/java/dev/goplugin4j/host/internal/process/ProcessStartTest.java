package dev.goplugin4j.host.internal.process;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Start tokens: what the records that name a host or a plugin compare a live process with. */
class ProcessStartTest {
  @Test
  void onLinuxThisJvmsTokenIsItsStartInClockTicksFromProc() throws Exception {
    String stat = Files.readString(Path.of("/proc/self/stat"));
    String ticks = stat.substring(stat.lastIndexOf(')') + 2).split(" ")[19];

    assertThat(ProcessStart.current()).isEqualTo("t" + ticks);
    assertThat(ProcessStart.of(ProcessHandle.current().pid())).hasValue("t" + ticks);
    assertThat(ProcessStart.matches(ProcessHandle.current().pid(), ProcessStart.current())).isTrue();
  }

  @Test
  void aTickTokenMatchesOnlyThatStartWhateverTheBootTimeAJvmRead() {
    long me = ProcessHandle.current().pid();
    long ticks = Long.parseLong(ProcessStart.current().substring(1));

    assertThat(ProcessStart.matches(me, "t" + (ticks + 1))).isFalse();
    assertThat(ProcessStart.matches(me, "t" + (ticks - 1))).isFalse();
  }

  @Test
  void aTokenReadsAsATimeInMessages() {
    assertThat(ProcessStart.describe("t6757335")).isEqualTo("67,573.35 s after boot");
    assertThat(ProcessStart.describe("1700000000000")).isEqualTo("2023-11-14T22:13:20Z");
    assertThat(ProcessStart.describe("soon")).isEqualTo("\"soon\"");
  }

  @Test
  void aMillisecondTokenFromAnOlderRecordMatchesWithinTheTolerance() {
    long me = ProcessHandle.current().pid();
    long millis = ProcessHandle.current().info().startInstant().orElseThrow().toEpochMilli();

    assertThat(ProcessStart.matches(me, Long.toString(millis))).isTrue();
    assertThat(ProcessStart.matches(me, Long.toString(millis + 900))).isTrue();
    assertThat(ProcessStart.matches(me, Long.toString(millis - 5000))).isFalse();
  }

  @Test
  void aGoneProcessAndMalformedTokensMatchNothing() throws Exception {
    Process gone = new ProcessBuilder("true").start();
    String token = ProcessStart.of(gone.pid()).orElse("t1");
    gone.waitFor();

    assertThat(ProcessStart.matches(gone.pid(), token)).isFalse();
    long me = ProcessHandle.current().pid();
    for (String bad : new String[] {null, "", "t", "tt1", "-1", "t-1", "12a", " 1"}) {
      assertThat(ProcessStart.isToken(bad)).as(bad).isFalse();
      assertThat(ProcessStart.matches(me, bad)).as(bad).isFalse();
    }
    // what a JVM records when its OS tells no start: a token that names no process
    assertThat(ProcessStart.matches(me, "0")).isFalse();
    assertThat(ProcessStart.matches(me, "t0")).isFalse();
  }

  @Test
  void aHostEntryInTicksIsAliveAndOneWithAnotherStartIsNot() {
    long me = ProcessHandle.current().pid();
    long ticks = Long.parseLong(ProcessStart.current().substring(1));

    assertThat(SocketDirOwner.thisHost()).isEqualTo(me + ":t" + ticks);
    assertThat(SocketDirOwner.hostAlive(me + ":t" + ticks)).isTrue();
    assertThat(SocketDirOwner.hostAlive(me + ":t" + (ticks + 100))).isFalse();
    assertThat(SocketDirOwner.hostAlive("garbage")).isFalse();
  }
}
