package dev.goplugin4j.host.internal.client;

import dev.goplugin4j.host.AttachedRunner;

/**
 * The start failure's diagnosis, as the session words it: what happened, then the plugin's last
 * stderr lines and the runner's own diagnosis. The phases of a start get it from the session,
 * which owns the stderr pump.
 */
@FunctionalInterface
interface FailureDiagnosis {
  /** {@code what}, followed by the plugin's recent stderr and the runner's diagnosis. */
  String failure(String what, AttachedRunner r);

  /** A string cut to 200 characters for a message or a log line. */
  static String abbreviate(String s) {
    return s.length() <= 200 ? s : s.substring(0, 200) + "…";
  }
}
