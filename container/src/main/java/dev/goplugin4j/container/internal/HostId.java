package dev.goplugin4j.container.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Optional;

/**
 * Identifies a host process across time: {@code hostname/pid/startMillis}. The start time makes a
 * reused pid distinguishable, so a leftover container is never taken for a live host's.
 */
public record HostId(String hostname, long pid, long startMillis) {
  /** This JVM. */
  public static HostId current() {
    ProcessHandle self = ProcessHandle.current();
    return new HostId(localHostname(), self.pid(),
        self.info().startInstant().map(Instant::toEpochMilli).orElse(0L));
  }

  /** Parses the label value, or empty when it is not one. */
  public static Optional<HostId> parse(String value) {
    if (value == null) {
      return Optional.empty();
    }
    int b = value.lastIndexOf('/');
    int a = b <= 0 ? -1 : value.lastIndexOf('/', b - 1);
    if (a <= 0) {
      return Optional.empty();
    }
    try {
      return Optional.of(new HostId(value.substring(0, a), Long.parseLong(value.substring(a + 1, b)),
          Long.parseLong(value.substring(b + 1))));
    } catch (NumberFormatException e) {
      return Optional.empty();
    }
  }

  /**
   * Whether this host process is still running: it must be on this machine (same host name),
   * and a process with the pid must exist with the same start time.
   *
   * @return empty when it cannot be told (another host name)
   */
  public Optional<Boolean> isAlive() {
    if (!hostname.equals(localHostname())) {
      return Optional.empty();
    }
    return Optional.of(ProcessHandle.of(pid)
        .flatMap(p -> p.info().startInstant())
        .map(i -> i.toEpochMilli() == startMillis)
        .orElse(false));
  }

  /** The label value. */
  @Override
  public String toString() {
    return hostname + "/" + pid + "/" + startMillis;
  }

  static String localHostname() {
    try {
      String h = Files.readString(Path.of("/proc/sys/kernel/hostname"), StandardCharsets.UTF_8)
          .strip();
      if (!h.isEmpty()) {
        return h;
      }
    } catch (IOException | RuntimeException e) {
      // not Linux, or no procfs: fall through
    }
    String env = System.getenv("HOSTNAME");
    return env == null || env.isEmpty() ? "localhost" : env;
  }
}
