package dev.goplugin4j.testkit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Real Python go-plugin peers: go-plugin's own {@code examples/grpc/plugin-python} (taken from the
 * go-plugin module through the Go module proxy) run by a virtual environment with grpcio from PyPI,
 * made once under {@code <repo>/target/python-peers}. Fails with the tool's output when python3,
 * venv, pip or the registry is missing: never skips.
 *
 * <p>Thread-safe: the set-up runs at most once per JVM; across JVMs it is guarded by a marker file
 * written last.
 */
public final class PythonPeers {
  /** grpcio and grpcio-health-checking version installed into the environment. */
  public static final String GRPCIO_VERSION = "1.85.1";

  private static final Pattern DIR = Pattern.compile("\"Dir\"\\s*:\\s*\"([^\"]+)\"");

  private final Path cacheDir;
  private final String python;
  private final String go;

  private PythonPeers(Path cacheDir, String python, String go) {
    this.cacheDir = cacheDir;
    this.python = python;
    this.go = go;
  }

  /**
   * Peers cached under {@code <repo root>/target/python-peers}, using {@code python3} and {@code go}
   * from {@code PATH}.
   *
   * @return a new instance; cheap
   */
  public static PythonPeers create() {
    Path root = GoPeers.repositoryRoot(Path.of(System.getProperty("user.dir")));
    return new PythonPeers(root.resolve("target").resolve("python-peers"), "python3", "go");
  }

  /**
   * The command line that runs go-plugin's Python KV example plugin (version {@code goPluginVersion}
   * of the go-plugin module). It serves on {@code 127.0.0.1:1234} over plaintext TCP and writes
   * {@code kv_<key>} files into its working directory.
   *
   * @param goPluginVersion e.g. {@code v1.8.0}
   * @return the python interpreter and the script
   * @throws IllegalStateException with the failing tool's output when the set-up fails
   */
  public synchronized List<String> goPluginPythonKv(String goPluginVersion) {
    Objects.requireNonNull(goPluginVersion, "goPluginVersion");
    Path venv = cacheDir.resolve("venv-grpcio-" + GRPCIO_VERSION);
    Path marker = venv.resolve(".ready");
    Path venvPython = venv.resolve("bin").resolve("python");
    if (!Files.exists(marker)) {
      run(List.of(python, "-m", "venv", "--clear", venv.toString()), cacheDir,
          "create a Python virtual environment (on Debian: apt-get install python3-venv)");
      run(List.of(venvPython.toString(), "-m", "pip", "install", "-q", "--disable-pip-version-check",
              "grpcio==" + GRPCIO_VERSION, "grpcio-health-checking==" + GRPCIO_VERSION),
          cacheDir, "install grpcio from PyPI");
      try {
        Files.writeString(marker, GRPCIO_VERSION);
      } catch (IOException e) {
        throw new IllegalStateException("cannot write " + marker + ": " + e.getMessage(), e);
      }
    }
    String json = run(List.of(go, "mod", "download", "-json",
            GoPeers.GO_PLUGIN_MODULE + "@" + goPluginVersion), cacheDir,
        "download " + GoPeers.GO_PLUGIN_MODULE + "@" + goPluginVersion + " through the Go module proxy");
    Matcher m = DIR.matcher(json);
    if (!m.find()) {
      throw new IllegalStateException("go mod download printed no module directory:\n" + json);
    }
    Path script = Path.of(m.group(1), "examples", "grpc", "plugin-python", "plugin.py");
    if (!Files.isRegularFile(script)) {
      throw new IllegalStateException("go-plugin " + goPluginVersion + " has no " + script);
    }
    return List.of(venvPython.toString(), script.toString());
  }

  private static String run(List<String> command, Path dir, String what) {
    try {
      Files.createDirectories(dir);
      Path out = Files.createTempFile(dir, "cmd", ".log");
      try {
        ProcessBuilder pb = new ProcessBuilder(new ArrayList<>(command))
            .directory(dir.toFile()).redirectErrorStream(true).redirectOutput(out.toFile());
        pb.environment().put("GOFLAGS", "-mod=mod");
        pb.environment().put("GOTOOLCHAIN", "local");
        Process p = pb.start();
        if (!p.waitFor(10, TimeUnit.MINUTES)) {
          p.destroyForcibly();
          throw new IllegalStateException("timed out trying to " + what + ": " + command);
        }
        String output = Files.readString(out, StandardCharsets.UTF_8);
        if (p.exitValue() != 0) {
          throw new IllegalStateException("cannot " + what + " (" + String.join(" ", command)
              + " exited " + p.exitValue() + "):\n" + output);
        }
        return output;
      } finally {
        Files.deleteIfExists(out);
      }
    } catch (IOException e) {
      throw new IllegalStateException("cannot " + what + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while trying to " + what, e);
    }
  }
}
