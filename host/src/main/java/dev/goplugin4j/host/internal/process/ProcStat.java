package dev.goplugin4j.host.internal.process;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalLong;

/**
 * Reads a process's {@code /proc/<pid>/stat} (Linux): its start time in clock ticks since boot,
 * exact and comparable between processes (unlike the JDK's start instants, which go through the
 * boot time in whole seconds), and its parent. A zombie keeps its stat, so a plugin that exited
 * a moment ago can still be placed in time. Stateless and thread-safe.
 */
final class ProcStat {
  /** Field 22 of stat, counted from the state (field 3) that follows the comm's last ')'. */
  private static final int START_TIME_AFTER_STATE = 19;

  private static final int PPID_AFTER_STATE = 1;

  /**
   * The kernel's USER_HZ, the unit of start times in {@code /proc}: 100 on every Linux
   * architecture the JDK runs on (it is part of the kernel's user-space ABI).
   */
  static final long TICKS_PER_SECOND = 100;

  private ProcStat() {}

  /**
   * The process's start time in clock ticks since boot.
   *
   * @param pid a process id
   * @return the ticks; empty when the process is gone or there is no {@code /proc}
   */
  static OptionalLong startTicks(long pid) {
    return field(pid, START_TIME_AFTER_STATE);
  }

  /**
   * The process's parent pid.
   *
   * @param pid a process id
   * @return the parent; empty when the process is gone or there is no {@code /proc}
   */
  static OptionalLong parent(long pid) {
    return field(pid, PPID_AFTER_STATE);
  }

  /**
   * The time since boot now, in the unit of {@link #startTicks}: {@code /proc/uptime} (in
   * hundredths of a second) times {@link #TICKS_PER_SECOND}, rounded down, so that a process
   * started after this call has a start no earlier than the result.
   *
   * @return the ticks; empty without {@code /proc}
   */
  static OptionalLong uptimeTicks() {
    try {
      String text = Files.readString(Path.of("/proc/uptime"), StandardCharsets.US_ASCII).trim();
      String seconds = text.substring(0, text.indexOf(' '));
      int dot = seconds.indexOf('.');
      long whole = Long.parseLong(dot < 0 ? seconds : seconds.substring(0, dot));
      long hundredths = dot < 0 ? 0 : Long.parseLong((seconds.substring(dot + 1) + "00").substring(0, 2));
      return OptionalLong.of(whole * TICKS_PER_SECOND + hundredths * TICKS_PER_SECOND / 100);
    } catch (IOException | RuntimeException e) {
      return OptionalLong.empty();
    }
  }

  /** Parses the fields after the comm; package-private for tests. */
  static OptionalLong parse(String stat, int afterState) {
    // "pid (comm) S ...": comm may hold spaces and parentheses; the state follows the last ')'.
    int close = stat.lastIndexOf(')');
    if (close < 0) {
      return OptionalLong.empty();
    }
    String[] rest = stat.substring(close + 1).trim().split(" +");
    if (rest.length <= afterState) {
      return OptionalLong.empty();
    }
    try {
      return OptionalLong.of(Long.parseLong(rest[afterState]));
    } catch (NumberFormatException e) {
      return OptionalLong.empty();
    }
  }

  private static OptionalLong field(long pid, int afterState) {
    try {
      return parse(
          Files.readString(Path.of("/proc", Long.toString(pid), "stat"), StandardCharsets.US_ASCII),
          afterState);
    } catch (IOException | RuntimeException e) {
      return OptionalLong.empty();
    }
  }
}
