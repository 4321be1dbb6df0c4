package dev.goplugin4j.container;

import java.nio.file.Path;
import java.util.Arrays;

/**
 * Runs one {@link MatrixCell} in a JVM of its own, so that the host side of the cell can be a
 * non-root user ({@link AsTestUser} starts it as the test user). Prints {@value #OK_PREFIX} and
 * the outcome on success and exits 0; prints the failure and exits 1 otherwise.
 *
 * <p>Arguments: the parent directory for the host's socket directories, then the cell's words.
 */
final class NonRootHostMain {
  static final String OK_PREFIX = "MATRIX-CELL-OK ";

  private NonRootHostMain() {}

  public static void main(String[] args) {
    int status;
    try {
      Path socketParent = Path.of(args[0]);
      MatrixCell cell = MatrixCell.parse(Arrays.asList(args).subList(1, args.length));
      MatrixCell.Outcome o = cell.run(socketParent);
      System.out.println(OK_PREFIX + "uid=" + dev.goplugin4j.container.internal.PosixAcl.geteuid()
          + " id=" + o.containerId() + " runtime=" + o.observedRuntime() + " counts="
          + o.counts());
      status = 0;
    } catch (Throwable t) {
      System.out.println("MATRIX-CELL-FAILED " + t);
      t.printStackTrace(System.out);
      status = 1;
    }
    System.out.flush();
    // plugin client threads are gone after close; exit explicitly all the same
    Runtime.getRuntime().exit(status);
  }
}
