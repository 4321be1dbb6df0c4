package dev.goplugin4j.benchmarks;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

/**
 * Figure {@code fresh_jvm_first_call_*}: the wall time a user sees from launching {@code java}
 * to the first answered call of a process plugin ({@link FreshFirstCall}: build a client for
 * go-plugin's examples/grpc KV plugin with AutoMTLS, start it, one {@code KV.Get}), JVM start-up
 * and class loading included. Each variant is a JVM and its start-up options (docs/startup.md):
 *
 * <ul>
 *   <li>{@code jdk17}: the JDK that runs this class (17 here), no options — what a user gets;
 *   <li>{@code jdk17_appcds}: the same with a static AppCDS archive of the classes one training
 *       run loaded ({@code -XX:DumpLoadedClassList}, lambda proxies left out, {@code
 *       -Xshare:dump}, then {@code -XX:SharedArchiveFile}): JDK 17.0.15's dynamic archive
 *       ({@code -XX:ArchiveClassesAtExit}) crashes at exit for this class path;
 *   <li>{@code jdk25}, {@code jdk25_aot}: JDK 25, plain and with an AOT cache written by one
 *       training run ({@code -XX:AOTCacheOutput}, then {@code -XX:AOTCache}); only when a JDK 25
 *       is given; with {@code --enable-native-access=ALL-UNNAMED}, as docs/tls.md asks of JDK 24+
 *       hosts (without it AutoMTLS stays on the JDK's crypto there);
 *   <li>{@code *_c1}: the archived variant plus {@code -XX:TieredStopAtLevel=1} (only the quick
 *       compiler: for short-lived host processes such as CLIs);
 *   <li>{@code *_c1_recipe}: the whole recipe of docs/startup.md: the archived C1 variant on a
 *       copy of the class path whose jars have no signature files (manifest cut to its main
 *       section), with ACCP's native library unpacked once into a directory and loaded from
 *       there ({@code -Djava.library.path}, {@code
 *       -Dcom.amazon.corretto.crypto.provider.useExternalLib=true}), grpc-netty-shaded's epoll
 *       library moved from its jar into the same directory (Netty loads it from there instead of
 *       extracting it at every start), Netty's JFR events off
 *       ({@link #NETTY_JFR_OFF}), and logback configured in code instead of from the benchmarks'
 *       {@code logback.xml} ({@link FreshLogging}, recipe item 3; the other variants read the
 *       XML file); its archive is trained on that class path with those options; on JDK 25 it
 *       runs with the serial collector ({@link #SERIAL_GC}) and without the AOT cache's
 *       training replay ({@link #NO_TRAINING_REPLAY}).
 * </ul>
 *
 * <p>The variants run interleaved (one launch of each per round) so machine load hits them alike.
 * The class path must be jars only (an AppCDS archive refuses directories). Not thread-safe; one
 * run per JVM.
 */
final class FreshJvm {
  /** The goal of issue 11: median wall time from launch to the first answer. */
  static final double GOAL_MS = 400;

  /**
   * The recipe's switch for grpc-netty-shaded's JFR events: with them on (Netty's default where
   * the JVM has JFR) the first pooled buffer registers them with the flight recorder, which
   * builds JFR's metadata although nothing records (docs/startup.md, recipe item 6).
   */
  static final String NETTY_JFR_OFF = "-Dio.grpc.netty.shaded.io.netty.jfr.enabled=false";

  /**
   * The JDK 25 recipe's collector for a short-lived host with a small heap: the serial collector
   * starts no GC worker threads and sets up less at launch than G1 (docs/startup.md, recipe
   * item 2). Only at run time; the cache is trained with the default collector. Not on JDK 17,
   * where it saved no CPU with the static archive.
   */
  static final String SERIAL_GC = "-XX:+UseSerialGC";

  /**
   * The JDK 25 recipe's switch for the AOT cache's training replay: with only the quick
   * compiler there is no use for the method profiles the cache holds, and replaying them made C1
   * compile ~400 methods more before the first answer (docs/startup.md, recipe item 7). A
   * diagnostic option of JDK 25: a JDK without it refuses to start.
   */
  static final List<String> NO_TRAINING_REPLAY =
      List.of("-XX:+UnlockDiagnosticVMOptions", "-XX:-AOTReplayTraining");

  private final Path java17;
  private final Path java25;
  private final String classPath;
  private final Path plugin;
  private final Path workdir;

  FreshJvm(Path java17, Path java25, String classPath, Path plugin, Path workdir) {
    this.java17 = java17;
    this.java25 = java25;
    this.classPath = classPath;
    this.plugin = plugin;
    this.workdir = workdir;
  }

  /** Runs {@code runs} rounds and returns one figure line per variant. */
  List<String> run(int runs) throws IOException, InterruptedException {
    Path archives = Files.createDirectories(workdir.resolve("startup-archives"));
    Map<String, List<String>> variants = new LinkedHashMap<>();
    variants.put("jdk17", cmd(java17));
    Path jsa = archives.resolve("app17.jsa");
    Path list = archives.resolve("app17.classlist");
    Files.deleteIfExists(jsa);
    launch("training (class list, JDK 17)", cmd(java17, "-XX:DumpLoadedClassList=" + list));
    Path staticList = archives.resolve("app17.static.classlist");
    Files.write(staticList, staticClasses(list), StandardCharsets.UTF_8);
    dump(List.of(java17.toString(), "-Xshare:dump", "-XX:SharedClassListFile=" + staticList,
        "-XX:SharedArchiveFile=" + jsa, "-Xlog:cds=off", "-cp", classPath));
    variants.put("jdk17_appcds", cmd(java17, "-XX:SharedArchiveFile=" + jsa));
    variants.put("jdk17_appcds_c1", cmd(java17, "-XX:SharedArchiveFile=" + jsa, "-XX:TieredStopAtLevel=1"));
    if (java25 != null) {
      variants.put("jdk25", cmd(java25));
      Path aot = archives.resolve("app25.aot");
      Files.deleteIfExists(aot);
      launch("training (AOT cache, JDK 25)", cmd(java25, "-XX:AOTCacheOutput=" + aot));
      variants.put("jdk25_aot", cmd(java25, "-XX:AOTCache=" + aot));
      variants.put("jdk25_aot_c1", cmd(java25, "-XX:AOTCache=" + aot, "-XX:TieredStopAtLevel=1"));
    }
    // the recipe: unsigned jars, ACCP's library from a directory, Netty's JFR events off,
    // logback configured in code, an archive of its own
    Path recipeDir = workdir.resolve("startup-recipe");
    deleteTree(recipeDir);
    Path nativeDir = Files.createDirectories(recipeDir.resolve("native"));
    String recipeCp = unsignedCopies(Files.createDirectories(recipeDir.resolve("lib")), nativeDir);
    String[] lib = {"-Djava.library.path=" + nativeDir,
        "-Dcom.amazon.corretto.crypto.provider.useExternalLib=true", NETTY_JFR_OFF,
        "-D" + FreshLogging.PROPERTY + "=true"};
    Path rjsa = archives.resolve("app17-recipe.jsa");
    Path rlist = archives.resolve("app17-recipe.classlist");
    Files.deleteIfExists(rjsa);
    launch("training (class list, JDK 17, recipe)",
        cmdOn(java17, recipeCp, concat(lib, "-XX:DumpLoadedClassList=" + rlist)));
    Path rstatic = archives.resolve("app17-recipe.static.classlist");
    Files.write(rstatic, staticClasses(rlist), StandardCharsets.UTF_8);
    dump(List.of(java17.toString(), "-Xshare:dump", "-XX:SharedClassListFile=" + rstatic,
        "-XX:SharedArchiveFile=" + rjsa, "-Xlog:cds=off", "-cp", recipeCp));
    variants.put("jdk17_appcds_c1_recipe", cmdOn(java17, recipeCp,
        concat(lib, "-XX:SharedArchiveFile=" + rjsa, "-XX:TieredStopAtLevel=1")));
    if (java25 != null) {
      Path raot = archives.resolve("app25-recipe.aot");
      Files.deleteIfExists(raot);
      launch("training (AOT cache, JDK 25, recipe)",
          cmdOn(java25, recipeCp, concat(lib, "-XX:AOTCacheOutput=" + raot)));
      variants.put("jdk25_aot_c1_recipe", cmdOn(java25, recipeCp,
          concat(lib, concat(NO_TRAINING_REPLAY.toArray(String[]::new),
              "-XX:AOTCache=" + raot, "-XX:TieredStopAtLevel=1", SERIAL_GC))));
    }
    Map<String, List<Long>> wall = new LinkedHashMap<>();
    Map<String, List<Long>> inJvm = new LinkedHashMap<>();
    Map<String, String> failed = new LinkedHashMap<>();
    for (int i = 0; i < runs; i++) {
      for (Map.Entry<String, List<String>> v : variants.entrySet()) {
        try {
          long[] r = launch(v.getKey(), v.getValue());
          wall.computeIfAbsent(v.getKey(), k -> new ArrayList<>()).add(r[0]);
          inJvm.computeIfAbsent(v.getKey(), k -> new ArrayList<>()).add(r[1]);
        } catch (IllegalStateException e) {
          // one variant's failed launch must not cost the others their figures
          failed.putIfAbsent(v.getKey(), e.getMessage());
          System.err.println("FreshJvm: " + e.getMessage());
        }
      }
    }
    List<String> lines = new ArrayList<>();
    for (String name : variants.keySet()) {
      String figure = "fresh_jvm_first_call_mtls" + (name.equals("jdk17") ? "" : "_" + name);
      if (!wall.containsKey(name)) {
        lines.add(Results.line(figure, "java", Map.of("error", "not measured: every launch failed: " + failed.get(name))));
        continue;
      }
      Map<String, Object> m = Results.perRunNanos(wall.get(name));
      if (failed.containsKey(name)) {
        m.put("failed_launches", runs - wall.get(name).size());
      }
      m.put("in_jvm_p50_ms", Results.round(Results.median(inJvm.get(name)) / 1e6));
      m.put("jvm", name);
      m.put("mtls", true);
      m.put("options", String.join(" ", variants.get(name).subList(1, variants.get(name).size() - 5)));
      m.put("goal", "p50_ms <= " + (int) GOAL_MS);
      m.put("goal_met", (double) m.get("p50_ms") <= GOAL_MS);
      lines.add(Results.line(figure, "java", m));
    }
    return lines;
  }

  private List<String> cmd(Path java, String... options) {
    return cmdOn(java, classPath, options);
  }

  private List<String> cmdOn(Path java, String cp, String... options) {
    List<String> c = new ArrayList<>();
    c.add(java.toString());
    if (java.equals(java25)) {
      c.add("--enable-native-access=ALL-UNNAMED");
    }
    c.addAll(List.of(options));
    c.addAll(List.of("-cp", cp, FreshFirstCall.class.getName(), plugin.toString(), "mtls"));
    return c;
  }

  private static String[] concat(String[] a, String... b) {
    String[] c = new String[a.length + b.length];
    System.arraycopy(a, 0, c, 0, a.length);
    System.arraycopy(b, 0, c, a.length, b.length);
    return c;
  }

  /** A class list without its lambda proxies (JDK 17.0.15 crashes dumping them). */
  private static List<String> staticClasses(Path list) throws IOException {
    List<String> classes = new ArrayList<>();
    for (String l : Files.readAllLines(list, StandardCharsets.UTF_8)) {
      if (!l.startsWith("@lambda-proxy")) {
        classes.add(l);
      }
    }
    return classes;
  }

  /**
   * Copies every jar of the class path into {@code dir} (same order, same names) without its
   * signature files and with its manifest cut to the main section, as docs/startup.md's loop
   * does; ACCP's native libraries and Netty's epoll library go into {@code nativeDir}.
   *
   * @return the copies' class path
   */
  private String unsignedCopies(Path dir, Path nativeDir) throws IOException {
    List<String> copies = new ArrayList<>();
    for (String entry : classPath.split(java.io.File.pathSeparator)) {
      Path jar = Path.of(entry);
      Path copy = dir.resolve(jar.getFileName());
      try (JarFile in = new JarFile(jar.toFile(), false);
          OutputStream os = Files.newOutputStream(copy)) {
        Manifest main = new Manifest();
        Manifest m = in.getManifest();
        if (m != null) {
          main.getMainAttributes().putAll(m.getMainAttributes());
        } else {
          main.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        }
        boolean accp = jar.getFileName().toString().contains("AmazonCorrettoCryptoProvider-");
        try (JarOutputStream out = new JarOutputStream(os, main)) {
          for (Enumeration<JarEntry> e = in.entries(); e.hasMoreElements(); ) {
            JarEntry je = e.nextElement();
            String name = je.getName();
            if (name.equals(JarFile.MANIFEST_NAME) || signatureFile(name)) {
              continue;
            }
            try (InputStream data = in.getInputStream(je)) {
              if ((accp && name.endsWith(".so")) || nettyEpollLibrary(name)) {
                Files.copy(data, nativeDir.resolve(Path.of(name).getFileName()),
                    StandardCopyOption.REPLACE_EXISTING);
                continue;
              }
              out.putNextEntry(new JarEntry(name));
              data.transferTo(out);
              out.closeEntry();
            }
          }
        }
      }
      copies.add(copy.toString());
    }
    return String.join(java.io.File.pathSeparator, copies);
  }

  /**
   * grpc-netty-shaded's epoll library for this machine's architecture: without it in the jar,
   * Netty loads it from {@code java.library.path} instead of writing it to a temporary file at
   * every start (docs/startup.md).
   */
  private static boolean nettyEpollLibrary(String name) {
    String arch = switch (System.getProperty("os.arch")) {
      case "amd64", "x86_64" -> "x86_64";
      case "aarch64" -> "aarch_64";
      default -> null;
    };
    return arch != null && name.startsWith("META-INF/native/")
        && name.endsWith("netty_transport_native_epoll_" + arch + ".so");
  }

  private static boolean signatureFile(String name) {
    String n = name.toUpperCase(Locale.ROOT);
    return n.startsWith("META-INF/") && n.indexOf('/', "META-INF/".length()) < 0
        && (n.endsWith(".SF") || n.endsWith(".RSA") || n.endsWith(".DSA") || n.endsWith(".EC"));
  }

  private static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root)) {
      return;
    }
    try (var walk = Files.walk(root)) {
      for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  /** Runs an archive dump to its end; fails if it wrote no archive. */
  private void dump(List<String> command) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(command).directory(workdir.toFile())
        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    if (!p.waitFor(300, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IllegalStateException("the archive dump did not end within 300 s: " + String.join(" ", command));
    }
    if (p.exitValue() != 0) {
      throw new IllegalStateException("the archive dump exited with " + p.exitValue() + ": " + String.join(" ", command));
    }
  }

  /**
   * One launch: {wall ns to the answer line, in-JVM ns}. A training run may crash at exit after
   * its answer (a JVM writing its archive): only the answer line is required of it.
   */
  private long[] launch(String what, List<String> command) throws IOException, InterruptedException {
    ProcessBuilder pb = new ProcessBuilder(command).directory(workdir.toFile())
        .redirectError(ProcessBuilder.Redirect.DISCARD);
    long t0 = System.nanoTime();
    Process p = pb.start();
    long wall = -1;
    long inJvm = -1;
    try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      for (String line; (line = r.readLine()) != null; ) {
        if (line.startsWith("first_call_ms=") && wall < 0) {
          wall = System.nanoTime() - t0;
          inJvm = (long) (Double.parseDouble(line.split("[= ]")[1]) * 1e6);
        }
      }
    } finally {
      if (!p.waitFor(60, TimeUnit.SECONDS)) {
        p.destroyForcibly();
      }
    }
    if (wall < 0 || (p.exitValue() != 0 && !what.startsWith("training"))) {
      throw new IllegalStateException(what + ": " + String.join(" ", command) + " exited with "
          + p.exitValue() + " without a first call; run it by hand to see why");
    }
    return new long[] {wall, inJvm};
  }
}
