package dev.goplugin4j.testkit;

import dev.goplugin4j.testkit.GoPeerBuilds.GoEnv;
import dev.goplugin4j.testkit.GoPeerBuilds.Peer;
import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.net.URI;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystem;
import java.nio.file.FileSystemAlreadyExistsException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Builds real Go peers for tests with the real Go toolchain, fetching modules through the Go
 * module proxy: upstream go-plugin example plugins and hosts, the plugincontainer example, and
 * our own misbehaving plugins (sources in {@code testkit/src/main/go/badplugins}, shipped inside
 * this jar).
 *
 * <p>Binaries are static ({@code CGO_ENABLED=0}, so they run in {@code FROM scratch} images) and
 * cached under the cache directory ({@link #cacheDir()}), keyed by the recipe, the Go version,
 * GOOS/GOARCH, the module version and package, and, for our own plugins, the hash of their
 * sources: editing a Go file rebuilds it, everything else is built once. Builds are safe when
 * several threads or JVMs (surefire forks, modules building in parallel) ask for the same peer at
 * the same time: a file lock per peer serializes them, and each binary is written to a temporary
 * file and atomically moved into place.
 *
 * <p>The {@code go} command runs with {@code GOFLAGS=-mod=mod -buildvcs=false}, {@code
 * GOTOOLCHAIN=local}, {@code CGO_ENABLED=0}, {@code GOWORK=off}, and the rest of the environment
 * (notably {@code GOPROXY}, {@code GOMODCACHE}, {@code GOCACHE}) inherited. A missing toolchain or
 * a failed build throws {@link GoBuildException} with the output of {@code go}: nothing is ever
 * skipped.
 *
 * <p>System properties read by {@link #create()}:
 *
 * <ul>
 *   <li>{@value #GO_PEERS_DIR_PROPERTY}: the cache directory; default {@code
 *       <repository root>/target/go-peers}, where the repository root is the nearest directory
 *       above the working directory holding {@code .git}, else the topmost directory of the chain
 *       of {@code pom.xml} directories above it.
 *   <li>{@value #GO_EXECUTABLE_PROPERTY}: the {@code go} executable; default {@code go} from
 *       {@code PATH}.
 *   <li>{@value #BUILD_TIMEOUT_PROPERTY}: seconds one {@code go build} may take; default 1200.
 * </ul>
 *
 * <p>Thread-safe.
 */
public final class GoPeers {
  /** System property naming the cache directory. */
  public static final String GO_PEERS_DIR_PROPERTY = "goplugin4j.goPeersDir";

  /** System property naming the {@code go} executable. */
  public static final String GO_EXECUTABLE_PROPERTY = "goplugin4j.go";

  /** System property with the build timeout in seconds. */
  public static final String BUILD_TIMEOUT_PROPERTY = "goplugin4j.goBuildTimeoutSeconds";

  /** Default timeout of one {@code go build}: 20 minutes (a cold build fetches and compiles gRPC). */
  public static final Duration DEFAULT_BUILD_TIMEOUT = Duration.ofMinutes(20);

  /** The go-plugin module path. */
  public static final String GO_PLUGIN_MODULE = "github.com/hashicorp/go-plugin";

  /** The plugincontainer module path. */
  public static final String PLUGINCONTAINER_MODULE =
      "github.com/hashicorp/go-secure-stdlib/plugincontainer";

  /** The plugincontainer version whose examples {@link #pluginContainerCounter()} builds. */
  public static final String PLUGINCONTAINER_VERSION = "v0.4.2";

  /** The go-plugin versions the interoperability tests cover, oldest first. */
  public static final List<String> GO_PLUGIN_VERSIONS = List.of("v1.6.3", "v1.8.0");

  /** The newest go-plugin version covered; the only one with {@link #STREAMING_PLUGIN}. */
  public static final String GO_PLUGIN_LATEST = "v1.8.0";

  /** go-plugin's KV example plugin over gRPC (handshake {@code BASIC_PLUGIN=hello}, version 1). */
  public static final String KV_PLUGIN = "examples/grpc/plugin-go-grpc";

  /** go-plugin's KV example plugin over net/rpc, which a Java host must reject. */
  public static final String KV_NETRPC_PLUGIN = "examples/grpc/plugin-go-netrpc";

  /**
   * go-plugin's KV example host ({@code KV_PLUGIN} = plugin command, {@code KV_PROTO=grpc} from
   * v1.8.0 on; arguments {@code put K V} or {@code get K}).
   */
  public static final String KV_HOST = "examples/grpc";

  /** go-plugin's bidirectional Counter example plugin (calls back the host's AddHelper). */
  public static final String COUNTER_PLUGIN = "examples/bidirectional/plugin-go-grpc";

  /** go-plugin's bidirectional example host (runs {@code ./counter-go-grpc}). */
  public static final String COUNTER_HOST = "examples/bidirectional";

  /** go-plugin's streaming example plugin; exists from v1.8.0 on. */
  public static final String STREAMING_PLUGIN = "examples/streaming/plugin";

  /** go-plugin's streaming example host (runs {@code ./plugin/streamer}); from v1.8.0 on. */
  public static final String STREAMING_HOST = "examples/streaming";

  /** Names accepted by {@link #badPlugin(String)}. */
  public static final List<String> BAD_PLUGINS =
      List.of("junk-stdout", "exit-early", "hang", "wrong-core", "huge-stderr", "stdout-chatty",
          "flaky-kv", "versioned-kv");

  private static final String GO_SOURCES_RESOURCE = "/dev/goplugin4j/testkit/go/badplugins/go.mod";
  private static final String TRACED_SOURCES_RESOURCE =
      "/dev/goplugin4j/testkit/go/tracedplugins/go.mod";
  private static final String SCRATCH_MODULE = "goplugin4j.dev/testkit/peer";
  private static final String SCRATCH_GO_DIRECTIVE = "1.24";
  private static final Pattern VERSION =
      Pattern.compile("v\\d+\\.\\d+\\.\\d+(-[0-9A-Za-z.-]+)?(\\+[0-9A-Za-z.-]+)?");
  private static final Pattern PACKAGE = Pattern.compile("[A-Za-z0-9_-][A-Za-z0-9_.-]*(/[A-Za-z0-9_-][A-Za-z0-9_.-]*)*");
  private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9-]*");

  /** Serializes opening this jar as a file system to read the Go sources. */
  private static final Object JAR_LOCK = new Object();

  private final Path cacheDir;
  private final String goExecutable;
  private final GoPeerBuilds builds;

  /** Lazily read {@code go env}; guarded by {@code this}. */
  private GoEnv goEnv;

  private GoPeers(Path cacheDir, String goExecutable, Duration buildTimeout) {
    this.cacheDir = cacheDir.toAbsolutePath().normalize();
    this.goExecutable = goExecutable;
    this.builds = new GoPeerBuilds(this.cacheDir, goExecutable, buildTimeout);
  }

  /**
   * A builder configured from the system properties described in the class comment.
   *
   * @return a new instance; cheap, the cache lives on disk
   * @throws IllegalArgumentException if {@value #BUILD_TIMEOUT_PROPERTY} is not a positive
   *     integer
   */
  public static GoPeers create() {
    String dir = System.getProperty(GO_PEERS_DIR_PROPERTY, "").strip();
    Path cache =
        dir.isEmpty()
            ? repositoryRoot(Path.of(System.getProperty("user.dir"))).resolve("target").resolve("go-peers")
            : Path.of(dir);
    String go = System.getProperty(GO_EXECUTABLE_PROPERTY, "go").strip();
    Duration timeout = DEFAULT_BUILD_TIMEOUT;
    String seconds = System.getProperty(BUILD_TIMEOUT_PROPERTY, "").strip();
    if (!seconds.isEmpty()) {
      try {
        timeout = Duration.ofSeconds(Long.parseLong(seconds));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(
            BUILD_TIMEOUT_PROPERTY + " must be a number of seconds, got \"" + seconds + "\"", e);
      }
    }
    return create(cache, go.isEmpty() ? "go" : go, timeout);
  }

  /**
   * A builder with explicit settings.
   *
   * @param cacheDir where binaries and scratch modules go; created on demand
   * @param goExecutable the {@code go} command, a name on {@code PATH} or a path; not empty
   * @param buildTimeout how long one {@code go build} may take; positive
   * @return a new instance
   */
  public static GoPeers create(Path cacheDir, String goExecutable, Duration buildTimeout) {
    Objects.requireNonNull(cacheDir, "cacheDir");
    Objects.requireNonNull(goExecutable, "goExecutable");
    Objects.requireNonNull(buildTimeout, "buildTimeout");
    if (goExecutable.isEmpty()) {
      throw new IllegalArgumentException("goExecutable must not be empty");
    }
    if (buildTimeout.isNegative() || buildTimeout.isZero()) {
      throw new IllegalArgumentException("buildTimeout must be positive, got " + buildTimeout);
    }
    return new GoPeers(cacheDir, goExecutable, buildTimeout);
  }

  /**
   * Whether the tests run in CI ({@code CI=true} in the environment), for tests that are stricter
   * or more patient there. Never a reason to skip.
   *
   * @return true in CI
   */
  public static boolean inCi() {
    return "true".equalsIgnoreCase(System.getenv("CI"));
  }

  /**
   * The directory holding the cache: {@code bin/} (binaries), {@code src/} (scratch modules and
   * build logs), {@code locks/}.
   *
   * @return an absolute path
   */
  public Path cacheDir() {
    return cacheDir;
  }

  /**
   * The version of the Go toolchain used, e.g. {@code go1.26.8}.
   *
   * @return the {@code GOVERSION} the toolchain reports
   * @throws GoBuildException if the toolchain cannot be run
   */
  public String goVersion() {
    return goEnv().version();
  }

  /**
   * Builds a main package of go-plugin (an example plugin or host) at a given version.
   *
   * @param goPluginVersion a go-plugin tag such as {@code v1.8.0}
   * @param packagePath the package inside the go-plugin module, such as {@link #KV_PLUGIN}
   * @return the binary, executable; reused from the cache when already built
   * @throws GoBuildException if the build fails (for example, the package does not exist at that
   *     version, or go-plugin needs a newer Go)
   */
  public Path goPluginExample(String goPluginVersion, String packagePath) {
    return goPackage(GO_PLUGIN_MODULE, goPluginVersion, packagePath);
  }

  /**
   * Builds plugincontainer's example plugin {@code examples/container/plugin-counter}: the
   * {@code Counter.Increment} service that calls back a host {@code Storage} service through the
   * broker; handshake {@code BASIC_PLUGIN=hello}, protocol version 1.
   *
   * @return the binary
   * @throws GoBuildException if the build fails
   */
  public Path pluginContainerCounter() {
    return goPackage(PLUGINCONTAINER_MODULE, PLUGINCONTAINER_VERSION, "examples/container/plugin-counter");
  }

  /**
   * Builds plugincontainer's example host {@code examples/container} (runs the image {@code
   * plugin-counter} through plugincontainer; arguments {@code increment K N} or {@code get K}).
   *
   * @return the binary
   * @throws GoBuildException if the build fails
   */
  public Path pluginContainerHost() {
    return goPackage(PLUGINCONTAINER_MODULE, PLUGINCONTAINER_VERSION, "examples/container");
  }

  /**
   * Builds one of our own misbehaving plugins (see {@link #BAD_PLUGINS}):
   *
   * <ul>
   *   <li>{@code junk-stdout}: prints a non-handshake line, then a valid-looking handshake, then
   *       sleeps;
   *   <li>{@code exit-early}: writes a reason to stderr and exits with status 3 before any
   *       handshake;
   *   <li>{@code hang}: never handshakes, sleeps 5 minutes;
   *   <li>{@code wrong-core}: prints {@code 2|1|unix|/tmp/x.sock|grpc|}, then sleeps;
   *   <li>{@code huge-stderr}: a real go-plugin v1.8.0 plugin serving the examples/grpc KV
   *       service from memory, which first writes one 1 MiB line ({@code 0123456789abcdef}
   *       repeated 65536 times) to stderr;
   *   <li>{@code stdout-chatty}: the same in-memory KV plugin, printing {@code chatty stdout: put
   *       <key>} to stdout and {@code chatty stderr: put <key>} to stderr on every Put (forwarded
   *       by go-plugin over {@code plugin.GRPCStdio});
   *   <li>{@code flaky-kv}: the same in-memory KV plugin, misbehaving on demand for supervision
   *       tests: {@code Put("crash", code)} exits with that code, {@code Put("hang", _)} makes
   *       every later unary call (health checks too) block, {@code Put("warn", text)} writes
   *       {@code [WARN] text} to stderr, {@code Put("sleep", ms)} answers late, {@code
   *       Get("version")} answers {@code FLAKY_VERSION} (default 1); {@code
   *       FLAKY_EXIT_AFTER_MS=n} makes it exit with 3 by itself n ms after a host's first call
   *       reached it (a host opens its stdio stream as it connects).
   *   <li>{@code versioned-kv}: the same in-memory KV plugin served under several app protocol
   *       versions with go-plugin's {@code ServeConfig.VersionedPlugins}: the versions in {@code
   *       VERSIONED_KV_VERSIONS} (comma-separated, default {@code 5,6}), each with a {@code kv}
   *       plugin whose {@code Get("version")} answers that set's version; the magic cookie of
   *       examples/grpc.
   * </ul>
   *
   * <p>The real plugins use go-plugin's examples/grpc handshake ({@code BASIC_PLUGIN=hello},
   * version 1) and register the KV service under the plugin name {@code kv}.
   *
   * @param name one of {@link #BAD_PLUGINS}
   * @return the binary
   * @throws IllegalArgumentException if there is no such plugin
   * @throws GoBuildException if the build fails
   */
  public Path badPlugin(String name) {
    return ownPlugin(GO_SOURCES_RESOURCE, "badplugin", name);
  }

  /**
   * Builds one of our plugins instrumented with OpenTelemetry, from the Go module {@code
   * tracedplugins/} in this jar (its own module, so the bad plugins keep their older gRPC):
   *
   * <ul>
   *   <li>{@code otel-counter}: go-plugin's bidirectional Counter (its proto and handshake, plugin
   *       name {@code counter}) with otelgrpc on its server and on the broker channel it dials
   *       back to the host's AddHelper; it prints each finished span to stderr as {@code
   *       goplugin4j-span name=... kind=... trace=... span=... parent=...}.
   * </ul>
   *
   * @param name the plugin's directory in {@code tracedplugins/}
   * @return the binary
   * @throws IllegalArgumentException if there is no such plugin
   * @throws GoBuildException if the build fails
   */
  public Path tracedPlugin(String name) {
    return ownPlugin(TRACED_SOURCES_RESOURCE, "tracedplugin", name);
  }

  private Path ownPlugin(String resource, String kind, String name) {
    Objects.requireNonNull(name, "name");
    if (!NAME.matcher(name).matches()) {
      throw new IllegalArgumentException("invalid " + kind + " name \"" + name + "\"");
    }
    SortedMap<String, byte[]> sources = ownPluginSources(resource);
    if (!sources.containsKey(name + "/main.go")) {
      List<String> known = new ArrayList<>();
      sources.keySet().stream()
          .filter(p -> p.endsWith("/main.go"))
          .forEach(p -> known.add(p.substring(0, p.length() - "/main.go".length())));
      throw new IllegalArgumentException("no " + kind + " named \"" + name + "\"; known: " + known);
    }
    MessageDigest digest = GoPeerBuilds.sha256();
    sources.forEach(
        (path, bytes) -> {
          digest.update(path.getBytes(StandardCharsets.UTF_8));
          digest.update((byte) 0);
          digest.update(Integer.toString(bytes.length).getBytes(StandardCharsets.UTF_8));
          digest.update((byte) 0);
          digest.update(bytes);
        });
    String sourceHash = HexFormat.of().formatHex(digest.digest());
    return build(
        new Peer(
            kind + " " + name,
            kind + "-" + name,
            List.of(kind, name, sourceHash),
            List.of(),
            List.of(),
            "./" + name,
            dir -> {
              for (Map.Entry<String, byte[]> e : sources.entrySet()) {
                Path file = dir.resolve(e.getKey());
                Files.createDirectories(file.getParent());
                Files.write(file, e.getValue());
              }
            }));
  }

  /**
   * Builds any main package of a module fetched through the module proxy.
   *
   * @param module a module path such as {@link #GO_PLUGIN_MODULE}
   * @param version a semantic version tag such as {@code v1.8.0}
   * @param packagePath the package inside the module, relative, {@code /}-separated; empty for the
   *     module root
   * @return the binary
   * @throws IllegalArgumentException if an argument is malformed
   * @throws GoBuildException if the build fails
   */
  public Path goPackage(String module, String version, String packagePath) {
    Objects.requireNonNull(module, "module");
    Objects.requireNonNull(version, "version");
    Objects.requireNonNull(packagePath, "packagePath");
    if (!PACKAGE.matcher(module).matches()) {
      throw new IllegalArgumentException("invalid module path \"" + module + "\"");
    }
    if (!VERSION.matcher(version).matches()) {
      throw new IllegalArgumentException(
          "invalid version \"" + version + "\": expected a tag such as v1.8.0");
    }
    if (!packagePath.isEmpty() && !PACKAGE.matcher(packagePath).matches()) {
      throw new IllegalArgumentException("invalid package path \"" + packagePath + "\"");
    }
    String fullPackage = packagePath.isEmpty() ? module : module + "/" + packagePath;
    String shortModule = module.substring(module.lastIndexOf('/') + 1);
    String binaryName =
        shortModule + "-" + version + (packagePath.isEmpty() ? "" : "-" + packagePath.replace('/', '_'));
    String goMod =
        "module "
            + SCRATCH_MODULE
            + "\n\ngo "
            + SCRATCH_GO_DIRECTIVE
            + "\n\nrequire "
            + module
            + " "
            + version
            + "\n";
    return build(
        new Peer(
            module + "@" + version + " " + (packagePath.isEmpty() ? "." : packagePath),
            binaryName,
            List.of("module", module, version, packagePath),
            // pins the module at exactly this version and fails when it lacks the package;
            // a plain build with -mod=mod would silently upgrade to a version that has it
            List.of(List.of("get", fullPackage + "@" + version)),
            List.of("-mod=readonly"),
            fullPackage,
            dir -> Files.writeString(dir.resolve("go.mod"), goMod)));
  }

  private Path build(Peer peer) {
    return builds.build(peer, goEnv());
  }

  private synchronized GoEnv goEnv() {
    if (goEnv == null) {
      try {
        Files.createDirectories(cacheDir);
        Path out = Files.createTempFile(cacheDir, "go-env", ".txt");
        try {
          builds.runGo(List.of(goExecutable, "env", "GOVERSION", "GOOS", "GOARCH"), cacheDir, out, "go env");
          List<String> lines = Files.readAllLines(out, StandardCharsets.UTF_8);
          if (lines.size() < 3 || lines.get(0).isBlank()) {
            throw new GoBuildException(
                "unexpected output of '" + goExecutable + " env GOVERSION GOOS GOARCH': " + lines);
          }
          goEnv = new GoEnv(lines.get(0).strip(), lines.get(1).strip(), lines.get(2).strip());
        } finally {
          Files.deleteIfExists(out);
        }
      } catch (IOException e) {
        throw new GoBuildException("could not query the Go toolchain: " + e, e);
      }
    }
    return goEnv;
  }

  /**
   * Reads one of our Go modules (all of the directory of {@code goModResource}) from the
   * classpath, file or jar.
   */
  private static SortedMap<String, byte[]> ownPluginSources(String goModResource) {
    URL goMod = GoPeers.class.getResource(goModResource);
    if (goMod == null) {
      throw new GoBuildException(
          "the Go sources of our plugins are not on the classpath (" + goModResource
              + "); build goplugin4j-testkit with Maven so src/main/go is packaged");
    }
    try {
      URI uri = goMod.toURI();
      if ("jar".equals(uri.getScheme())) {
        synchronized (JAR_LOCK) {
          FileSystem fs;
          boolean opened;
          try {
            fs = FileSystems.newFileSystem(uri, Map.of());
            opened = true;
          } catch (FileSystemAlreadyExistsException e) {
            fs = FileSystems.getFileSystem(uri);
            opened = false;
          }
          try {
            return readTree(fs.provider().getPath(uri).getParent());
          } finally {
            if (opened) {
              fs.close();
            }
          }
        }
      }
      return readTree(Path.of(uri).getParent());
    } catch (URISyntaxException | IOException e) {
      throw new GoBuildException("cannot read the Go sources of our plugins from " + goMod + ": " + e, e);
    }
  }

  private static SortedMap<String, byte[]> readTree(Path root) throws IOException {
    SortedMap<String, byte[]> files = new TreeMap<>();
    try (Stream<Path> walk = Files.walk(root)) {
      for (Path p : (Iterable<Path>) walk.filter(Files::isRegularFile)::iterator) {
        String relative = root.relativize(p).toString().replace(p.getFileSystem().getSeparator(), "/");
        try (InputStream in = Files.newInputStream(p)) {
          files.put(relative, in.readAllBytes());
        }
      }
    }
    return files;
  }

  /**
   * The repository root above {@code start}: the nearest directory holding {@code .git}, else the
   * topmost directory of the unbroken chain of directories with a {@code pom.xml} above {@code
   * start}, else {@code start} itself.
   *
   * @param start where to begin, usually the working directory
   * @return an absolute path
   */
  public static Path repositoryRoot(Path start) {
    Path dir = start.toAbsolutePath().normalize();
    for (Path p = dir; p != null; p = p.getParent()) {
      if (Files.exists(p.resolve(".git"))) {
        return p;
      }
    }
    Path top = dir;
    for (Path p = dir; p != null && Files.isRegularFile(p.resolve("pom.xml")); p = p.getParent()) {
      top = p;
    }
    return top;
  }

}
