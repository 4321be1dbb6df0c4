package dev.goplugin4j.cli;

import dev.goplugin4j.cli.ImageBuildException.Step;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Enumeration;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * What {@link ImageBuilder} does on this machine's file system and with its programs, apart from
 * the engine: native libraries out of jars, the runtime's modules and stripping, the C libraries
 * a runtime links ({@code ldd}), a tree into the build context, sizes, clean-up, and running a
 * program with a bound. Stateless; thread-safe.
 */
final class ImageFiles {
  private ImageFiles() {}

  /** This machine's Netty epoll library from the jars (Netty looks in java.library.path first). */
  static void unpackEpoll(List<Path> jars, Path nativeDir) throws IOException {
    String osArch = System.getProperty("os.arch");
    String arch = osArch.equals("amd64") ? "x86_64" : osArch.equals("aarch64") ? "aarch_64" : osArch;
    for (Path jar : jars) {
      try (ZipFile z = new ZipFile(jar.toFile())) {
        for (Enumeration<? extends ZipEntry> en = z.entries(); en.hasMoreElements(); ) {
          ZipEntry e = en.nextElement();
          String n = e.getName();
          if (n.startsWith("META-INF/native/") && n.indexOf('/', 16) < 0
              && n.endsWith("_" + arch + ".so") && n.contains("transport_native_epoll")) {
            try (InputStream s = z.getInputStream(e)) {
              Files.copy(s, nativeDir.resolve(n.substring(16)), StandardCopyOption.REPLACE_EXISTING);
            }
          }
        }
      }
    }
  }

  /** ACCP's library into {@code nativeDir}; false when the jar has none for this machine. */
  static boolean unpackAccp(Path jar, Path nativeDir) throws IOException {
    try (ZipFile z = new ZipFile(jar.toFile())) {
      ZipEntry e = z.getEntry("com/amazon/corretto/crypto/provider/libamazonCorrettoCryptoProvider.so");
      if (e == null) {
        return false;
      }
      try (InputStream s = z.getInputStream(e)) {
        Files.copy(s, nativeDir.resolve("libamazonCorrettoCryptoProvider.so"),
            StandardCopyOption.REPLACE_EXISTING);
      }
      return true;
    }
  }

  /**
   * Removes {@code META-INF/native/*.so|jnilib|dll} from a jar copy (other platforms, Netty's
   * tcnative; this machine's epoll library is in {@code /app/native}, where Netty looks first),
   * in place through the zip file system, which copies the other entries as they are.
   */
  static void dropNativeLibraries(Path jar) throws IOException {
    List<String> drop = new ArrayList<>();
    try (ZipFile z = new ZipFile(jar.toFile())) {
      for (Enumeration<? extends ZipEntry> en = z.entries(); en.hasMoreElements(); ) {
        String n = en.nextElement().getName();
        if (n.startsWith("META-INF/native/") && n.indexOf('/', 16) < 0
            && (n.endsWith(".so") || n.endsWith(".jnilib") || n.endsWith(".dll"))) {
          drop.add(n);
        }
      }
    }
    if (drop.isEmpty()) {
      return;
    }
    try (FileSystem fs = FileSystems.newFileSystem(jar)) {
      for (String n : drop) {
        Files.delete(fs.getPath(n));
      }
    }
  }

  record ProcessResult(int status, String output) {}

  static ProcessResult exec(List<String> cmd, Duration timeout) {
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      p.getOutputStream().close();
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      Thread reader = new Thread(() -> {
        try (InputStream s = p.getInputStream()) {
          s.transferTo(out);
        } catch (IOException e) {
          // the process ended
        }
      }, "goplugin4j-image-exec");
      reader.start();
      try {
        if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
          p.destroyForcibly();
          p.waitFor();
          reader.join();
          throw new ImageBuildException(Step.RUNTIME, cmd.get(0) + " did not finish in "
              + timeout.toSeconds() + " s");
        }
        reader.join();
      } catch (InterruptedException e) {
        p.destroyForcibly();
        Thread.currentThread().interrupt();
        throw new ImageBuildException(Step.RUNTIME, "interrupted while " + cmd.get(0) + " ran", e);
      }
      return new ProcessResult(p.exitValue(), out.toString(StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new ImageBuildException(Step.RUNTIME, "cannot run " + cmd.get(0) + ": " + e, e);
    }
  }

  /** The modules of a jlinked runtime, from its {@code release} file. */
  static Set<String> runtimeModules(Path runtime) throws IOException {
    for (String line : Files.readAllLines(runtime.resolve("release"))) {
      if (line.startsWith("MODULES=")) {
        return new HashSet<>(List.of(line.substring(8).replace("\"", "").strip().split("\\s+")));
      }
    }
    return Set.of("java.base");
  }

  /** strip --strip-unneeded on the runtime's libraries, when this machine has strip. */
  static void strip(Path runtime) throws IOException {
    Optional<Path> strip = onPath("strip");
    if (strip.isEmpty()) {
      return;
    }
    List<String> cmd = new ArrayList<>(List.of(strip.get().toString(), "--strip-unneeded"));
    try (Stream<Path> s = Files.walk(runtime)) {
      s.filter(p -> p.getFileName().toString().endsWith(".so")).forEach(p -> cmd.add(p.toString()));
    }
    exec(cmd, Duration.ofMinutes(2)); // best effort: an unstripped library still works
  }

  static Optional<Path> onPath(String name) {
    String path = System.getenv("PATH");
    for (String dir : (path == null ? "/usr/bin:/bin" : path).split(":")) {
      Path p = Path.of(dir.isEmpty() ? "." : dir, name);
      if (Files.isExecutable(p)) {
        return Optional.of(p);
      }
    }
    return Optional.empty();
  }

  /** The C libraries the given ELF files link, by {@code ldd}, loader included. */
  static Set<String> ldd(List<Path> files) {
    Optional<Path> ldd = onPath("ldd");
    if (ldd.isEmpty()) {
      throw new ImageBuildException(Step.LIBRARIES, "no ldd on PATH: the image builder copies the"
          + " C libraries the runtime links from this machine and finds them with ldd (glibc's"
          + " libc-bin package); install it");
    }
    List<String> cmd = new ArrayList<>();
    cmd.add(ldd.get().toString());
    files.forEach(f -> cmd.add(f.toString()));
    ProcessResult r = exec(cmd, Duration.ofMinutes(1));
    Set<String> libs = new LinkedHashSet<>(ImageRecipe.lddPaths(r.output()));
    if (libs.stream().noneMatch(l -> l.contains("libc.so"))) {
      throw new ImageBuildException(Step.LIBRARIES, "ldd found no C library for "
          + files.get(0) + ": the image builder needs a glibc Linux machine (" + tail(r.output(), 5)
          + ")");
    }
    return libs;
  }

  static void addTree(ImageTar tar, Path root, String prefix) throws IOException {
    List<Path> all;
    try (Stream<Path> s = Files.walk(root)) {
      all = s.sorted(Comparator.comparing(Path::toString)).toList();
    }
    for (Path p : all) {
      String rel = root.relativize(p).toString();
      String name = rel.isEmpty() ? prefix : prefix + "/" + rel;
      if (Files.isDirectory(p)) {
        tar.dir(name, 0755);
      } else {
        tar.file(name, Files.isExecutable(p) ? 0755 : 0644, p);
      }
    }
  }

  static String tail(String text, int lines) {
    List<String> all = text.strip().lines().toList();
    return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
  }

  static long size(Path root) {
    try (Stream<Path> s = Files.walk(root)) {
      return s.filter(Files::isRegularFile).mapToLong(p -> {
        try {
          return Files.size(p);
        } catch (IOException e) {
          return 0;
        }
      }).sum();
    } catch (IOException e) {
      return 0;
    }
  }

  static void deleteRecursively(Path dir) {
    if (dir == null || !Files.exists(dir)) {
      return;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      // best effort; reported by the caller's leak checks
    }
  }
}
