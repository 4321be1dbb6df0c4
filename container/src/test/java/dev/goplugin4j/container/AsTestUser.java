package dev.goplugin4j.container;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs {@link MatrixCell}s in a child JVM as the non-root {@link TestUser} ({@code setpriv}), so
 * the host side of a cell is a non-root user while the tests run as root. The child needs a class
 * path it can read and that stays put: jars (the Maven repository under {@code /root} is not
 * readable by others) are hard-linked (or copied), class directories copied, into a directory of
 * this run. Its socket directories go under a directory the test user owns. {@link #close()}
 * removes both.
 *
 * <p>Not thread-safe; one per test class.
 */
final class AsTestUser implements AutoCloseable {
  /** Parent of the child's socket directories; checked empty by {@link MatrixLeftovers}. */
  static final Path SOCKET_PARENT = Path.of("/tmp/goplugin4j-matrix-it-user");

  private final TestUser user = TestUser.get();
  private final Path classpathCopy;
  private final String classpath;

  AsTestUser() {
    try {
      Files.createDirectories(SOCKET_PARENT);
      Files.setPosixFilePermissions(SOCKET_PARENT, PosixFilePermissions.fromString("rwx------"));
      TestImages.run(List.of("chown", user.uid() + ":" + user.gid(), SOCKET_PARENT.toString()));
      classpathCopy = Files.createTempDirectory("goplugin4j-matrix-cp-");
      Files.setPosixFilePermissions(classpathCopy, PosixFilePermissions.fromString("rwxr-xr-x"));
      String cp = System.getProperty("surefire.test.class.path",
          System.getProperty("java.class.path"));
      List<String> entries = new ArrayList<>();
      int n = 0;
      for (String entry : cp.split(File.pathSeparator)) {
        if (entry.isEmpty()) {
          continue;
        }
        Path p = Path.of(entry);
        if (!Files.exists(p)) {
          continue;
        }
        Path copy = classpathCopy.resolve((n++) + "-" + p.getFileName());
        if (Files.isDirectory(p)) {
          // a snapshot: builds in the shared tree may rewrite target/classes while the child runs
          TestImages.run(List.of("cp", "-r", p.toString(), copy.toString()));
        } else {
          // repository jars are never rewritten: link them; reactor jars may be, by other builds
          boolean immutable = p.toString().contains("/.m2/repository/");
          try {
            if (!immutable) {
              throw new UnsupportedOperationException("copy");
            }
            Files.createLink(copy, p);
          } catch (IOException | UnsupportedOperationException e) {
            Files.copy(p, copy);
          }
        }
        entries.add(copy.toString());
      }
      classpath = String.join(File.pathSeparator, entries);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** What the child printed and how it ended. */
  record Result(int exitCode, String output) {
    boolean ok() {
      return exitCode == 0 && output.contains(NonRootHostMain.OK_PREFIX);
    }

    /** The success line, e.g. {@code MATRIX-CELL-OK uid=1001 id=... runtime=runsc counts=[1, 3, 2]}. */
    String okLine() {
      return output.lines().filter(l -> l.startsWith(NonRootHostMain.OK_PREFIX)).findFirst()
          .orElse("");
    }
  }

  /** Runs the cell in a child JVM as the test user, waiting at most three minutes. */
  Result run(MatrixCell cell) {
    List<String> cmd = new ArrayList<>(List.of("setpriv", "--reuid=" + user.uid(),
        "--regid=" + user.gid(), "--init-groups", "--", "env", "-i",
        "HOME=/home/" + user.name(), "USER=" + user.name(), "LOGNAME=" + user.name(),
        "XDG_RUNTIME_DIR=/run/user/" + user.uid(),
        "PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx256m", "-XX:TieredStopAtLevel=1", "-cp", classpath,
        NonRootHostMain.class.getName(), SOCKET_PARENT.toString()));
    cmd.addAll(cell.toArgs());
    Process p = null;
    try {
      // From /: the test user may not be able to enter the build directory (a clone in a 0700
      // dir), and the child JVM and every command it runs (podman) inherit the working directory.
      p = new ProcessBuilder(cmd).directory(Path.of("/").toFile()).redirectErrorStream(true).start();
      p.getOutputStream().close();
      Process child = p;
      StringBuilder out = new StringBuilder();
      Thread reader = new Thread(() -> {
        try {
          out.append(new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
          out.append("(output lost: ").append(e).append(")");
        }
      }, "as-test-user-output");
      reader.start();
      if (!p.waitFor(3, TimeUnit.MINUTES)) {
        p.destroyForcibly().waitFor();
        reader.join(5000);
        return new Result(-1, "timed out after 3 minutes\n" + out);
      }
      reader.join(10_000);
      return new Result(p.exitValue(), out.toString());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while the child ran " + cell, e);
    } finally {
      if (p != null && p.isAlive()) {
        p.destroyForcibly();
      }
    }
  }

  @Override
  public void close() {
    TestImages.deleteTree(classpathCopy);
  }
}
