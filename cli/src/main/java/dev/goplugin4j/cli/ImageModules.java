package dev.goplugin4j.cli;

import dev.goplugin4j.cli.ImageBuildException.Step;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * Which JDK modules a class path needs, as {@code jdeps --print-module-deps} answers, without
 * unpacking anything: every class file of the jars (the multi-release view for the target JDK)
 * is read in memory, the packages its constant pool refers to (class entries and the type names
 * in descriptors and signatures) are collected, and each is looked up among the packages of the
 * target JDK's modules (its {@code jrt:/} file system). jdeps took 6–7 s of CPU for the SDK's
 * 9,000 classes, plus writing them all to disk first (its class-path mode cannot read modular
 * jars); this takes well under one.
 */
final class ImageModules {
  private ImageModules() {}

  /**
   * The JDK modules the jars refer to, sorted, {@code java.base} first.
   *
   * @param jars the class path
   * @param javaHome the target JDK
   * @param feature its feature version (for the multi-release view)
   */
  static List<String> of(List<Path> jars, Path javaHome, int feature) {
    Map<String, String> packages = jdkPackages(javaHome);
    Set<String> referenced = new HashSet<>();
    for (Path jar : jars) {
      try (ZipFile z = new ZipFile(jar.toFile())) {
        for (Enumeration<? extends ZipEntry> en = z.entries(); en.hasMoreElements(); ) {
          ZipEntry e = en.nextElement();
          String n = e.getName();
          if (!n.endsWith(".class") || n.endsWith("module-info.class")) {
            continue;
          }
          if (n.startsWith("META-INF/")) {
            if (!n.startsWith("META-INF/versions/")) {
              continue;
            }
            int slash = n.indexOf('/', 18);
            try {
              if (slash < 0 || Integer.parseInt(n.substring(18, slash)) > feature) {
                continue;
              }
            } catch (NumberFormatException ex) {
              continue;
            }
          }
          try (InputStream in = z.getInputStream(e)) {
            packagesOf(in.readAllBytes(), referenced);
          }
        }
      } catch (IOException | RuntimeException e) {
        throw new ImageBuildException(Step.RUNTIME, "cannot read the classes of " + jar + ": "
            + e.getMessage(), e);
      }
    }
    TreeSet<String> modules = new TreeSet<>();
    for (String p : referenced) {
      String m = packages.get(p);
      if (m != null) {
        modules.add(m);
      }
    }
    modules.remove("java.base");
    List<String> out = new ArrayList<>();
    out.add("java.base");
    out.addAll(modules);
    return out;
  }

  /** Package (dotted) to module, for every module of the JDK at {@code javaHome}. */
  static Map<String, String> jdkPackages(Path javaHome) {
    Map<String, String> map = new HashMap<>();
    boolean running;
    try {
      running = Files.isSameFile(javaHome, Path.of(System.getProperty("java.home")));
    } catch (IOException e) {
      running = false;
    }
    FileSystem jrt = null;
    try {
      jrt = running ? FileSystems.getFileSystem(URI.create("jrt:/"))
          : FileSystems.newFileSystem(URI.create("jrt:/"), Map.of("java.home", javaHome.toString()));
      try (DirectoryStream<Path> pkgs = Files.newDirectoryStream(jrt.getPath("/packages"))) {
        for (Path pkg : pkgs) {
          String name = pkg.getFileName().toString();
          try (DirectoryStream<Path> mods = Files.newDirectoryStream(pkg)) {
            for (Path mod : mods) {
              // /packages also lists a module's bare parent directories ("javax.annotation" for
              // java.compiler's javax.annotation.processing): only a directory with classes is
              // one of its packages (JSR 305's javax.annotation is not java.compiler's)
              if (hasClasses(jrt.getPath("/modules", mod.getFileName().toString(),
                  name.replace('.', '/')))) {
                map.putIfAbsent(name, mod.getFileName().toString());
              }
            }
          }
        }
      }
    } catch (IOException | RuntimeException e) {
      throw new ImageBuildException(Step.JDK, "cannot read the modules of " + javaHome
          + " (its lib/modules through jrt:/): " + e.getMessage()
          + "; --java-home must point to a full JDK", e);
    } finally {
      if (jrt != null && !running) {
        try {
          jrt.close();
        } catch (IOException e) {
          // read-only
        }
      }
    }
    if (map.isEmpty()) {
      throw new ImageBuildException(Step.JDK, javaHome + " lists no modules: --java-home must"
          + " point to a full JDK");
    }
    return map;
  }

  private static boolean hasClasses(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      return false;
    }
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*.class")) {
      return files.iterator().hasNext();
    }
  }

  /**
   * Adds the packages (dotted) a class file refers to: names of class constants (arrays
   * unwrapped) and the {@code L...;} type names in every UTF-8 constant (descriptors, signatures,
   * annotation types).
   */
  static void packagesOf(byte[] classFile, Set<String> out) throws IOException {
    DataInputStream in = new DataInputStream(new java.io.ByteArrayInputStream(classFile));
    if (in.readInt() != 0xCAFEBABE) {
      return; // not a class file
    }
    in.readUnsignedShort();
    in.readUnsignedShort();
    int count = in.readUnsignedShort();
    String[] utf8 = new String[count];
    List<Integer> classNames = new ArrayList<>();
    for (int i = 1; i < count; i++) {
      int tag = in.readUnsignedByte();
      switch (tag) {
        case 1 -> utf8[i] = in.readUTF();
        case 7 -> classNames.add(in.readUnsignedShort());
        case 8, 16, 19, 20 -> in.readUnsignedShort();
        case 3, 4, 9, 10, 11, 12, 17, 18 -> in.readInt();
        case 15 -> {
          in.readUnsignedByte();
          in.readUnsignedShort();
        }
        case 5, 6 -> {
          in.readLong();
          i++;
        }
        default -> throw new IOException("unknown constant pool tag " + tag);
      }
    }
    for (int idx : classNames) {
      String n = idx < count ? utf8[idx] : null;
      if (n == null) {
        continue;
      }
      if (n.startsWith("[")) {
        descriptorTypes(n, out);
      } else {
        addPackage(n, out);
      }
    }
    for (String s : utf8) {
      if (s != null && s.indexOf(';') > 0) {
        descriptorTypes(s, out);
      }
    }
  }

  private static void descriptorTypes(String s, Set<String> out) {
    int i = 0;
    while ((i = s.indexOf('L', i)) >= 0) {
      int end = i + 1;
      while (end < s.length() && s.charAt(end) != ';' && s.charAt(end) != '<'
          && s.charAt(end) != '(' && s.charAt(end) != ')' && s.charAt(end) != ' ') {
        end++;
      }
      if (end < s.length() && (s.charAt(end) == ';' || s.charAt(end) == '<') && end > i + 1) {
        addPackage(s.substring(i + 1, end), out);
      }
      i = end;
    }
  }

  private static void addPackage(String internalName, Set<String> out) {
    int slash = internalName.lastIndexOf('/');
    if (slash > 0) {
      out.add(internalName.substring(0, slash).replace('/', '.'));
    }
  }
}
