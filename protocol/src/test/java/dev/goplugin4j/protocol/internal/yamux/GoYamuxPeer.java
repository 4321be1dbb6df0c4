package dev.goplugin4j.protocol.internal.yamux;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * HashiCorp's Go yamux as a child process ({@code src/test/go/yamuxpeer}), built once per JVM
 * with {@code go build} through the Go module proxy. A missing Go toolchain fails the test.
 */
final class GoYamuxPeer implements AutoCloseable {
  private static Path binary;

  private final Process process;
  private final BlockingQueue<String> stdout = new LinkedBlockingQueue<>();
  private final StringBuffer stderr = new StringBuffer();
  private final List<Thread> readers = new ArrayList<>();

  private GoYamuxPeer(Process process) {
    this.process = process;
    readers.add(pump(process.getInputStream(), line -> stdout.add(line), "yamuxpeer-stdout"));
    readers.add(pump(process.getErrorStream(), line -> stderr.append(line).append('\n'), "yamuxpeer-stderr"));
  }

  static synchronized Path binary() throws IOException, InterruptedException {
    if (binary != null) {
      return binary;
    }
    Path src = Path.of("src/test/go/yamuxpeer").toAbsolutePath();
    Path out = Path.of("target/go-bin/yamuxpeer").toAbsolutePath();
    Files.createDirectories(out.getParent());
    ProcessBuilder pb = new ProcessBuilder("go", "build", "-o", out.toString(), ".");
    pb.directory(src.toFile());
    pb.environment().put("GOFLAGS", "-mod=mod");
    pb.redirectErrorStream(true);
    Process p;
    try {
      p = pb.start();
    } catch (IOException e) {
      throw new AssertionError(
          "cannot run `go build` for the yamux conformance peer: install Go (1.21+) and put it on PATH",
          e);
    }
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(5, TimeUnit.MINUTES) || p.exitValue() != 0) {
      p.destroyForcibly();
      throw new AssertionError("go build of " + src + " failed:\n" + output);
    }
    binary = out;
    return out;
  }

  static GoYamuxPeer start(String role, Path socket, String... extra)
      throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of(binary().toString(), "-role", role, "-socket", socket.toString()));
    cmd.addAll(List.of(extra));
    return new GoYamuxPeer(new ProcessBuilder(cmd).start());
  }

  private static Thread pump(InputStream in, java.util.function.Consumer<String> sink, String name) {
    Thread t =
        new Thread(
            () -> {
              try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                  sink.accept(line);
                }
              } catch (IOException e) {
                // process gone
              }
            },
            name);
    t.setDaemon(true);
    t.start();
    return t;
  }

  /** Waits for {@code line} on stdout. */
  void awaitLine(String line, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      String l = stdout.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      if (l == null) {
        throw new AssertionError("yamuxpeer did not print \"" + line + "\" within " + timeout + "; stderr:\n" + stderr);
      }
      if (l.equals(line)) {
        return;
      }
    }
  }

  /** Waits for the process to exit and returns its exit code. */
  int awaitExit(Duration timeout) throws InterruptedException {
    if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      throw new AssertionError("yamuxpeer did not exit within " + timeout + "; stderr:\n" + stderr);
    }
    return process.exitValue();
  }

  String stderr() {
    return stderr.toString();
  }

  @Override
  public void close() {
    try {
      if (process.isAlive()) {
        process.destroy();
        if (!process.waitFor(5, TimeUnit.SECONDS)) {
          process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
      }
      for (Thread t : readers) {
        t.join(5000);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
