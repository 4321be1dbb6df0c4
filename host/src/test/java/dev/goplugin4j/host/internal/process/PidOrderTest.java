package dev.goplugin4j.host.internal.process;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class PidOrderTest {
  private static final long MAX = 32_768;

  @Test
  void theSpawnedPidIsTheFloorWhenTheCounterCannotHaveWrapped() {
    // 100 tasks created since, 300 alive before: 100 + 3 * 400 pids at most, far below the range
    assertThat(PidOrder.floor(20_000, 5_000, 300, 5_100, 20_100, MAX)).isEqualTo(20_000);
  }

  @Test
  void aLastPidBelowTheSpawnedOneMeansTheCounterWrapped() {
    assertThat(PidOrder.floor(32_700, 5_000, 300, 5_100, 400, MAX)).isZero();
  }

  @Test
  void enoughCreationsToWrapAndClimbBackPastTheSpawnedPidLookAtEveryPid() {
    // 8,000 created: 8,000 + 3 * 8,300 = 32,900 pids handed out or skipped, the whole range
    assertThat(PidOrder.floor(20_000, 5_000, 300, 13_000, 20_001, MAX)).isZero();
    // one fewer round of the range's worth is still ruled out
    assertThat(PidOrder.floor(20_000, 5_000, 300, 12_000, 20_001, MAX)).isEqualTo(20_000);
  }

  @Test
  void manyTasksAliveBeforeTheSpawnCountAsSkippedPids() {
    assertThat(PidOrder.floor(20_000, 5_000, 11_000, 5_001, 20_001, MAX)).isZero();
    assertThat(PidOrder.floor(20_000, 5_000, 10_000, 5_001, 20_001, MAX)).isEqualTo(20_000);
  }

  @Test
  void anythingUnknownOrInconsistentLooksAtEveryPid() {
    assertThat(PidOrder.floor(20_000, -1, 300, 5_100, 20_100, MAX)).isZero();
    assertThat(PidOrder.floor(20_000, 5_000, -1, 5_100, 20_100, MAX)).isZero();
    assertThat(PidOrder.floor(20_000, 5_000, 300, -1, 20_100, MAX)).isZero();
    assertThat(PidOrder.floor(20_000, 5_000, 300, 4_000, 20_100, MAX)).isZero();
    assertThat(PidOrder.floor(20_000, 5_000, 300, 5_100, -1, MAX)).isZero();
    assertThat(PidOrder.floor(20_000, 5_000, 300, 5_100, 20_100, -1)).isZero();
    assertThat(PidOrder.floor(-1, 5_000, 300, 5_100, 20_100, MAX)).isZero();
    assertThat(PidOrder.UNKNOWN.floorNow()).isZero();
  }

  @Test
  void loadavgGivesTheTaskCountAndTheLastPid() {
    assertThat(PidOrder.parseLoadavg("0.75 1.59 1.61 1/108 32484\n")).containsExactly(108, 32_484);
    assertThat(PidOrder.parseLoadavg("garbage")).containsExactly(-1, -1);
  }

  @Test
  void pidMaxIsReadWhole() throws Exception {
    // an integer sysctl answers only a read at offset 0: a byte-wise read gives "3" of "32768"
    String text = new String(java.nio.file.Files.readAllBytes(
        java.nio.file.Path.of("/proc/sys/kernel/pid_max")), java.nio.charset.StandardCharsets.US_ASCII);
    assertThat(PidOrder.pidMax()).isPresent();
    assertThat(PidOrder.pidMax().getAsLong()).isGreaterThan(PidOrder.RESERVED_PIDS);
    if (text.strip().length() > 1) {
      assertThat(PidOrder.pidMax().getAsLong()).isEqualTo(Long.parseLong(text.strip()));
    }
  }

  @Test
  void aChildSpawnedJustNowIsItsOwnFloorOnThisMachine() throws Exception {
    long[] before = PidOrder.before();
    assertThat(before[0]).as("tasks created since boot").isPositive();
    assertThat(before[1]).as("tasks alive").isPositive();
    Process child = new ProcessBuilder("sleep", "60").start();
    try {
      PidOrder order = PidOrder.of(child.pid(), before);
      long floor = order.floorNow();
      // 0 only when the pid counter wrapped during the spawn (the last pid is then below the child's)
      // (on a machine with few tasks for its pid_max, as every one this runs on)
      if (floor == 0 && 6 * before[1] < PidOrder.pidMax().orElse(0)) {
        assertThat(PidOrder.loadavg()[1]).isLessThan(child.pid());
      }
      assertThat(floor).isIn(0L, child.pid());
      if (floor == child.pid()) {
        Process later = new ProcessBuilder("sleep", "60").start();
        try {
          assertThat(later.pid()).isGreaterThan(floor);
        } finally {
          later.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
      }
    } finally {
      child.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
  }
}
