package dev.goplugin4j.cli;

import java.io.PrintStream;
import java.util.Map;
import java.util.Objects;

/**
 * What every command writes to and reads from: results on {@code out}, progress and errors on
 * {@code err}, and the environment (never {@link System#getenv()} directly, so tests can point
 * the tool at another engine).
 */
record CliContext(PrintStream out, PrintStream err, Map<String, String> env) {
  CliContext {
    Objects.requireNonNull(out, "out");
    Objects.requireNonNull(err, "err");
    env = Map.copyOf(env);
  }

  /** Prints one progress line on stderr. */
  void progress(String message) {
    err.println("goplugin4j: " + message);
    err.flush();
  }
}
