package dev.goplugin4j.host.internal.process;

import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.regex.Pattern;

/**
 * When a process started, as a token one process writes down and another, later, compares with a
 * live process: the pid alone could have been reused. The records that name hosts (a socket
 * directory's owner record, a container's owner label and reattach claims) use it, so that a live
 * host is never taken for a gone one, and a gone host's pid reused is never taken for it.
 *
 * <p>On Linux the token is {@code t} and the start in clock ticks since boot from {@code
 * /proc/<pid>/stat}: exact, and the same for every reader. The JDK's {@link
 * ProcessHandle.Info#startInstant()} is not: it adds the boot time that each JVM reads once, in
 * whole seconds, from {@code /proc/stat}, which moves when the wall clock is stepped (a VM
 * resumed from a snapshot, an NTP correction), so two JVMs may disagree about the same process by
 * a second or by the size of the step. Where there is no {@code /proc} the token is the start in
 * epoch milliseconds from the JDK, compared within {@link ProcessReattacher#START_TIME_TOLERANCE};
 * records written that way before are still read.
 *
 * <p>Ticks compare within one time namespace (Linux 5.6+ shifts them by the namespace's boot-time
 * offset; CRIU restores use one, engines do not by default): a socket directory's owner record
 * carries the time namespace it was written in, and a reader in another takes it for another
 * machine's and leaves it alone.
 *
 * <p>Stateless and thread-safe.
 */
public final class ProcessStart {
  /** What starts a token in clock ticks since boot. */
  static final String TICKS = "t";

  private static final Pattern TOKEN = Pattern.compile("t?\\d{1,19}");

  private ProcessStart() {}

  /**
   * The start token of a running (or zombie) process.
   *
   * @param pid a process id
   * @return the token; empty when the process is gone or this OS tells no start time
   */
  public static Optional<String> of(long pid) {
    OptionalLong ticks = ProcStat.startTicks(pid);
    if (ticks.isPresent()) {
      return Optional.of(TICKS + ticks.getAsLong());
    }
    return ProcessHandle.of(pid)
        .flatMap(p -> p.info().startInstant())
        .map(i -> Long.toString(i.toEpochMilli()));
  }

  /**
   * This JVM's start token, read once per JVM.
   *
   * @return the token, {@code "0"} when this OS tells no start time (then nothing is ever taken
   *     for this JVM, see {@link #matches})
   */
  public static String current() {
    return Current.TOKEN;
  }

  /**
   * Whether a string is a start token: {@code t} and digits, or digits.
   *
   * @param token any string, or null
   * @return whether {@link #matches} can compare it
   */
  public static boolean isToken(String token) {
    return token != null && TOKEN.matcher(token).matches();
  }

  /**
   * Whether the process that has the pid now is the one a token was taken of: its start in ticks
   * is the recorded one, or, for a token in milliseconds, within {@link
   * ProcessReattacher#START_TIME_TOLERANCE} of it. A token of {@code 0} or a malformed one matches
   * nothing. Does not look at whether the process is a zombie.
   *
   * @param pid a process id
   * @param token a token {@link #of} or {@link #current} gave, possibly in another JVM
   * @return false as well when the process is gone or its start cannot be read
   */
  public static boolean matches(long pid, String token) {
    if (!isToken(token)) {
      return false;
    }
    try {
      if (token.startsWith(TICKS)) {
        long recorded = Long.parseLong(token.substring(TICKS.length()));
        OptionalLong ticks = ProcStat.startTicks(pid);
        return recorded != 0 && ticks.isPresent() && ticks.getAsLong() == recorded;
      }
      long millis = Long.parseLong(token);
      return millis != 0 && ProcessHandle.of(pid)
          .flatMap(p -> p.info().startInstant())
          .map(s -> withinTolerance(Instant.ofEpochMilli(millis), s))
          .orElse(false);
    } catch (NumberFormatException e) {
      return false;
    }
  }

  /**
   * A token as people read it: {@code 67,573.35 s after boot} or an instant.
   *
   * @param token any string
   * @return the description; a malformed token quoted
   */
  public static String describe(String token) {
    if (!isToken(token)) {
      return "\"" + token + "\"";
    }
    if (token.startsWith(TICKS)) {
      long ticks = Long.parseLong(token.substring(TICKS.length()));
      return String.format(Locale.ROOT, "%,d.%02d s after boot",
          ticks / ProcStat.TICKS_PER_SECOND, ticks % ProcStat.TICKS_PER_SECOND);
    }
    return Instant.ofEpochMilli(Long.parseLong(token)).toString();
  }

  static boolean withinTolerance(Instant expected, Instant actual) {
    return Duration.between(expected, actual).abs()
        .compareTo(ProcessReattacher.START_TIME_TOLERANCE) <= 0;
  }

  private static final class Current {
    static final String TOKEN = of(ProcessHandle.current().pid()).orElse("0");

    private Current() {}
  }
}
