package dev.goplugin4j.examples.demo;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.zip.Deflater;
import java.util.zip.ZipEntry;

/**
 * The demo host's class path for docs/startup.md's recipe, made by {@code scripts/demo.sh} with the
 * JDK alone (no unzip, zip or python on a fresh machine). Every jar of the class path is copied
 * into one directory, again only when its content changed: Maven writes each jar anew at every
 * {@code install}, and the JVM drops a class-data archive whose jars changed time or size, so the
 * archive is trained on the copies and stays valid from one run to the next. The signed jars
 * (BouncyCastle's, ACCP's) are copied without their signature files and with their manifest cut
 * to its main section, so that the JVM neither verifies them at their first class load nor leaves
 * their classes out of the archive; ACCP's native library is unpacked once into a directory, from
 * which ACCP loads it ({@code -Dcom.amazon.corretto.crypto.provider.useExternalLib=true}) instead
 * of inflating 9.6 MB into a new temporary directory at every start. Not thread-safe; a
 * command-line step.
 *
 * <p>Usage: {@code HostClassPath OUT_DIR CLASS_PATH}. Writes the copies to {@code OUT_DIR/lib}
 * (each with its content's fingerprint beside it), the library to {@code OUT_DIR/native}, prints
 * the class path of the copies (in the given order) on stdout and, when it copied any, how many
 * on stderr.
 */
public final class HostClassPath {
  /** ACCP's library inside its jar. */
  static final String ACCP_LIBRARY = "com/amazon/corretto/crypto/provider/libamazonCorrettoCryptoProvider.so";

  private HostClassPath() {}

  /**
   * Runs the step.
   *
   * @param args the output directory and the class path (jars separated by {@code :})
   */
  public static void main(String[] args) {
    if (args.length != 2) {
      System.err.println("usage: HostClassPath OUT_DIR CLASS_PATH");
      System.exit(2);
    }
    try {
      System.out.println(rewrite(Path.of(args[0]), args[1]));
    } catch (IOException | UncheckedIOException e) {
      System.err.println("HostClassPath: " + e);
      System.exit(1);
    }
  }

  /** Makes the copies and the library directory; returns the class path to run with. */
  static String rewrite(Path out, String classPath) throws IOException {
    Path lib = out.resolve("lib");
    Path nativeDir = out.resolve("native");
    Files.createDirectories(lib);
    Files.createDirectories(nativeDir);
    List<String> result = new ArrayList<>();
    Set<String> names = new HashSet<>();
    int copied = 0;
    int unsigned = 0;
    for (String element : classPath.split(":")) {
      if (element.isEmpty()) {
        continue;
      }
      Path jar = Path.of(element);
      if (!Files.isRegularFile(jar) || !element.endsWith(".jar")) {
        result.add(element);
        continue;
      }
      String name = jar.getFileName().toString();
      for (int n = 2; !names.add(name); n++) {
        name = n + "-" + jar.getFileName();
      }
      Path copy = lib.resolve(name);
      Path stamp = lib.resolve(name + ".sha256");
      result.add(copy.toAbsolutePath().toString());
      try (JarFile in = new JarFile(jar.toFile(), false)) {
        String fingerprint = fingerprint(in);
        boolean hasLibrary = in.getEntry(ACCP_LIBRARY) != null;
        Path so = nativeDir.resolve(ACCP_LIBRARY.substring(ACCP_LIBRARY.lastIndexOf('/') + 1));
        if (Files.isRegularFile(copy) && Files.isRegularFile(stamp)
            && fingerprint.equals(Files.readString(stamp)) && (!hasLibrary || Files.isRegularFile(so))) {
          continue; // unchanged: the copy keeps its time, so the class-data archive stays valid
        }
        if (hasLibrary) {
          Path tmp = Files.createTempFile(nativeDir, "lib", ".tmp");
          try (InputStream s = in.getInputStream(in.getEntry(ACCP_LIBRARY))) {
            Files.copy(s, tmp, StandardCopyOption.REPLACE_EXISTING);
          }
          readable(tmp);
          Files.move(tmp, so, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        }
        if (signed(in)) {
          unsignedCopy(in, copy);
          unsigned++;
        } else {
          Path tmp = Files.createTempFile(lib, "jar", ".tmp");
          Files.copy(jar, tmp, StandardCopyOption.REPLACE_EXISTING);
          readable(tmp);
          Files.move(tmp, copy, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        }
        Files.writeString(stamp, fingerprint);
        copied++;
      }
    }
    if (copied > 0) {
      System.err.println("copied " + copied + " changed jar(s) of " + result.size() + ", " + unsigned
          + " of them without their signatures, into " + lib);
    }
    return String.join(":", result);
  }

  /**
   * What a jar holds, from its central directory alone (names, sizes and CRCs; not the entries'
   * times): Maven writes every jar anew at each {@code install}, with new times but the same
   * content, and the JVM drops a class-data archive when a jar's time or size changed.
   */
  static String fingerprint(JarFile in) {
    MessageDigest d;
    try {
      d = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JDK", e);
    }
    for (Enumeration<JarEntry> e = in.entries(); e.hasMoreElements(); ) {
      JarEntry entry = e.nextElement();
      d.update((entry.getName() + "\0" + entry.getCrc() + "\0" + entry.getSize() + "\n")
          .getBytes(StandardCharsets.UTF_8));
    }
    return HexFormat.of().formatHex(d.digest());
  }

  /** rw-r--r--, as the jars it copies (a temporary file is made rw-------). */
  private static void readable(Path p) throws IOException {
    if (Files.getFileStore(p).supportsFileAttributeView("posix")) {
      Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rw-r--r--"));
    }
  }

  private static boolean signed(JarFile in) {
    for (Enumeration<JarEntry> e = in.entries(); e.hasMoreElements(); ) {
      if (signatureFile(e.nextElement().getName())) {
        return true;
      }
    }
    return false;
  }

  /** A jar's signature files: META-INF/*.SF, *.RSA, *.DSA, *.EC (not in a subdirectory). */
  static boolean signatureFile(String name) {
    String n = name.toUpperCase(Locale.ROOT);
    if (!n.startsWith("META-INF/") || n.indexOf('/', 9) >= 0) {
      return false;
    }
    return n.endsWith(".SF") || n.endsWith(".RSA") || n.endsWith(".DSA") || n.endsWith(".EC")
        || n.startsWith("META-INF/SIG-");
  }

  /** Copies every entry but the signature files; the manifest keeps its main section only. */
  private static void unsignedCopy(JarFile in, Path copy) throws IOException {
    Manifest main = new Manifest();
    Manifest old = in.getManifest();
    if (old != null) {
      main.getMainAttributes().putAll(old.getMainAttributes());
    }
    Path tmp = Files.createTempFile(copy.getParent(), "jar", ".tmp");
    try {
      try (OutputStream file = Files.newOutputStream(tmp);
          JarOutputStream o = new JarOutputStream(file, main)) {
        o.setLevel(Deflater.BEST_SPEED);
        byte[] buf = new byte[1 << 16];
        for (Enumeration<JarEntry> e = in.entries(); e.hasMoreElements(); ) {
          JarEntry entry = e.nextElement();
          String name = entry.getName();
          if (signatureFile(name) || name.equalsIgnoreCase(JarFile.MANIFEST_NAME)) {
            continue;
          }
          ZipEntry n = new ZipEntry(name);
          n.setTime(entry.getTime());
          o.putNextEntry(n);
          try (InputStream s = in.getInputStream(entry)) {
            for (int r; (r = s.read(buf)) > 0; ) {
              o.write(buf, 0, r);
            }
          }
          o.closeEntry();
        }
      }
      readable(tmp);
      Files.move(tmp, copy, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }
}
