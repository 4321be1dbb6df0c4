package dev.goplugin4j.cli;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The pure parts of {@code goplugin4j image}: which modules go into the runtime, the JVM options
 * and entrypoint, the Dockerfiles, the trimmed {@code java.security} and the parsing of {@code
 * ldd}'s output. No I/O.
 */
final class ImageRecipe {
  /** The image's user: nobody's conventional id in distroless images. */
  static final int UID = 65532;

  /**
   * The image user's primary group: 0, as OpenShift runs arbitrary users. A plugin host makes
   * the socket directory it bind-mounts group-writable for its socket group; plugincontainer adds
   * that group to the container only when it is not 0 ({@code GroupAdd}), so a host running as
   * root (group 0) relies on the plugin's primary group being 0. The group owns nothing else
   * writable in the image.
   */
  static final int GID = 0;

  /** Where the runtime, the jars, their native libraries and the AppCDS archive go. */
  static final String JAVA = "/opt/java/bin/java";
  static final String LIB = "/app/lib";
  static final String NATIVE = "/app/native";
  static final String ARCHIVE = "/app/app.jsa";

  /**
   * The entrypoint's JVM options unless {@code --jvm-opts} replaces them: the JVM's own warnings
   * to stderr (by default they go to stdout, where the host expects the handshake line), the
   * serial collector and C1 only (a plugin is small and short-lived), no perf-data file, and C1's
   * compile thresholds tripled ({@code CompileThresholdScaling=3}): the quick compiler's two
   * threads took about a third of a start's CPU, mostly on methods run a few hundred times
   * during start-up only; the plugin's hot code still gets compiled, a little later
   * (docs/plugin-sdk.md, start-up). The class-data archive keeps the JDK's default, mapped at a
   * random address and relocated before {@code main}: mapping it where it was dumped ({@code
   * -XX:+UnlockDiagnosticVMOptions -XX:ArchiveRelocationMode=0}) saves 58 → 41 ms of CPU per JVM
   * start but gives up address randomisation for its metadata, a hardening the JDK turned on by
   * default, with a diagnostic option; it is a documented {@code --jvm-opts} choice, not a
   * default of an image meant for untrusted code (docs/plugin-sdk.md).
   */
  static final List<String> DEFAULT_JVM_OPTS = List.of("-Xlog:disable", "-Xlog:all=warning:stderr",
      "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-XX:CompileThresholdScaling=3",
      "-XX:-UsePerfData");

  /**
   * Modules left out although jdeps lists them: {@code java.sql} is referenced only by optional
   * code (gson's {@code java.sql.Date} adapters, loaded only when the module is there;
   * protobuf-java-util's Timestamps helpers, unused by the SDK); without it {@code java.xml} and
   * {@code java.transaction.xa} stay out too (~10 MB). {@code jdk.jfr} is referenced only by
   * Netty's buffer events, which Netty turns off when {@code FlightRecorder.isAvailable()} throws
   * (it catches the {@code NoClassDefFoundError}); with the module, that call initializes Flight
   * Recorder's metadata before the first call (~100 classes, ~65 ms of CPU; 0.5 MB of modules and
   * 0.5 MB of AppCDS archive). {@code --add-modules} keeps one.
   */
  static final Set<String> LEFT_OUT = Set.of("java.sql", "jdk.jfr");

  /**
   * Modules found by service lookup, which jdeps cannot see: the JDK's EC provider (AutoMTLS's
   * P-521 keys and signatures).
   */
  static final List<String> ALWAYS = List.of("jdk.crypto.ec");

  /**
   * Files of a jlinked runtime that nothing in the image uses, removed from it (0.25 MB of the
   * JDK 17 runtime): the {@code keytool} launcher and {@code jexec} (no shell, nothing runs
   * them), {@code jrt-fs.jar} (the {@code jrt:/} file system for <em>other</em> JDKs reading
   * this runtime; the runtime's own is in {@code java.base}), the default class list (read only
   * by {@code -Xshare:dump} without a list: the recipe dumps from the training run's list, and
   * the JDK's default archive, when kept, is dumped before) and {@code libjsig} (signal chaining,
   * used only when preloaded). {@code jspawnhelper} stays: {@code ProcessBuilder} needs it.
   */
  static final List<String> UNUSED_RUNTIME_FILES = List.of("bin/keytool", "lib/jexec",
      "lib/jrt-fs.jar", "lib/classlist", "lib/libjsig.so", "lib/server/libjsig.so");

  /** The security providers of {@code java.security} and the module each lives in. */
  static final Map<String, String> PROVIDER_MODULES = Map.ofEntries(
      Map.entry("SUN", "java.base"), Map.entry("SunRsaSign", "java.base"),
      Map.entry("SunEC", "jdk.crypto.ec"), Map.entry("SunJSSE", "java.base"),
      Map.entry("SunJCE", "java.base"), Map.entry("SunJGSS", "java.security.jgss"),
      Map.entry("SunSASL", "java.security.sasl"), Map.entry("XMLDSig", "java.xml.crypto"),
      Map.entry("SunPCSC", "java.smartcardio"), Map.entry("JdkLDAP", "java.naming"),
      Map.entry("JdkSASL", "jdk.security.jgss"), Map.entry("SunPKCS11", "jdk.crypto.cryptoki"));

  private ImageRecipe() {}

  /**
   * The runtime's modules: those the jars refer to ({@link ImageModules}), plus {@link #ALWAYS}
   * and {@code added}, minus {@link #LEFT_OUT} unless added; in that order, without duplicates.
   */
  static List<String> modules(List<String> found, List<String> added) {
    Set<String> out = new LinkedHashSet<>();
    out.add("java.base");
    for (String m : found) {
      if (!m.isBlank() && (!LEFT_OUT.contains(m.strip()) || added.contains(m.strip()))) {
        out.add(m.strip());
      }
    }
    out.addAll(ALWAYS);
    out.addAll(added);
    return List.copyOf(out);
  }

  /**
   * The JVM options of every run in the image: {@code base} (the defaults unless {@code
   * --jvm-opts}), then on JDK 24+ the permissions whose absence makes the JDK warn on stderr
   * (Netty's epoll library, protobuf's {@code sun.misc.Unsafe}), then the native library path.
   */
  static List<String> jvmOptions(List<String> base, int feature, List<String> extraProperties) {
    List<String> o = new ArrayList<>(base);
    if (feature >= 24) {
      o.add("--enable-native-access=ALL-UNNAMED");
      o.add("--sun-misc-unsafe-memory-access=allow");
    }
    o.add("-Djava.library.path=" + NATIVE);
    o.addAll(extraProperties);
    return List.copyOf(o);
  }

  /** Splits {@code --jvm-opts} at white space. */
  static List<String> splitOptions(String opts) {
    return Arrays.stream(opts.strip().split("\\s+")).filter(s -> !s.isEmpty()).toList();
  }

  /** The class path inside the image, in the given jar order. */
  static String classPath(List<String> jarNames) {
    return jarNames.stream().map(n -> LIB + "/" + n).collect(Collectors.joining(":"));
  }

  /** The entrypoint: java, the archive option (when there is one), the options, -cp, main. */
  static List<String> entrypoint(List<String> jvmOptions, boolean archive, String classPath,
      String mainClass) {
    List<String> e = new ArrayList<>();
    e.add(JAVA);
    if (archive) {
      e.add("-XX:SharedArchiveFile=" + ARCHIVE);
    }
    e.addAll(jvmOptions);
    e.add("-cp");
    e.add(classPath);
    e.add(mainClass);
    return List.copyOf(e);
  }

  /** The training run's command: the entrypoint's JVM, listing the classes it loads. */
  static List<String> trainingCommand(List<String> jvmOptions, String classPath, String mainClass,
      String classList) {
    List<String> c = new ArrayList<>();
    c.add(JAVA);
    c.add("-XX:DumpLoadedClassList=" + classList);
    c.addAll(jvmOptions);
    c.addAll(List.of("-cp", classPath, mainClass));
    return List.copyOf(c);
  }

  /** The dump's command: one static archive of the listed classes. */
  static List<String> dumpCommand(List<String> jvmOptions, String classPath, String classList,
      String archive) {
    List<String> c = new ArrayList<>();
    c.add(JAVA);
    c.add("-Xshare:dump");
    c.add("-XX:SharedClassListFile=" + classList);
    c.add("-XX:SharedArchiveFile=" + archive);
    c.addAll(jvmOptions);
    c.addAll(List.of("-cp", classPath));
    return List.copyOf(c);
  }

  /** The check that the image's archive maps: {@code -Xshare:on} fails the JVM otherwise. */
  static List<String> verifyCommand(List<String> jvmOptions, String classPath) {
    List<String> c = new ArrayList<>();
    c.add(JAVA);
    c.add("-XX:SharedArchiveFile=" + ARCHIVE);
    c.add("-Xshare:on");
    c.addAll(jvmOptions);
    c.addAll(List.of("-cp", classPath, "-version"));
    return List.copyOf(c);
  }

  /**
   * The lines of a class list the static dump takes: lambda proxies left out (JDK 17.0.15
   * crashes dumping them).
   */
  static String staticClassList(String classList) {
    return classList.lines().filter(l -> !l.startsWith("@lambda-proxy"))
        .collect(Collectors.joining("\n", "", "\n"));
  }

  /**
   * The base image: FROM scratch, the root fs, the user ({@code UID:GID}), the working directory
   * {@code /tmp} (the one writable place: a plugin's relative files go there), the entrypoint.
   */
  static String baseDockerfile(List<String> entrypoint, Map<String, String> labels,
      String user) {
    return "FROM scratch\nCOPY rootfs/ /\n" + labelLine(labels) + "USER " + user
        + "\nWORKDIR /tmp\nENTRYPOINT " + jsonArray(entrypoint) + "\n";
  }

  /** The default {@code USER}: {@link #UID}:{@link #GID}. */
  static final String DEFAULT_USER = UID + ":" + GID;

  /** An image on top of {@code from} adding {@code dir/} of the context and an entrypoint. */
  static String layerDockerfile(String from, String dir, List<String> entrypoint) {
    return "FROM " + from + "\nCOPY " + dir + "/ /\nENTRYPOINT " + jsonArray(entrypoint) + "\n";
  }

  private static String labelLine(Map<String, String> labels) {
    if (labels.isEmpty()) {
      return "";
    }
    return "LABEL " + labels.entrySet().stream()
        .map(e -> e.getKey() + "=" + jsonString(e.getValue()))
        .collect(Collectors.joining(" ")) + "\n";
  }

  /** A JSON array of strings, as a Dockerfile's exec form wants. */
  static String jsonArray(List<String> items) {
    return items.stream().map(ImageRecipe::jsonString).collect(Collectors.joining(", ", "[", "]"));
  }

  static String jsonString(String s) {
    StringBuilder b = new StringBuilder("\"");
    for (char c : s.toCharArray()) {
      switch (c) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        case '\n' -> b.append("\\n");
        case '\t' -> b.append("\\t");
        default -> {
          if (c < 0x20) {
            b.append(String.format("\\u%04x", (int) c));
          } else {
            b.append(c);
          }
        }
      }
    }
    return b.append('"').toString();
  }

  /**
   * {@code java.security} with only the providers whose module is in the runtime, renumbered.
   * A listed provider whose module is missing makes the JDK look it up with a ServiceLoader over
   * the class path, which loads and instantiates every provider found there (BouncyCastle: ~650
   * classes from a signed jar, ~200 ms of start-up).
   */
  static String trimSecurityProviders(String javaSecurity, Set<String> runtimeModules) {
    Pattern p = Pattern.compile("^security\\.provider\\.\\d+=(.*)$");
    StringBuilder out = new StringBuilder();
    int n = 0;
    for (String line : javaSecurity.split("\n", -1)) {
      Matcher m = p.matcher(line);
      if (m.matches()) {
        String value = m.group(1);
        String name = value.strip().split("\\s+")[0];
        String module = PROVIDER_MODULES.get(name);
        if (module == null || runtimeModules.contains(module)) {
          out.append("security.provider.").append(++n).append('=').append(value).append('\n');
        }
        continue;
      }
      out.append(line).append('\n');
    }
    // split kept a last empty element: drop the newline added for it
    out.setLength(out.length() - 1);
    return out.toString();
  }

  /** The absolute paths of the libraries in {@code ldd}'s output (loader included). */
  static List<String> lddPaths(String ldd) {
    List<String> paths = new ArrayList<>();
    Pattern arrow = Pattern.compile("=>\\s+(/\\S+)");
    Pattern loader = Pattern.compile("^\\s*(/\\S*ld-linux\\S*)");
    for (String line : ldd.lines().toList()) {
      Matcher a = arrow.matcher(line);
      if (a.find()) {
        paths.add(a.group(1));
        continue;
      }
      Matcher l = loader.matcher(line);
      if (l.find()) {
        paths.add(l.group(1));
      }
    }
    return paths;
  }

  /**
   * Checks an image reference {@code NAME:TAG} as Docker's reference grammar has it (lowercase
   * name components separated by {@code /}, optional registry host with port, tag of word
   * characters, dots and dashes up to 128). Returns a description of the problem, or null.
   */
  static String checkImageReference(String ref) {
    int colon = ref.lastIndexOf(':');
    if (colon < 0 || ref.lastIndexOf('/') > colon) {
      return "must be NAME:TAG (e.g. my-plugin:1.0), got \"" + ref + "\"";
    }
    String name = ref.substring(0, colon);
    String tag = ref.substring(colon + 1);
    if (!tag.matches("[\\w][\\w.-]{0,127}")) {
      return "the tag \"" + tag + "\" must be letters, digits, _, . and - (at most 128, not"
          + " starting with . or -)";
    }
    String component = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
    String host = "(?:[a-zA-Z0-9.-]+(?::[0-9]+)?/)?";
    if (ref.contains("@") || !name.matches(host + component + "(?:/" + component + ")*")) {
      return "the name \"" + name + "\" must be lowercase letters, digits and separators (., _,"
          + " -, /), as Docker's image references allow";
    }
    return null;
  }

  /** Whether {@code name} is a Java class name (dotted identifiers). */
  static boolean isClassName(String name) {
    return name.matches("\\p{javaJavaIdentifierStart}\\p{javaJavaIdentifierPart}*"
        + "(\\.\\p{javaJavaIdentifierStart}\\p{javaJavaIdentifierPart}*)*");
  }

  /** The feature version from a JDK's {@code release} file, or -1. */
  static int featureVersion(String release) {
    Matcher m = Pattern.compile("(?m)^JAVA_VERSION=\"(\\d+)").matcher(release);
    return m.find() ? Integer.parseInt(m.group(1)) : -1;
  }

  /** jlink's option for the strongest compression: {@code zip-6} from JDK 21, {@code 2} before. */
  static String compressOption(int feature) {
    return "--compress=" + (feature >= 21 ? "zip-6" : "2");
  }
}
