package dev.goplugin4j.examples.plugins;

import dev.goplugin4j.testkit.GoBuildException;
import dev.goplugin4j.testkit.GoPeers;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/** Shared helpers of the example plugins' integration tests. */
final class Examples {
  static final GoPeers PEERS = GoPeers.create();

  /** How long one host command may take (start, one call, stop) on a busy 2-core machine. */
  static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(GoPeers.inCi() ? 120 : 60);

  private static final String PLUGINCONTAINER = GoPeers.PLUGINCONTAINER_MODULE;

  private Examples() {}

  /** {@code target/plugin}: bin/ launchers and lib/ jars, made by {@code mvn package}. */
  static Path dist() {
    String p = System.getProperty("goplugin4j.examples.dist");
    Path d = p != null ? Path.of(p) : Path.of("target", "plugin").toAbsolutePath();
    if (!Files.isExecutable(d.resolve("bin").resolve("kv-plugin"))) {
      throw new IllegalStateException(
          "no runnable plugin layout at " + d + ": run the integration tests with mvn verify");
    }
    return d;
  }

  /** A launcher in {@code bin/}. */
  static Path launcher(String name) {
    return dist().resolve("bin").resolve(name);
  }

  /** The command a Go example host runs with {@code sh -c}: exec, so the JVM is the host's child. */
  static String shCommand(String launcher) {
    return "exec " + launcher(launcher);
  }

  /** The java running the tests, for the launchers. */
  static String java() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  /** A fresh directory under {@code /tmp} with a short path (socket paths must stay short). */
  static Path tempDir(String prefix) throws IOException {
    return Files.createTempDirectory(Path.of("/tmp"), prefix);
  }

  static void deleteRecursively(Path dir) throws IOException {
    if (dir == null || !Files.exists(dir)) {
      return;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  static String uniqueKey(String prefix) {
    return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
  }

  // ---------------------------------------------------------------------------------------------
  // processes

  /** What a finished process left. */
  record Result(int exit, String stdout, String stderr) {
    @Override
    public String toString() {
      return "exit " + exit + "\n--- stdout:\n" + stdout + "\n--- stderr:\n" + tail(stderr, 6000);
    }
  }

  static String tail(String s, int max) {
    return s.length() <= max ? s : "…" + s.substring(s.length() - max);
  }

  /** Runs a command to completion (killing it after the timeout) and collects its output. */
  static Result run(List<String> command, Map<String, String> env, Path cwd, Duration timeout)
      throws IOException, InterruptedException {
    ProcessBuilder pb = new ProcessBuilder(command).directory(cwd.toFile());
    pb.environment().putAll(env);
    Process p = pb.start();
    p.getOutputStream().close();
    CompletableFuture<String> out = drain(p.getInputStream());
    CompletableFuture<String> err = drain(p.getErrorStream());
    if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly().waitFor();
      throw new AssertionError("timed out after " + timeout + ": " + command + "\n--- stderr:\n"
          + tail(err.getNow(""), 6000));
    }
    return new Result(p.exitValue(), out.join(), err.join());
  }

  static CompletableFuture<String> drain(InputStream in) {
    return CompletableFuture.supplyAsync(() -> {
      try (in) {
        return new String(in.readAllBytes(), StandardCharsets.UTF_8);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    });
  }

  /** The environment the launchers need: which java to run. */
  static Map<String, String> javaEnv() {
    Map<String, String> env = new HashMap<>();
    env.put("JAVA", java());
    return env;
  }

  // ---------------------------------------------------------------------------------------------
  // our Go test hosts (src/test/go)

  /**
   * Builds one of our Go test hosts ({@code kvhost}, {@code counterhost}, {@code containerhost})
   * against a go-plugin version, through the Go module proxy; cached by sources and versions.
   */
  static synchronized Path goTestHost(String name, String goPluginVersion) {
    try {
      Path sources = goSources().resolve(name);
      byte[] main = Files.readAllBytes(sources.resolve("main.go"));
      boolean container = name.equals("containerhost");
      String goMod = "module goplugin4j.dev/examples/testhosts\n\ngo 1.24\n\nrequire (\n"
          + "\tgithub.com/hashicorp/go-plugin " + goPluginVersion + "\n"
          + (container ? "\t" + PLUGINCONTAINER + " " + GoPeers.PLUGINCONTAINER_VERSION + "\n" : "")
          + ")\n";
      MessageDigest d = MessageDigest.getInstance("SHA-256");
      d.update(main);
      d.update(goMod.getBytes(StandardCharsets.UTF_8));
      d.update(PEERS.goVersion().getBytes(StandardCharsets.UTF_8));
      String id = name + "-" + goPluginVersion + "-" + HexFormat.of().formatHex(d.digest()).substring(0, 12);
      Path binary = PEERS.cacheDir().resolve("example-hosts").resolve(id);
      if (Files.isExecutable(binary)) {
        return binary;
      }
      Path work = PEERS.cacheDir().resolve("example-hosts-src").resolve(id);
      deleteRecursively(work);
      Files.createDirectories(work.resolve(name));
      Files.write(work.resolve(name).resolve("main.go"), main);
      Files.writeString(work.resolve("go.mod"), goMod);
      Map<String, String> env = new HashMap<>();
      env.put("CGO_ENABLED", "0");
      env.put("GOFLAGS", "-mod=mod -buildvcs=false");
      env.put("GOTOOLCHAIN", "local");
      env.put("GOWORK", "off");
      List<List<String>> steps = new ArrayList<>();
      steps.add(List.of("go", "get", "github.com/hashicorp/go-plugin@" + goPluginVersion));
      if (container) {
        steps.add(List.of("go", "get", PLUGINCONTAINER + "@" + GoPeers.PLUGINCONTAINER_VERSION));
      }
      Path temp = binary.resolveSibling(id + ".tmp-" + UUID.randomUUID());
      Files.createDirectories(binary.getParent());
      steps.add(List.of("go", "build", "-trimpath", "-o", temp.toString(), "./" + name));
      for (List<String> step : steps) {
        Result r = run(step, env, work, Duration.ofMinutes(20));
        if (r.exit() != 0) {
          throw new GoBuildException("building Go test host " + id + ": " + step + " failed:\n" + r);
        }
      }
      Files.move(temp, binary, StandardCopyOption.ATOMIC_MOVE);
      return binary;
    } catch (IOException | NoSuchAlgorithmException e) {
      throw new GoBuildException("building Go test host " + name + ": " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new GoBuildException("interrupted while building Go test host " + name, e);
    }
  }

  private static Path goSources() {
    String p = System.getProperty("goplugin4j.examples.goSources");
    return p != null ? Path.of(p) : Path.of("src", "test", "go").toAbsolutePath();
  }
}
