package dev.goplugin4j.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * How {@link GoPeers} builds one peer into its cache, whatever the peer: the cache key (recipe,
 * toolchain, peer), the file lock per peer, the scratch module, the {@code go} commands with our
 * environment and timeout, and the atomic move of the binary into place. {@link GoPeers} decides
 * what to build; this class knows nothing about go-plugin.
 *
 * <p>Thread-safe: immutable; builds of the same peer by several threads or JVMs are serialized by
 * the peer's lock file, as the class comment of {@link GoPeers} describes.
 *
 * @param cacheDir the cache directory, absolute and normalized
 * @param goExecutable the {@code go} command
 * @param buildTimeout how long one {@code go} command may take
 */
record GoPeerBuilds(Path cacheDir, String goExecutable, Duration buildTimeout) {
  /** Bump to invalidate every cached binary when the way peers are built changes. */
  private static final String RECIPE = "goplugin4j-go-peers/2";
  private static final int MAX_OUTPUT_CHARS = 32 * 1024;
  private static final long LOCK_POLL_MILLIS = 100;
  private static final System.Logger LOG = System.getLogger(GoPeers.class.getName());

  /**
   * The binary of {@code peer} for the toolchain {@code env}: from the cache, else built under the
   * peer's lock.
   *
   * @throws GoBuildException if the build fails
   */
  Path build(Peer peer, GoEnv env) {
    MessageDigest digest = sha256();
    for (String part : List.of(RECIPE, env.version(), env.os(), env.arch(), "CGO_ENABLED=0")) {
      digest.update(part.getBytes(StandardCharsets.UTF_8));
      digest.update((byte) 0);
    }
    for (String part : peer.keyParts()) {
      digest.update(part.getBytes(StandardCharsets.UTF_8));
      digest.update((byte) 0);
    }
    String key = HexFormat.of().formatHex(digest.digest()).substring(0, 16);
    String id = peer.binaryName() + "-" + key;
    Path binary = cacheDir.resolve("bin").resolve(id);
    if (Files.isRegularFile(binary) && Files.isExecutable(binary)) {
      return binary;
    }
    try {
      Files.createDirectories(binary.getParent());
      Path lockFile = cacheDir.resolve("locks").resolve(id + ".lock");
      Files.createDirectories(lockFile.getParent());
      try (FileChannel channel =
          FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
        FileLock lock = lock(channel, peer, lockFile);
        try {
          return buildLocked(peer, id, binary);
        } finally {
          lock.release();
        }
      }
    } catch (IOException e) {
      throw new GoBuildException(
          "could not build Go peer " + peer.description() + " under " + cacheDir + ": " + e, e);
    }
  }

  private Path buildLocked(Peer peer, String id, Path binary) throws IOException {
    if (Files.isRegularFile(binary) && Files.isExecutable(binary)) {
      return binary; // another thread or JVM built it while we waited
    }
    Path work = cacheDir.resolve("src").resolve(id);
    deleteRecursively(work);
    Files.createDirectories(work);
    peer.preparer().prepare(work);
    Path temp = binary.resolveSibling(id + ".tmp-" + UUID.randomUUID());
    long started = System.nanoTime();
    LOG.log(System.Logger.Level.INFO, "building Go peer {0} into {1}", peer.description(), binary);
    try {
      for (List<String> args : peer.setup()) {
        List<String> command = new ArrayList<>();
        command.add(goExecutable);
        command.addAll(args);
        runGo(command, work, work.resolve("setup.log"), "go " + args.get(0) + " for " + peer.description());
      }
      List<String> build = new ArrayList<>(List.of(goExecutable, "build", "-trimpath"));
      build.addAll(peer.buildFlags());
      build.addAll(List.of("-o", temp.toString(), peer.buildTarget()));
      runGo(build, work, work.resolve("build.log"), "go build of " + peer.description());
      if (!Files.isRegularFile(temp)) {
        throw new GoBuildException(
            "go build of "
                + peer.description()
                + " succeeded but wrote no binary at "
                + temp
                + " (is "
                + peer.buildTarget()
                + " a main package?); see "
                + work.resolve("build.log"));
      }
      Files.move(temp, binary, StandardCopyOption.ATOMIC_MOVE);
    } finally {
      Files.deleteIfExists(temp);
    }
    LOG.log(
        System.Logger.Level.INFO,
        "built Go peer {0} in {1} s",
        peer.description(),
        TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started));
    return binary;
  }

  private FileLock lock(FileChannel channel, Peer peer, Path lockFile) throws IOException {
    long deadline = System.nanoTime() + buildTimeout.multipliedBy(2).toNanos();
    boolean told = false;
    while (true) {
      try {
        FileLock lock = channel.tryLock();
        if (lock != null) {
          return lock;
        }
      } catch (OverlappingFileLockException e) {
        // another thread of this JVM holds it; wait like for another JVM
      }
      if (!told) {
        LOG.log(System.Logger.Level.INFO, "waiting for another build of Go peer {0}", peer.description());
        told = true;
      }
      if (System.nanoTime() - deadline > 0) {
        throw new GoBuildException(
            "timed out after " + buildTimeout.multipliedBy(2).toSeconds() + " s waiting for another build of Go peer "
                + peer.description() + " (lock " + lockFile + "); is a stuck go build running?");
      }
      try {
        Thread.sleep(LOCK_POLL_MILLIS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new GoBuildException("interrupted while waiting to build Go peer " + peer.description(), e);
      }
    }
  }
  void runGo(List<String> command, Path dir, Path output, String what) throws IOException {
    ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true);
    pb.redirectOutput(output.toFile());
    Map<String, String> env = pb.environment();
    env.put("GOFLAGS", "-mod=mod -buildvcs=false");
    env.put("GOTOOLCHAIN", "local");
    env.put("CGO_ENABLED", "0");
    env.put("GOWORK", "off");
    Process process;
    try {
      process = pb.start();
    } catch (IOException e) {
      throw new GoBuildException(
          "cannot run the Go toolchain '"
              + goExecutable
              + "' for "
              + what
              + ": "
              + e.getMessage()
              + ". Install Go 1.24 or newer and put 'go' on PATH, or set -D"
              + GoPeers.GO_EXECUTABLE_PROPERTY
              + "=/path/to/go",
          e);
    }
    boolean finished;
    try {
      finished = process.waitFor(buildTimeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      destroy(process);
      Thread.currentThread().interrupt();
      throw new GoBuildException("interrupted during " + what, e);
    }
    if (!finished) {
      destroy(process);
      throw new GoBuildException(
          what + " did not finish within " + buildTimeout.toSeconds() + " s (raise -D"
              + GoPeers.BUILD_TIMEOUT_PROPERTY + "; is the module proxy reachable?); command: "
              + String.join(" ", command) + " in " + dir + "; output so far:\n" + tail(output));
    }
    if (process.exitValue() != 0) {
      throw new GoBuildException(
          what + " failed with exit status " + process.exitValue() + "; command: "
              + String.join(" ", command) + " in " + dir
              + " (GOFLAGS=-mod=mod -buildvcs=false GOTOOLCHAIN=local CGO_ENABLED=0 GOWORK=off); output:\n"
              + tail(output));
    }
  }

  private static void destroy(Process process) {
    process.descendants().forEach(ProcessHandle::destroyForcibly);
    process.destroyForcibly();
    try {
      process.waitFor(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static String tail(Path output) {
    try {
      String text = Files.readString(output, StandardCharsets.UTF_8);
      return text.length() <= MAX_OUTPUT_CHARS
          ? text
          : "[... " + (text.length() - MAX_OUTPUT_CHARS) + " chars cut ...]\n"
              + text.substring(text.length() - MAX_OUTPUT_CHARS);
    } catch (IOException | UncheckedIOException e) {
      return "(output unreadable: " + e + ")";
    }
  }
  private static void deleteRecursively(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : (Iterable<Path>) walk.sorted(Comparator.reverseOrder())::iterator) {
        Files.deleteIfExists(p);
      }
    }
  }

  static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required of every JDK", e);
    }
  }

  record GoEnv(String version, String os, String arch) {}

  @FunctionalInterface
  interface Preparer {
    void prepare(Path dir) throws IOException;
  }

  /**
   * One binary to build.
   *
   * @param description for messages
   * @param binaryName file name stem
   * @param keyParts what, besides the toolchain, decides the binary
   * @param setup {@code go} arguments run before the build, in the scratch module
   * @param buildFlags extra {@code go build} flags
   * @param buildTarget the package to build
   * @param preparer writes the scratch module
   */
  record Peer(
      String description,
      String binaryName,
      List<String> keyParts,
      List<List<String>> setup,
      List<String> buildFlags,
      String buildTarget,
      Preparer preparer) {}
}
