package dev.goplugin4j.host.internal.process;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class PidOrderTest {
  private static final long MAX = 32_768;

  @Test
  void theSpawnedPidIsTheFloorWhenTheCounterCannotHaveReachedPidMax() {
    // 100 tasks created since, 300 alive before: at most 100 + 3 * 400 pids above 20,000
    assertThat(PidOrder.floor(20_000, 5_000, 300, 5_100, MAX)).isEqualTo(20_000);
  }

  @Test
  void aSpawnedPidTooCloseToPidMaxLooksAtEveryPid() {
    // 20 created, 300 alive: the counter may have passed 32,768 and wrapped
    assertThat(PidOrder.floor(31_800, 5_000, 300, 5_020, MAX)).isZero();
    assertThat(PidOrder.floor(30_000, 5_000, 300, 5_020, MAX)).isEqualTo(30_000);
  }

  @Test
  void creationsAndTheirSkippedPidsCountTowardsAWrap() {
    // 20,000 + c + 3 * (300 + c) < 32,768 holds up to c = 2,966; with c = 1, up to 4,254 alive
    assertThat(PidOrder.floor(20_000, 5_000, 300, 5_000 + 2_966, MAX)).isEqualTo(20_000);
    assertThat(PidOrder.floor(20_000, 5_000, 300, 5_000 + 2_967, MAX)).isZero();
    // tasks alive before the spawn count as pids the counter may have to skip
    assertThat(PidOrder.floor(20_000, 5_000, 4_254, 5_001, MAX)).isEqualTo(20_000);
    assertThat(PidOrder.floor(20_000, 5_000, 4_255, 5_001, MAX)).isZero();
  }

  @Test
  void anythingUnknownOrInconsistentLooksAtEveryPid() {
    assertThat(PidOrder.floor(20_000, -1, 300, 5_100, MAX)).isZero();
    assertThat(PidOrder.floor(20_000, 5_000, -1, 5_100, MAX)).isZero();
    assertThat(PidOrder.floor(20_000, 5_000, 300, -1, MAX)).isZero();
    assertThat(PidOrder.floor(20_000, 5_000, 300, 4_000, MAX)).isZero();
    assertThat(PidOrder.floor(20_000, 5_000, 300, 5_100, -1)).isZero();
    assertThat(PidOrder.floor(-1, 5_000, 300, 5_100, MAX)).isZero();
    assertThat(PidOrder.UNKNOWN.floorNow()).isZero();
  }

  @Test
  void loadavgGivesTheTaskCount() {
    assertThat(PidOrder.parseLoadavgTasks("0.75 1.59 1.61 1/108 32484\n")).isEqualTo(108);
    assertThat(PidOrder.parseLoadavgTasks("garbage")).isEqualTo(-1);
  }

  @Test
  void pidMaxIsReadWhole() throws Exception {
    // an integer sysctl answers only a read at offset 0: a byte-wise read gives "3" of "32768"
    String text = new String(Files.readAllBytes(Path.of("/proc/sys/kernel/pid_max")),
        StandardCharsets.US_ASCII).strip();
    assertThat(PidOrder.pidMax()).isPresent();
    assertThat(PidOrder.pidMax().getAsLong()).isGreaterThan(1_000);
    if (text.length() > 1) {
      assertThat(PidOrder.pidMax().getAsLong()).isEqualTo(Long.parseLong(text));
    }
  }

  @Test
  void aChildSpawnedJustNowIsItsOwnFloorUnlessItsPidIsNearPidMax() throws Exception {
    PidOrder before = PidOrder.before();
    assertThat(before.forksBefore()).as("tasks created since boot").isPositive();
    assertThat(before.tasksBefore()).as("tasks alive").isPositive();
    Process child = new ProcessBuilder("sleep", "60").start();
    try {
      long floor = before.spawned(child.pid()).floorNow();
      long pidMax = PidOrder.pidMax().orElseThrow();
      if (child.pid() + 4 * before.tasksBefore() + 10_000 < pidMax) {
        assertThat(floor).isEqualTo(child.pid());
      } else {
        assertThat(floor).isIn(0L, child.pid());
      }
    } finally {
      child.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
  }
}
