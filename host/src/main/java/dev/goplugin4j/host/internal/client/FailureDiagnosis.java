package dev.goplugin4j.host.internal.client;

import dev.goplugin4j.host.AttachedRunner;
import dev.goplugin4j.host.Runner;
import dev.goplugin4j.host.internal.log.StderrPump;
import java.util.List;

/**
 * The start failure's diagnosis, as the session words it: what happened, then the plugin's last
 * stderr lines and the runner's own diagnosis. The phases of a start get it from the session,
 * which owns the stderr pump.
 */
@FunctionalInterface
interface FailureDiagnosis {
  /** {@code what}, followed by the plugin's recent stderr and the runner's diagnosis. */
  String failure(String what, AttachedRunner r);

  /**
   * {@code what}, followed by the plugin's recent stderr (from {@code stderrPump}, null before it
   * runs) and the runner's diagnosis: the session's wording of every start failure.
   */
  static String describe(String what, AttachedRunner r, StderrPump stderrPump) {
    StringBuilder sb = new StringBuilder(what);
    if (stderrPump != null) {
      // A plugin that exited has its last lines in the pipe: let the pump drain them. One that
      // still runs cannot end the stream, and the pump logs lines as they come: do not wait.
      boolean gone = r.onExit().isDone();
      stderrPump.awaitDrained(java.time.Duration.ofMillis(gone ? 500 : 20));
      List<String> tail = stderrPump.recentLines();
      if (!tail.isEmpty()) {
        sb.append("\nPlugin stderr (last ").append(tail.size()).append(" lines):");
        tail.forEach(l -> sb.append("\n  ").append(abbreviate(l)));
      }
    }
    if (r instanceof Runner runnerWithDiag) {
      String d;
      try {
        d = runnerWithDiag.diagnose();
      } catch (RuntimeException e) {
        d = "(diagnose failed: " + e + ")";
      }
      if (d != null && !d.isBlank()) {
        sb.append("\nDiagnosis: ").append(d.strip());
      }
    }
    return sb.toString();
  }

  /** A string cut to 200 characters for a message or a log line. */
  static String abbreviate(String s) {
    return s.length() <= 200 ? s : s.substring(0, 200) + "…";
  }
}
