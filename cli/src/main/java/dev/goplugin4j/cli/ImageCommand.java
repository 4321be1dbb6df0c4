package dev.goplugin4j.cli;

import com.google.gson.Gson;
import com.google.gson.JsonObject;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code goplugin4j image}: builds a local container image for a Java plugin written with the
 * SDK (see {@link ImageBuilder} for the steps), prints its ID on stdout.
 */
@Command(
    name = "image",
    mixinStandardHelpOptions = true,
    description = {
        "Build a minimal local image for a Java go-plugin plugin written with the goplugin4j SDK:"
            + " a jlink runtime with only the modules the plugin needs, the plugin's jars, the C"
            + " libraries the runtime links (from this machine), FROM scratch, USER 65532:0,"
            + " no shell; and (unless --no-cds) a start-up archive (AppCDS) of the classes a"
            + " training run of the plugin loads, dumped in the image itself.",
        "Needs a full JDK 17+ (--java-home, default the one running this command) with its"
            + " jmods (or a JDK 24+ that links from its run-time image), ldd (glibc), and a"
            + " Docker-compatible engine (no registry, no docker CLI).",
        "Progress goes to stderr, one line per step; stdout gets the image ID (sha256:...) to"
            + " pin with the host's ContainerConfig sha256(...) or plugincontainer's SHA256,"
            + " or with --json one JSON object.",
        "Example:",
        "  goplugin4j image --main com.example.MyPlugin --image my-plugin:1.0 target/plugin/lib"})
final class ImageCommand implements Callable<Integer> {
  private final CliContext ctx;

  @Parameters(paramLabel = "JAR_OR_DIR", arity = "0..*",
      description = "The plugin's jars, or directories whose *.jar files (in name order) are"
          + " its class path.")
  List<Path> jarsOrDirs = new ArrayList<>();

  @Option(names = "--jar", paramLabel = "JAR", description = "A jar of the plugin (repeatable).")
  List<Path> jars = new ArrayList<>();

  @Option(names = "--classpath", paramLabel = "CP",
      description = "The plugin's class path (jars or directories of jars, separated by :).")
  String classPath;

  @Option(names = "--main", required = true, paramLabel = "CLASS",
      description = "The plugin's main class (calls PluginServer.serveAndExit).")
  String mainClass;

  @Option(names = "--image", required = true, paramLabel = "NAME:TAG",
      description = "The image to build (a local tag; an image it replaces is removed unless in"
          + " use).")
  String image;

  @Option(names = "--java-home", paramLabel = "DIR",
      description = "The JDK whose runtime goes into the image. Default: the running JDK.")
  Path javaHome;

  @Option(names = "--no-cds",
      description = "No start-up archive: no training run; the JDK's default CDS archive"
          + " instead (smaller image, slower start).")
  boolean noCds;

  @Option(names = "--no-archive",
      description = "No CDS archive at all: no training run and not the JDK's default archive"
          + " either: the smallest image (about 20 MB under --no-cds's), the slowest start.")
  boolean noArchive;

  @Option(names = "--keep-jars",
      description = "Keep the jars as they are instead of merging them into one /app/lib/app.jar"
          + " (the merge keeps each name as the class path resolved it and concatenates"
          + " META-INF/services; it drops the jars' own manifest attributes). Signed jars, and"
          + " jars that hold one resource with different contents, are never merged.")
  boolean keepJars;

  @Option(names = "--jvm-opts", paramLabel = "\"OPTS\"",
      description = "The JVM options of the entrypoint, replacing the default: ${DEFAULT-VALUE}"
          + " (on JDK 24+ native access and sun.misc.Unsafe are allowed too, and"
          + " -Djava.library.path=/app/native is always added).",
      defaultValue = "-Xlog:disable -Xlog:all=warning:stderr -XX:+UseSerialGC"
          + " -XX:TieredStopAtLevel=1 -XX:CompileThresholdScaling=3 -XX:-UsePerfData")
  String jvmOpts;

  @Option(names = "--add-modules", paramLabel = "MODULES", split = ",",
      description = "JDK modules to add to the runtime (comma-separated), e.g. modules the"
          + " plugin finds by service lookup; java.sql and jdk.jfr, left out by default, come"
          + " back so.")
  List<String> addModules = new ArrayList<>();

  @Option(names = "--nocds-image", paramLabel = "NAME:TAG",
      description = "Also tag an image without the start-up archive (the JDK's default CDS"
          + " archive on the same base layer), e.g. to measure what the archive gains.")
  String noCdsImage;

  @Option(names = "--user", paramLabel = "UID:GID", defaultValue = ImageRecipe.DEFAULT_USER,
      description = "The image's user, numeric. Default: ${DEFAULT-VALUE} (non-root; group 0 so"
          + " that a host running as root, whose socket directory is group 0, needs no extra"
          + " group; a host running as another user gives the container its group, e.g."
          + " plugincontainer's GroupAdd with go-plugin's UnixSocketConfig.Group, or goplugin4j's"
          + " ContainerConfig groupAdd with PluginClient unixSocketGroup).")
  String user;

  @Option(names = "--engine", paramLabel = "ENDPOINT",
      description = "Engine endpoint (unix:// or tcp://). Default: discover (DOCKER_HOST, then"
          + " the well-known Docker and Podman sockets).")
  String engine;

  @Option(names = "--json", description = "Print one JSON object instead of the image ID.")
  boolean json;

  ImageCommand(CliContext ctx) {
    this.ctx = ctx;
  }

  @Override
  public Integer call() {
    List<Path> sources = new ArrayList<>(jarsOrDirs);
    sources.addAll(jars);
    if (noCds && noCdsImage != null) {
      throw new ImageBuildException(ImageBuildException.Step.INPUTS,
          "--nocds-image needs the start-up archive: leave out --no-cds");
    }
    if (noArchive && noCdsImage != null) {
      throw new ImageBuildException(ImageBuildException.Step.INPUTS,
          "--nocds-image needs the start-up archive: leave out --no-archive");
    }
    ImageInputs in = ImageInputs.check(sources, classPath, mainClass, image, noCdsImage,
        javaHome == null ? Path.of(System.getProperty("java.home")) : javaHome,
        !noCds && !noArchive, ImageRecipe.splitOptions(jvmOpts), addModules, user, !noArchive);
    if (keepJars) {
      in = in.keepingJars();
    }
    ctx.progress("image: building " + image + " from " + in.jars().size() + " jar(s), main class "
        + mainClass + ", Java " + in.feature() + " (" + in.javaHome() + ")");
    ImageBuilder.Result r = new ImageBuilder(in, engine, ctx.env(), ctx::progress).build();
    ctx.progress(String.format(java.util.Locale.ROOT, "image: %s is %s, %.1f MB, built in %.1f s",
        r.image(), r.id(), r.sizeBytes() / 1e6, r.buildMillis() / 1e3));
    if (json) {
      ctx.out().println(new Gson().toJson(json(r)));
    } else {
      ctx.out().println(r.id());
    }
    ctx.out().flush();
    return 0;
  }

  /** The JSON object: the fields of the source tree's former build-image.sh, plus the time. */
  static JsonObject json(ImageBuilder.Result r) {
    JsonObject o = new JsonObject();
    o.addProperty("image", r.image());
    o.addProperty("id", r.id());
    o.addProperty("java_version", r.javaVersion());
    o.addProperty("size_bytes", r.sizeBytes());
    if (r.noCdsImage() != null) {
      o.addProperty("nocds_image", r.noCdsImage());
      o.addProperty("size_nocds_bytes", r.noCdsSizeBytes());
    }
    o.addProperty("runtime_bytes", r.runtimeBytes());
    o.addProperty("jars_bytes", r.jarsBytes());
    o.addProperty("libc_bytes", r.libcBytes());
    o.addProperty("cds_archive_bytes", r.cdsArchiveBytes());
    o.addProperty("native_crypto", r.nativeCrypto());
    o.addProperty("modules", String.join(",", r.modules()));
    o.addProperty("build_ms", r.buildMillis());
    return o;
  }
}
