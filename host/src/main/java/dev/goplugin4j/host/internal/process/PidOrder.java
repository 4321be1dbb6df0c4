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
 * reading each one's start time. Linux hands out pids in increasing order from the last one,
 * skipping those in use, and wraps to the bottom at {@code /proc/sys/kernel/pid_max}. Since the
 * spawn the counter has handed out at most {@code created} pids (the kernel's count of tasks
 * created, {@code processes} in {@code /proc/stat}, read before the spawn and now: every
 * namespace's, so at least this one's) and skipped at most three pids (a task's own, its process
 * group's, its session's) per task alive before the spawn ({@code /proc/loadavg}'s task count) or
 * created since. While the spawned pid plus both stays below {@code pid_max}, the counter cannot
 * have wrapped; otherwise the answer is "look at every pid". Only counts are used, no "last pid"
 * (which a virtualised {@code /proc/loadavg}, as LXCFS's, may take from another pid namespace).
 * Not covered: a process privileged to choose pids ({@code CAP_CHECKPOINT_RESTORE}: clone3's
 * {@code set_tid}, {@code ns_last_pid}) can give a helper a smaller one; a plugin with that
 * capability on the host can stop the host in simpler ways.
 *
 * <p>Instances are immutable and thread-safe.
 *
 * @param pid the spawned process
 * @param forksBefore the kernel's task creations before the spawn; -1 when unknown
 * @param tasksBefore the tasks alive before the spawn; -1 when unknown
 */
record PidOrder(long pid, long forksBefore, long tasksBefore) {
  private static final Path STAT = Path.of("/proc/stat");
  private static final Path LOADAVG = Path.of("/proc/loadavg");
  private static final Path PID_MAX = Path.of("/proc/sys/kernel/pid_max");

  /** Nothing known: every pid is looked at. */
  static final PidOrder UNKNOWN = new PidOrder(-1, -1, -1);

  /**
   * The kernel's counts, to read before a spawn; give the spawned pid with {@link #spawned}.
   *
   * @return the counts, the pid unknown; -1 where {@code /proc} cannot tell
   */
  static PidOrder before() {
    return new PidOrder(-1, forks().orElse(-1), loadavgTasks());
  }

  /** These counts for the process the spawn made. */
  PidOrder spawned(long spawnedPid) {
    return new PidOrder(spawnedPid, forksBefore, tasksBefore);
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
    return floor(pid, forksBefore, tasksBefore, forks().orElse(-1), pidMax().orElse(-1));
  }

  /**
   * The floor from the counts; package-private for tests.
   *
   * @return {@code pid} when a wrap since the spawn is ruled out, else 0
   */
  static long floor(long pid, long forksBefore, long tasksBefore, long forksNow, long pidMax) {
    if (pid <= 0 || forksBefore < 0 || tasksBefore < 0 || forksNow < forksBefore || pidMax <= pid) {
      return 0;
    }
    long created = forksNow - forksBefore;
    // the highest pid the counter can have reached: handed out + skipped; no overflow on any real
    // count (each term is far below 2^61)
    if (pid + created + 3 * (tasksBefore + created) >= pidMax) {
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

  /** {@code /proc/loadavg}'s task count ("0.20 0.18 0.12 1/80 11206": 80); -1 when unknown. */
  static long loadavgTasks() {
    try {
      return parseLoadavgTasks(Files.readString(LOADAVG, StandardCharsets.US_ASCII));
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  /** Parses {@code /proc/loadavg}'s task count; package-private for tests. */
  static long parseLoadavgTasks(String text) {
    String[] f = text.trim().split(" ");
    try {
      return Long.parseLong(f[3].substring(f[3].indexOf('/') + 1));
    } catch (RuntimeException e) {
      return -1;
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
