package dev.goplugin4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Runs the real thing a user runs: the launcher script with the shaded jar (built in {@code
 * package}, before failsafe), as a child process.
 */
final class CliProcess {
  record Result(int status, String out, String err) {
    @Override
    public String toString() {
      return "exit " + status + "\n--- stdout\n" + out + "\n--- stderr\n" + err;
    }
  }

  private CliProcess() {}

  static Path launcher() {
    Path p = Path.of(System.getProperty("goplugin4j.cli.launcher", "src/main/sh/goplugin4j"));
    assertThat(p).as("launcher script").isExecutable();
    return p;
  }

  static Path jar() {
    Path p = Path.of(System.getProperty("goplugin4j.cli.jar", "missing"));
    assertThat(p).as("shaded CLI jar (run through failsafe after package)").isRegularFile();
    return p;
  }

  static Result run(Map<String, String> env, String... args) {
    return exec(List.of(launcher().toString()), env, args);
  }

  /**
   * Runs the launcher as another (non-root) user through {@code runuser}; the jar and the JDK
   * must be readable by that user.
   */
  static Result runAs(String user, Map<String, String> env, String... args) {
    // The other user may not be able to enter the build directory (a clone in a 0700 dir): it
    // runs copies of the launcher and the jar from a directory everyone can read.
    Path copies = null;
    try {
      copies = Files.createTempDirectory(Path.of("/tmp"), "gp4j-cli-as-user-");
      Files.setPosixFilePermissions(copies, PosixFilePermissions.fromString("rwxr-xr-x"));
      Path jar = Files.copy(jar(), copies.resolve("goplugin4j-cli.jar"));
      Path launcher = Files.copy(launcher(), copies.resolve("goplugin4j"));
      Files.setPosixFilePermissions(jar, PosixFilePermissions.fromString("rw-r--r--"));
      Files.setPosixFilePermissions(launcher, PosixFilePermissions.fromString("rwxr-xr-x"));
      List<String> prefix = new ArrayList<>(List.of("runuser", "-u", user, "--", "env"));
      env.forEach((k, v) -> prefix.add(k + "=" + v));
      prefix.add("GOPLUGIN4J_CLI_JAR=" + jar);
      prefix.add("JAVA_HOME=" + System.getProperty("java.home"));
      prefix.add(launcher.toString());
      return exec(prefix, Map.of("GOPLUGIN4J_CLI_JAR", jar.toString()), args);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      deleteQuietly(copies);
    }
  }

  private static void deleteQuietly(Path dir) {
    if (dir == null) {
      return;
    }
    try (var s = Files.walk(dir)) {
      for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Result exec(List<String> prefix, Map<String, String> env, String... args) {
    List<String> cmd = new ArrayList<>(prefix);
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd);
    if (prefix.get(0).equals("runuser")) {
      // another user may not be able to enter the build directory (a clone in a 0700 dir)
      pb.directory(Path.of("/").toFile());
    }
    pb.environment().put("GOPLUGIN4J_CLI_JAR", jar().toString());
    pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
    pb.environment().remove("DOCKER_HOST");
    env.forEach((k, v) -> {
      if (v == null) {
        pb.environment().remove(k);
      } else {
        pb.environment().put(k, v);
      }
    });
    try {
      Process p = pb.start();
      p.getOutputStream().close();
      CompletableFuture<String> out = drain(p.getInputStream());
      CompletableFuture<String> err = drain(p.getErrorStream());
      if (!p.waitFor(5, TimeUnit.MINUTES)) {
        p.destroyForcibly().waitFor();
        throw new AssertionError("goplugin4j " + String.join(" ", args) + " did not finish in 5"
            + " minutes");
      }
      return new Result(p.exitValue(), out.join(), err.join());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
  }

  static Result run(String... args) {
    return run(Map.of(), args);
  }

  private static CompletableFuture<String> drain(InputStream in) {
    return CompletableFuture.supplyAsync(() -> {
      try {
        return new String(in.readAllBytes(), StandardCharsets.UTF_8);
      } catch (IOException e) {
        return "(unreadable: " + e + ")";
      }
    });
  }

  /** Runs a plain command and returns its stdout; fails the test when it fails. */
  static String sh(String... cmd) {
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      p.getOutputStream().close();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(p.waitFor(5, TimeUnit.MINUTES)).isTrue();
      assertThat(p.exitValue()).as(String.join(" ", cmd) + "\n" + out).isZero();
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
  }

  /** Names of goplugin4j socket directories under a parent. */
  static List<String> socketDirs(Path parent) {
    try (var s = Files.list(parent)) {
      return s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("goplugin4j-"))
          .toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
