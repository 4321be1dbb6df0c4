package dev.goplugin4j.container;

import dev.goplugin4j.testkit.GoPeers;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Builds the integration tests' images locally, without any registry: a root file system in a
 * temporary directory, {@code tar}, then {@code docker import} with the image config given by
 * {@code --change}. An image is rebuilt only when its content hash label differs, so repeated runs
 * do not pile up dangling images.
 *
 * <ul>
 *   <li>{@value #COUNTER}: plugincontainer's examples/container/plugin-counter, static, {@code FROM
 *       scratch}; tag {@code latest} (root) and {@code nonroot} (numeric {@code USER 1234:1234});
 *   <li>{@value #BUSYBOX}: Debian's busybox-static with {@code sh}, {@code sleep}, {@code cat},
 *       ...; and, on the same files, {@value #BROKEN} (prints "bye from broken" and exits 1),
 *       {@value #HANG} (sleeps, never handshakes) and {@value #EXIT_AT_ONCE} (exits 3 at once).
 * </ul>
 */
final class TestImages {
  static final String COUNTER = "goplugin4j-it/plugin-counter";
  static final String BUSYBOX = "goplugin4j-it/busybox";
  static final String BROKEN = "goplugin4j-it/broken";
  static final String HANG = "goplugin4j-it/hang";
  static final String EXIT_AT_ONCE = "goplugin4j-it/exit-at-once";
  static final int NONROOT_UID = 1234;

  private static final String HASH_LABEL = "dev.goplugin4j.test.content";
  private static volatile boolean built;

  private TestImages() {}

  /** Builds every test image once per JVM. */
  static synchronized void ensureBuilt() {
    if (built) {
      return;
    }
    Path counter = GoPeers.create().pluginContainerCounter();
    Path busybox = Path.of("/bin/busybox");
    if (!Files.isRegularFile(busybox)) {
      throw new IllegalStateException("/bin/busybox missing: run scripts/setup-engine.sh"
          + " (installs busybox-static)");
    }
    importImage(COUNTER + ":latest", List.of(counter), "/bin/go-plugin-counter", List.of(),
        List.of("ENTRYPOINT [\"/bin/go-plugin-counter\"]"));
    importImage(COUNTER + ":nonroot", List.of(counter), "/bin/go-plugin-counter", List.of(),
        List.of("ENTRYPOINT [\"/bin/go-plugin-counter\"]",
            "USER " + NONROOT_UID + ":" + NONROOT_UID));
    List<String> applets = List.of("sh", "sleep", "cat", "echo", "ls", "id", "touch", "tail",
        "true", "stat");
    importImage(BUSYBOX + ":latest", List.of(busybox), "/bin/busybox", applets,
        List.of("ENTRYPOINT [\"/bin/sh\"]"));
    importImage(BROKEN + ":latest", List.of(busybox), "/bin/busybox", applets,
        List.of("ENTRYPOINT [\"/bin/sh\", \"-c\", \"echo bye from broken; exit 1\"]"));
    importImage(HANG + ":latest", List.of(busybox), "/bin/busybox", applets,
        List.of("ENTRYPOINT [\"/bin/sleep\", \"3600\"]"));
    importImage(EXIT_AT_ONCE + ":latest", List.of(busybox), "/bin/busybox", applets,
        List.of("ENTRYPOINT [\"/bin/sh\", \"-c\", \"echo leaving >&2; exit 3\"]"));
    built = true;
  }

  /** Builds the images if needed, then returns the full ID of a reference. */
  static String imageIdLazy(String ref) {
    ensureBuilt();
    return imageId(ref);
  }

  /** The full image ID ({@code sha256:...}) of a reference. */
  static String imageId(String ref) {
    return run(List.of("docker", "image", "inspect", "--format", "{{.Id}}", ref)).strip();
  }

  private static void importImage(String ref, List<Path> binaries, String mainPath,
      List<String> applets, List<String> changes) {
    String hash = hash(binaries, mainPath, applets, changes);
    String existing = tryRun(List.of("docker", "image", "inspect", "--format",
        "{{index .Config.Labels \"" + HASH_LABEL + "\"}}", ref));
    if (existing != null && existing.strip().equals(hash)) {
      return;
    }
    Path root = null;
    Path tar = null;
    try {
      root = Files.createTempDirectory("goplugin4j-image-");
      Path bin = Files.createDirectories(root.resolve("bin"));
      Path main = root.resolve(mainPath.substring(1));
      Files.copy(binaries.get(0), main);
      main.toFile().setExecutable(true, false);
      for (String a : applets) {
        Files.createSymbolicLink(bin.resolve(a), Path.of("busybox"));
      }
      Files.writeString(Files.createDirectories(root.resolve("etc")).resolve("passwd"),
          "root:x:0:0:root:/:/bin/sh\nplugin:x:" + NONROOT_UID + ":" + NONROOT_UID
              + ":plugin:/:/bin/sh\n");
      Files.writeString(root.resolve("etc/group"), "root:x:0:\nplugin:x:" + NONROOT_UID + ":\n");
      tar = Files.createTempFile("goplugin4j-image-", ".tar");
      run(List.of("tar", "--numeric-owner", "--owner=0", "--group=0", "-C", root.toString(),
          "-cf", tar.toString(), "."));
      List<String> cmd = new ArrayList<>(List.of("docker", "import"));
      for (String c : changes) {
        cmd.add("--change");
        cmd.add(c);
      }
      cmd.add("--change");
      cmd.add("LABEL " + HASH_LABEL + "=" + hash);
      cmd.add(tar.toString());
      cmd.add(ref);
      run(cmd);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      deleteTree(root);
      deleteTree(tar);
    }
  }

  private static String hash(List<Path> binaries, String mainPath, List<String> applets,
      List<String> changes) {
    try {
      MessageDigest d = MessageDigest.getInstance("SHA-256");
      for (Path b : binaries) {
        d.update(Files.readAllBytes(b));
      }
      d.update((mainPath + applets + changes).getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(d.digest()).substring(0, 32);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  static String run(List<String> cmd) {
    String out = tryRun(cmd);
    if (out == null) {
      throw new IllegalStateException("command failed: " + String.join(" ", cmd) + "\n"
          + lastOutput.get());
    }
    return out;
  }

  private static final ThreadLocal<String> lastOutput = ThreadLocal.withInitial(() -> "");

  private static String tryRun(List<String> cmd) {
    try {
      // From /: in a child JVM run as the test user the working directory may not be enterable
      // (every path given here is absolute)
      Process p = new ProcessBuilder(cmd).directory(Path.of("/").toFile()).redirectErrorStream(true)
          .start();
      p.getOutputStream().close();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(5, TimeUnit.MINUTES)) {
        p.destroyForcibly();
        lastOutput.set("timed out");
        return null;
      }
      lastOutput.set(out);
      return p.exitValue() == 0 ? out : null;
    } catch (IOException e) {
      lastOutput.set(e.toString());
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      lastOutput.set("interrupted");
      return null;
    }
  }

  static void deleteTree(Path p) {
    if (p == null || !Files.exists(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    try (var walk = Files.walk(p)) {
      walk.sorted(java.util.Comparator.reverseOrder()).forEach(f -> {
        try {
          Files.deleteIfExists(f);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      });
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
