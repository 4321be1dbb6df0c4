package dev.goplugin4j.cli;

import java.io.PrintStream;
import java.util.Map;

/**
 * Entry point of the {@code goplugin4j} command-line tool: {@code doctor}, {@code run},
 * {@code reap} and {@code image}. The only place in goplugin4j that calls {@link System#exit}.
 *
 * <pre>{@code
 * java -jar goplugin4j-cli-all.jar doctor --probe
 * }</pre>
 *
 * <p>Exit status: 0 when the command succeeded (for {@code doctor}: every required check
 * passed), 1 when it ran but found a problem, 2 for a usage error.
 */
public final class Main {
  private Main() {}

  /**
   * Runs the tool and exits with its status.
   *
   * @param args the command line
   */
  public static void main(String[] args) {
    int status = execute(args, System.out, System.err, System.getenv());
    System.out.flush();
    System.err.flush();
    System.exit(status);
  }

  /**
   * Runs the tool without exiting, for embedding and tests.
   *
   * @param args the command line; not null
   * @param out where results go (tables, JSON)
   * @param err where progress, warnings and errors go
   * @param env the environment to read ({@code DOCKER_HOST}, {@code XDG_RUNTIME_DIR}, ...)
   * @return the exit status: 0 success, 1 failure, 2 usage error
   */
  public static int execute(String[] args, PrintStream out, PrintStream err,
      Map<String, String> env) {
    return Cli.commandLine(new CliContext(out, err, env)).execute(args);
  }
}
