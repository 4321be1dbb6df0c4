package dev.goplugin4j.host.internal.process;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** Test helpers over real processes. */
final class Processes {
  static final Duration WAIT = Duration.ofSeconds(10);

  private Processes() {}

  /**
   * Whether the pid no longer names a live process. A zombie counts as gone: in a container whose
   * PID 1 does not reap orphans, killed grandchildren stay zombies forever.
   */
  static boolean isGone(long pid) {
    if (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
      try {
        String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
        char state = stat.charAt(stat.lastIndexOf(')') + 2);
        return state == 'Z' || state == 'X';
      } catch (NoSuchFileException e) {
        return true;
      } catch (IOException e) {
        throw new AssertionError(e);
      }
    }
    return true;
  }

  static void awaitGone(long pid) throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (!isGone(pid) && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertThat(isGone(pid)).as("process %d is gone", pid).isTrue();
  }

  /** Reads {@code count} lines, each a pid, from the stream. */
  static List<Long> readPids(InputStream in, int count) throws IOException {
    BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
    List<Long> pids = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      String line = reader.readLine();
      assertThat(line).as("pid line %d", i).isNotNull();
      pids.add(Long.parseLong(line.trim()));
    }
    return pids;
  }
}
