package dev.goplugin4j.host.internal.process;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/** Liveness checks and tree kills over {@link ProcessHandle}. Stateless and thread-safe. */
final class ProcessTrees {
  /**
   * Rounds of "list the descendants, kill the new ones": a descendant may fork between the listing
   * and its kill; the next round catches its child while it is still in the tree.
   */
  private static final int MAX_ROUNDS = 10;

  private static final long POLL_MILLIS = 10;

  private ProcessTrees() {}

  /**
   * Whether the process is alive and not a zombie. The JDK reports a zombie (dead, not yet reaped
   * by its parent, common when PID 1 of a container does not reap) as alive; on Linux we read its
   * state from {@code /proc} to tell.
   */
  static boolean isRunning(ProcessHandle process) {
    return process.isAlive() && !procSaysDead(process.pid());
  }

  /** True when /proc shows the process as a zombie, or as gone. False when there is no /proc. */
  private static boolean procSaysDead(long pid) {
    Path stat = Path.of("/proc", Long.toString(pid), "stat");
    try {
      String text = Files.readString(stat, StandardCharsets.US_ASCII);
      // "pid (comm) S ...": comm may hold spaces and parentheses, the state follows the last ')'.
      int close = text.lastIndexOf(')');
      if (close < 0 || close + 2 >= text.length()) {
        return false;
      }
      char state = text.charAt(close + 2);
      return state == 'Z' || state == 'X';
    } catch (IOException | RuntimeException e) {
      // The process just went away (true), or there is no /proc at all (false).
      return !Files.exists(stat) && Files.isDirectory(Path.of("/proc", "self"));
    }
  }

  /**
   * Sends SIGKILL (destroyForcibly) to every descendant of {@code root}, then to {@code root}.
   * The JDK's handles carry the start time, so a handle whose pid was reused kills nothing.
   *
   * @return the descendants that were signalled
   */
  static List<ProcessHandle> destroyTree(ProcessHandle root) {
    Set<ProcessHandle> killed = new LinkedHashSet<>();
    for (int round = 0; round < MAX_ROUNDS; round++) {
      List<ProcessHandle> fresh =
          root.descendants().filter(h -> !killed.contains(h)).collect(Collectors.toList());
      if (fresh.isEmpty()) {
        break;
      }
      for (ProcessHandle h : fresh) {
        h.destroyForcibly();
        killed.add(h);
      }
    }
    root.destroyForcibly();
    return new ArrayList<>(killed);
  }

  /**
   * Waits until none of the processes is {@linkplain #isRunning running}, polling.
   *
   * @return the processes still running at the deadline (empty on success)
   * @throws InterruptedException if interrupted
   */
  static List<ProcessHandle> awaitGone(Collection<ProcessHandle> processes, Duration timeout)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    List<ProcessHandle> left = new ArrayList<>(processes);
    while (true) {
      left.removeIf(h -> !isRunning(h));
      if (left.isEmpty() || System.nanoTime() - deadline >= 0) {
        return left;
      }
      Thread.sleep(POLL_MILLIS);
    }
  }
}
