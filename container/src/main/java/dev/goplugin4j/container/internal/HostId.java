package dev.goplugin4j.container.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import dev.goplugin4j.host.internal.process.ProcessStart;
import java.util.Objects;
import java.util.Optional;

/**
 * Identifies a host process across time: {@code hostname/pid/start}, the start a {@link
 * ProcessStart} token (on Linux {@code t} and clock ticks since boot, exact for every reader;
 * elsewhere, and in labels written before, epoch milliseconds). The start makes a reused pid
 * distinguishable, so a leftover container is never taken for a live host's, nor a live host's
 * for a leftover.
 *
 * @param hostname the machine's host name
 * @param pid the host's pid
 * @param start its start token; {@link ProcessStart#isToken} holds
 */
public record HostId(String hostname, long pid, String start) {
  /** Checks the start token. */
  public HostId {
    Objects.requireNonNull(hostname, "hostname");
    if (!ProcessStart.isToken(start)) {
      throw new IllegalArgumentException("not a start token: " + start);
    }
  }

  /** This JVM. */
  public static HostId current() {
    return new HostId(localHostname(), ProcessHandle.current().pid(), ProcessStart.current());
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
    String start = value.substring(b + 1);
    if (!ProcessStart.isToken(start)) {
      return Optional.empty();
    }
    try {
      return Optional.of(new HostId(value.substring(0, a), Long.parseLong(value.substring(a + 1, b)),
          start));
    } catch (NumberFormatException e) {
      return Optional.empty();
    }
  }

  /**
   * Whether this host process is still running: it must be on this machine (same host name),
   * and a process with the pid must exist with the same start ({@link ProcessStart#matches}).
   *
   * @return empty when it cannot be told (another host name)
   */
  public Optional<Boolean> isAlive() {
    if (!hostname.equals(localHostname())) {
      return Optional.empty();
    }
    return Optional.of(ProcessStart.matches(pid, start));
  }

  /** The label value. */
  @Override
  public String toString() {
    return hostname + "/" + pid + "/" + start;
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
