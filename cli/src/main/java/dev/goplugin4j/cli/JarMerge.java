package dev.goplugin4j.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.jar.Attributes;
import java.util.jar.JarFile;
import java.util.jar.Manifest;
import java.util.zip.Deflater;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

/**
 * Merges a plugin's jars into one, so that the JVM opens, validates (AppCDS checks every class
 * path entry) and searches one jar instead of dozens at every start: each class or resource
 * lookup that misses (optional dependencies probed by name) goes through every jar of the class
 * path. What the merged jar holds, class path order kept:
 * <ul>
 *   <li>every entry as the class path would resolve it: the first jar holding a name wins;
 *   <li>{@code META-INF/services/*} files concatenated in class path order, as {@code
 *       ServiceLoader} reads all of them;
 *   <li>a new manifest, {@code Multi-Release: true} when a merged jar was; the versioned entries
 *       of a jar that was not multi-release are left out (the JDK ignores them there too).
 * </ul>
 * Signed jars are not merged (their signatures cover their own entries): {@link #signed} finds
 * them. Nor are jars that hold the same resource with different contents ({@link #lossy}): on a
 * class path {@code ClassLoader.getResources} returns every copy (a {@code reference.conf}, a
 * plugin index, a {@code spring.factories}), a merged jar would hold only the first. Classes
 * are exempt (a class loader takes the first copy either way), as are licence, notice and Maven
 * files. In both cases the recipe keeps every jar as it is. Stateless; thread-safe.
 */
final class JarMerge {
  /** The merged jar's file name. */
  static final String NAME = "app.jar";

  private static final String SERVICES = "META-INF/services/";
  private static final String VERSIONS = "META-INF/versions/";

  private JarMerge() {}

  /** The first signed jar of {@code jars} (a signature file in {@code META-INF/}), if any. */
  static Optional<Path> signed(List<Path> jars) throws IOException {
    for (Path jar : jars) {
      try (ZipFile z = new ZipFile(jar.toFile())) {
        for (Enumeration<? extends ZipEntry> en = z.entries(); en.hasMoreElements(); ) {
          String n = en.nextElement().getName().toUpperCase(Locale.ROOT);
          if (n.startsWith("META-INF/") && n.indexOf('/', 9) < 0 && (n.endsWith(".SF")
              || n.endsWith(".RSA") || n.endsWith(".DSA") || n.endsWith(".EC"))) {
            return Optional.of(jar);
          }
        }
      }
    }
    return Optional.empty();
  }

  /**
   * A resource that two of {@code jars} hold with different contents (size or CRC), which a merge
   * would lose, described as {@code "NAME (in A and B)"}; empty when nothing would be lost.
   */
  static Optional<String> lossy(List<Path> jars) throws IOException {
    Map<String, ZipEntry> first = new HashMap<>();
    Map<String, Path> owner = new HashMap<>();
    for (Path jar : jars) {
      try (ZipFile z = new ZipFile(jar.toFile())) {
        for (Enumeration<? extends ZipEntry> en = z.entries(); en.hasMoreElements(); ) {
          ZipEntry e = en.nextElement();
          String n = e.getName();
          if (e.isDirectory() || n.endsWith(".class") || n.startsWith(SERVICES)
              || n.startsWith(VERSIONS) || harmless(n)) {
            continue;
          }
          ZipEntry seen = first.putIfAbsent(n, e);
          if (seen == null) {
            owner.put(n, jar);
          } else if (seen.getSize() != e.getSize() || seen.getCrc() != e.getCrc()) {
            return Optional.of(n + " (in " + owner.get(n).getFileName() + " and "
                + jar.getFileName() + ")");
          }
        }
      }
    }
    return Optional.empty();
  }

  /** Files every jar may carry its own of, read by no program: licences, notices, Maven's. */
  private static boolean harmless(String name) {
    String upper = name.toUpperCase(Locale.ROOT);
    String file = upper.substring(upper.lastIndexOf('/') + 1);
    boolean topOrMetaInf = name.indexOf('/') < 0
        || (upper.startsWith("META-INF/") && upper.indexOf('/', 9) < 0);
    return upper.startsWith("META-INF/MAVEN/") || upper.equals("META-INF/INDEX.LIST")
        || upper.equals("META-INF/MANIFEST.MF") || (topOrMetaInf && (file.startsWith("LICENSE")
            || file.startsWith("NOTICE") || file.startsWith("DEPENDENCIES")));
  }

  /** Writes the merge of {@code jars} (in class path order) to {@code out}. */
  static void merge(List<Path> jars, Path out) throws IOException {
    List<Boolean> multiRelease = new ArrayList<>();
    for (Path jar : jars) {
      try (JarFile j = new JarFile(jar.toFile(), false)) {
        Manifest m = j.getManifest();
        multiRelease.add(m != null
            && "true".equalsIgnoreCase(m.getMainAttributes().getValue("Multi-Release")));
      }
    }
    Manifest manifest = new Manifest();
    manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
    manifest.getMainAttributes().putValue("Created-By", "goplugin4j image (merged class path)");
    if (multiRelease.contains(true)) {
      manifest.getMainAttributes().put(Attributes.Name.MULTI_RELEASE, "true");
    }
    Set<String> written = new HashSet<>();
    Map<String, StringBuilder> services = new LinkedHashMap<>();
    try (OutputStream os = Files.newOutputStream(out); ZipOutputStream zip = new ZipOutputStream(os)) {
      zip.setLevel(Deflater.BEST_COMPRESSION); // as small as the jars were, at ~1 s of build time
      zip.putNextEntry(new ZipEntry("META-INF/"));
      zip.closeEntry();
      zip.putNextEntry(new ZipEntry(JarFile.MANIFEST_NAME));
      manifest.write(zip);
      zip.closeEntry();
      written.add("META-INF/");
      written.add(JarFile.MANIFEST_NAME);
      for (int i = 0; i < jars.size(); i++) {
        try (ZipFile z = new ZipFile(jars.get(i).toFile())) {
          for (Enumeration<? extends ZipEntry> en = z.entries(); en.hasMoreElements(); ) {
            ZipEntry e = en.nextElement();
            String n = e.getName();
            if (n.equalsIgnoreCase(JarFile.MANIFEST_NAME) || n.equals("META-INF/INDEX.LIST")
                || (n.startsWith(VERSIONS) && !multiRelease.get(i))) {
              continue;
            }
            if (n.startsWith(SERVICES) && !e.isDirectory() && n.indexOf('/', SERVICES.length()) < 0) {
              try (InputStream in = z.getInputStream(e)) {
                String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
                StringBuilder all = services.computeIfAbsent(n, k -> new StringBuilder());
                all.append(text);
                if (!text.isEmpty() && !text.endsWith("\n")) {
                  all.append('\n');
                }
              }
              continue;
            }
            if (!written.add(n)) {
              continue; // an earlier jar holds it: the class path resolves to that one
            }
            ZipEntry copy = new ZipEntry(n);
            copy.setTime(e.getTime());
            zip.putNextEntry(copy);
            if (!e.isDirectory()) {
              try (InputStream in = z.getInputStream(e)) {
                in.transferTo(zip);
              }
            }
            zip.closeEntry();
          }
        }
      }
      for (Map.Entry<String, StringBuilder> s : services.entrySet()) {
        zip.putNextEntry(new ZipEntry(s.getKey()));
        zip.write(s.getValue().toString().getBytes(StandardCharsets.UTF_8));
        zip.closeEntry();
      }
    }
  }
}
