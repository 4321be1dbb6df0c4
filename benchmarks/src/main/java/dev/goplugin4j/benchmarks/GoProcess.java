package dev.goplugin4j.benchmarks;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A Go driver child process that prints {@code ready} on stdout once it serves, and exits when
 * its stdin closes. Its stderr goes to ours. Not thread-safe; one owner starts and closes it.
 */
final class GoProcess implements AutoCloseable {
  private final Process process;

  private GoProcess(Process process) {
    this.process = process;
  }

  /** Starts the command and waits for its {@code ready} line. */
  static GoProcess startReady(List<String> command) {
    Process p;
    try {
      p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    } catch (IOException e) {
      throw new IllegalStateException("cannot run " + command + ": " + e.getMessage(), e);
    }
    GoProcess gp = new GoProcess(p);
    try {
      BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
      String line = out.readLine();
      if (!"ready".equals(line)) {
        throw new IllegalStateException(command + " did not print ready, but " + line);
      }
      return gp;
    } catch (IOException | RuntimeException e) {
      gp.close();
      throw new IllegalStateException("cannot start " + command + ": " + e.getMessage(), e);
    }
  }

  /** Closes its stdin, waits up to 5 s for it to exit, kills it otherwise. */
  @Override
  public void close() {
    try {
      process.getOutputStream().close();
      if (!process.waitFor(5, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
      }
    } catch (IOException e) {
      process.destroyForcibly();
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }
}
