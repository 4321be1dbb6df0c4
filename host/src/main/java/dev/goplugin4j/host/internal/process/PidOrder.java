package dev.goplugin4j.host.internal.process;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalLong;

/**
 * Whether every process created after a spawn has a larger pid than the spawned process, so that
 * a search for such processes ({@link PipeHolders#holders}) may skip the smaller pids without
 * reading each one's start time. Linux hands out pids in increasing order, skipping those in
 * use, and wraps to the bottom at {@code /proc/sys/kernel/pid_max}; a wrap since the spawn is
 * ruled out from the kernel's own counts, or the answer is "look at every pid":
 *
 * <ul>
 *   <li>the last pid handed out ({@code /proc/loadavg}'s fifth field) is below the spawned one:
 *       the counter wrapped;
 *   <li>otherwise, to wrap and climb back past the spawned pid, the counter must have handed out
 *       or skipped every pid of its range once: handed out at most {@code forks} times (the
 *       kernel's count of tasks created, {@code processes} in {@code /proc/stat}, read before the
 *       spawn and now), skipped at most three pids (its own, its process group, its session) per
 *       task alive before the spawn ({@code /proc/loadavg}'s fourth field) or created since. When
 *       that sum is below the range, no wrap happened.
 * </ul>
 *
 * <p>Instances are immutable and thread-safe.
 *
 * @param pid the spawned process
 * @param forksBefore the kernel's task creations before the spawn; -1 when unknown
 * @param tasksBefore the tasks alive before the spawn; -1 when unknown
 */
record PidOrder(long pid, long forksBefore, long tasksBefore) {
  /** The pids below this are never handed out after a wrap in the first pid namespace. */
  static final long RESERVED_PIDS = 300;

  private static final Path STAT = Path.of("/proc/stat");
  private static final Path LOADAVG = Path.of("/proc/loadavg");
  private static final Path PID_MAX = Path.of("/proc/sys/kernel/pid_max");

  /** Nothing known: every pid is looked at. */
  static final PidOrder UNKNOWN = new PidOrder(-1, -1, -1);

  /**
   * The kernel's counts, to read just before a spawn.
   *
   * @return the counts; -1 where {@code /proc} cannot tell
   */
  static long[] before() {
    long[] tasksAndLast = loadavg();
    return new long[] {forks().orElse(-1), tasksAndLast[0]};
  }

  /** The order of a spawn given the counts {@link #before()} read. */
  static PidOrder of(long pid, long[] before) {
    return new PidOrder(pid, before[0], before[1]);
  }

  /**
   * The pid at or below which no process created after the spawn can be, read now.
   *
   * @return the spawned pid, or 0 when a wrap cannot be ruled out (look at every pid)
   */
  long floorNow() {
    if (pid <= 0 || forksBefore < 0 || tasksBefore < 0) {
      return 0;
    }
    long[] tasksAndLast = loadavg();
    return floor(pid, forksBefore, tasksBefore, forks().orElse(-1), tasksAndLast[1],
        pidMax().orElse(-1));
  }

  /**
   * The floor from the counts; package-private for tests.
   *
   * @return {@code pid} when a wrap since the spawn is ruled out, else 0
   */
  static long floor(long pid, long forksBefore, long tasksBefore, long forksNow, long lastPid,
      long pidMax) {
    if (pid <= 0 || forksBefore < 0 || tasksBefore < 0 || forksNow < forksBefore || lastPid < pid
        || pidMax <= RESERVED_PIDS) {
      return 0;
    }
    long created = forksNow - forksBefore;
    long range = pidMax - RESERVED_PIDS - 1;
    // handed out + skipped; no overflow: each term is below 2^62 on any real count
    if (created + 3 * (tasksBefore + created) >= range) {
      return 0;
    }
    return pid;
  }

  /** {@code processes} in {@code /proc/stat}: the tasks created since boot. */
  static OptionalLong forks() {
    try (BufferedReader r = Files.newBufferedReader(STAT, StandardCharsets.US_ASCII)) {
      for (String line = r.readLine(); line != null; line = r.readLine()) {
        if (line.startsWith("processes ")) {
          return OptionalLong.of(Long.parseLong(line.substring("processes ".length()).trim()));
        }
      }
    } catch (IOException | RuntimeException e) {
      return OptionalLong.empty();
    }
    return OptionalLong.empty();
  }

  /**
   * {@code /proc/loadavg}'s task count and last pid ("0.20 0.18 0.12 1/80 11206"); -1 each when
   * unknown.
   */
  static long[] loadavg() {
    try {
      return parseLoadavg(Files.readString(LOADAVG, StandardCharsets.US_ASCII));
    } catch (IOException | RuntimeException e) {
      return new long[] {-1, -1};
    }
  }

  /** Parses {@code /proc/loadavg}; package-private for tests. */
  static long[] parseLoadavg(String text) {
    String[] f = text.trim().split(" ");
    try {
      int slash = f[3].indexOf('/');
      return new long[] {Long.parseLong(f[3].substring(slash + 1)), Long.parseLong(f[4])};
    } catch (RuntimeException e) {
      return new long[] {-1, -1};
    }
  }

  /**
   * {@code /proc/sys/kernel/pid_max}; package-private for tests. Read in one buffered read: an
   * integer sysctl answers only a read at offset 0, and {@code Files.readString} reads its first
   * byte alone ("3" of "32768").
   */
  static OptionalLong pidMax() {
    try (BufferedReader r = Files.newBufferedReader(PID_MAX, StandardCharsets.US_ASCII)) {
      String line = r.readLine();
      return line == null ? OptionalLong.empty() : OptionalLong.of(Long.parseLong(line.trim()));
    } catch (IOException | RuntimeException e) {
      return OptionalLong.empty();
    }
  }
}
