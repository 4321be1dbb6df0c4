package dev.goplugin4j.cli;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/** Runs the docs' example programs in a child JVM on the test class path. */
public final class DocsSupport {
  /** The KV image's name (its tag is the image built by {@link #kvImage()}). */
  public static final String KV_IMAGE = CliImages.KV;

  private DocsSupport() {}

  /**
   * What a run gave.
   *
   * @param status exit status
   * @param out stdout
   * @param err stderr
   */
  public record Result(int status, String out, String err) {
    @Override
    public String toString() {
      return "exit " + status + "\n--- stdout\n" + out + "\n--- stderr\n" + err;
    }
  }

  /** The java executable of this JVM. */
  public static String javaExecutable() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  /** Builds the KV plugin image if needed; returns its ID. The image name alone resolves to it only with its tag, so it is also tagged latest. */
  public static String kvImage() {
    String id = CliImages.kv();
    CliProcess.sh("docker", "tag", id, KV_IMAGE + ":latest");
    return id;
  }

  /**
   * Runs {@code main} of a class in a child JVM with this test class path, in a fresh temporary
   * working directory that is removed afterwards: the programs and the plugins they start write
   * files there (go-plugin's KV example plugin writes {@code kv_<key>} in its working directory).
   */
  public static Result java(Class<?> main, String... args) {
    List<String> cmd = new ArrayList<>(List.of(javaExecutable(), "-cp", absoluteClassPath(),
        main.getName()));
    cmd.addAll(List.of(args));
    Path work = null;
    try {
      work = Files.createTempDirectory("goplugin4j-docs-");
      Process p = new ProcessBuilder(cmd).directory(work.toFile()).start();
      p.getOutputStream().close();
      CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> read(p.getInputStream()));
      CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> read(p.getErrorStream()));
      if (!p.waitFor(3, TimeUnit.MINUTES)) {
        p.destroyForcibly().waitFor();
        throw new AssertionError(main.getSimpleName() + " did not finish in 3 minutes");
      }
      return new Result(p.exitValue(), out.join(), err.join());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    } finally {
      if (work != null) {
        deleteRecursively(work);
      }
    }
  }

  /** The test class path with each entry made absolute: the child runs in another directory. */
  private static String absoluteClassPath() {
    StringBuilder sb = new StringBuilder();
    for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
      if (entry.isEmpty()) {
        continue;
      }
      sb.append(sb.length() == 0 ? "" : File.pathSeparator).append(Path.of(entry).toAbsolutePath());
    }
    return sb.toString();
  }

  private static void deleteRecursively(Path dir) {
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot remove the docs programs' working directory " + dir, e);
    }
  }

  private static String read(java.io.InputStream in) {
    try {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "(unreadable: " + e + ")";
    }
  }
}
