package dev.goplugin4j.cli;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.async.ResultCallback;
import com.github.dockerjava.api.command.BuildImageResultCallback;
import com.github.dockerjava.api.command.InspectImageResponse;
import com.github.dockerjava.api.command.WaitContainerResultCallback;
import com.github.dockerjava.api.exception.DockerException;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.model.Frame;
import com.github.dockerjava.api.model.HostConfig;
import com.github.dockerjava.core.DefaultDockerClientConfig;
import com.github.dockerjava.core.DockerClientImpl;
import com.github.dockerjava.httpclient5.ApacheDockerHttpClient;
import com.github.dockerjava.transport.DockerHttpClient;
import dev.goplugin4j.cli.ImageBuildException.Step;
import dev.goplugin4j.container.internal.Engine;
import dev.goplugin4j.container.internal.EngineLocator;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.spi.ToolProvider;
import java.util.stream.Stream;

/**
 * Builds a plugin's image, step by step (each reported through {@code progress} with its time):
 * <ol>
 *   <li>modules: the JDK modules the jars' classes refer to ({@link ImageModules}, what jdeps
 *       answers, in memory), plus {@code jdk.crypto.ec}, minus {@code java.sql} and {@code
 *       jdk.jfr} ({@link ImageRecipe#modules});
 *   <li>runtime: jlink with only those modules (no debug info, man pages or headers; the
 *       strongest compression), native symbol tables stripped when {@code strip} is there,
 *       the files nothing in the image uses removed ({@link ImageRecipe#UNUSED_RUNTIME_FILES}),
 *       {@code java.security} trimmed to the providers the runtime has;
 *   <li>root fs: the runtime, the jars (native libraries for other platforms and Netty's unused
 *       tcnative removed from them; Amazon Corretto Crypto Provider's jar left out unless
 *       BouncyCastle's JSSE is there, else its library unpacked; merged into one jar unless one
 *       is signed or {@code --keep-jars}, see {@link JarMerge}), the native libraries for this
 *       machine in {@code /app/native}, and the C libraries all of it links (from this machine,
 *       found with {@code ldd}), as a tar build context with one fixed mtime ({@link ImageTar});
 *   <li>base image: {@code FROM scratch}, that root fs, {@code USER 65532:0} (see {@link ImageRecipe#GID}), no shell;
 *   <li>unless {@code --no-cds}: a training run of the plugin in a container of the base image
 *       (the SDK's {@code GOPLUGIN4J_CDS_TRAINING} mode: handshake, AutoMTLS, health, stdio,
 *       broker both ways) lists the classes it loads; a second container of the same image dumps
 *       one static AppCDS archive of them; the image is the base image plus a layer with that
 *       archive, which is thus dumped against and shipped on top of the very layer holding the
 *       jars; a last container checks that it maps ({@code -Xshare:on}).
 * </ol>
 * Nothing is left behind on any path: the work directory, the containers of the runs, and on
 * failure the images built so far are removed. Not thread-safe; one build per instance.
 */
final class ImageBuilder {
  /** How long the training run and the dump may take. */
  static final Duration RUN_TIMEOUT = Duration.ofMinutes(3);

  /** The result. */
  record Result(String image, String id, int javaVersion, long sizeBytes, String noCdsImage,
      long noCdsSizeBytes, long runtimeBytes, long jarsBytes, long libcBytes,
      long cdsArchiveBytes, String nativeCrypto, List<String> modules, long buildMillis) {}

  private final ImageInputs in;
  private final String engineEndpoint;
  private final Map<String, String> env;
  private final Consumer<String> progress;
  private final List<String> containers = new ArrayList<>();
  private final List<String> builtImages = new ArrayList<>();
  private final List<String> taggedRefs = new ArrayList<>();
  private long phaseStart;

  ImageBuilder(ImageInputs in, String engineEndpoint, Map<String, String> env,
      Consumer<String> progress) {
    this.in = in;
    this.engineEndpoint = engineEndpoint;
    this.env = Map.copyOf(env);
    this.progress = progress;
  }

  /** Builds the image. */
  Result build() {
    long start = System.nanoTime();
    phaseStart = start;
    String endpoint;
    try (Engine engine = new EngineLocator(engineEndpoint, env).connect()) {
      endpoint = engine.endpoint();
    }
    Path work;
    try {
      work = Files.createTempDirectory("goplugin4j-image-");
    } catch (IOException e) {
      throw new ImageBuildException(Step.INPUTS, "cannot create a work directory in "
          + System.getProperty("java.io.tmpdir") + ": " + e, e);
    }
    try (DockerClient docker = client(endpoint)) {
      return build(docker, work, start);
    } catch (IOException e) {
      throw new ImageBuildException(Step.ENGINE, "closing the connection to " + endpoint
          + " failed: " + e, e);
    } finally {
      ImageFiles.deleteRecursively(work);
    }
  }

  private Result build(DockerClient docker, Path work, long start) {
    boolean ok = false;
    Map<String, Optional<String>> before = new LinkedHashMap<>();
    try {
      before.put(in.image(), imageId(docker, in.image()));
      if (in.noCdsImage() != null) {
        before.put(in.noCdsImage(), imageId(docker, in.noCdsImage()));
      }
      Result r = steps(docker, work, start);
      ok = true;
      // the images these tags named before, now untagged: removed unless still in use
      for (Map.Entry<String, Optional<String>> e : before.entrySet()) {
        Optional<String> now = imageId(docker, e.getKey());
        if (e.getValue().isPresent() && !e.getValue().equals(now)) {
          removeImageQuietly(docker, e.getValue().get());
        }
      }
      return r;
    } finally {
      for (String c : containers) {
        try {
          docker.removeContainerCmd(c).withForce(true).withRemoveVolumes(true).exec();
        } catch (NotFoundException e) {
          // gone already
        } catch (RuntimeException e) {
          progress.accept("could not remove container " + c + ": " + e.getMessage());
        }
      }
      if (!ok) {
        for (String ref : taggedRefs) {
          removeImageQuietly(docker, ref);
        }
        for (int i = builtImages.size() - 1; i >= 0; i--) {
          removeImageQuietly(docker, builtImages.get(i));
        }
      }
    }
  }

  private Result steps(DockerClient docker, Path work, long start) {
    // 1. modules
    Path nativeDir = work.resolve("native");
    List<String> modules;
    try {
      Files.createDirectories(nativeDir);
      ImageFiles.unpackEpoll(in.jars(), nativeDir);
    } catch (IOException e) {
      throw new ImageBuildException(Step.INPUTS, "cannot unpack the jars' native libraries into "
          + nativeDir + ": " + e, e);
    }
    List<Path> scanned = in.jars().stream()
        .filter(j -> !j.getFileName().toString().startsWith("AmazonCorrettoCryptoProvider-"))
        .toList();
    modules = ImageRecipe.modules(ImageModules.of(scanned, in.javaHome(), in.feature()),
        in.addModules());
    done("modules: " + String.join(",", modules));

    // 2. runtime
    Path runtime = work.resolve("runtime");
    boolean baseArchive = (!in.cds() && in.jdkArchive()) || in.noCdsImage() != null;
    List<String> jlink = new ArrayList<>(List.of("--add-modules", String.join(",", modules),
        "--strip-debug", "--no-man-pages", "--no-header-files",
        ImageRecipe.compressOption(in.feature()), "--output", runtime.toString()));
    tool("jlink", jlink);
    if (baseArchive) {
      // the JDK's default CDS archive, as jlink's --generate-cds-archive makes it, but with the
      // dump's output captured (in-process, jlink's child would print on our stdout)
      ImageFiles.ProcessResult dump = ImageFiles.exec(
          List.of(runtime.resolve("bin/java").toString(), "-Xshare:dump"),
          Duration.ofMinutes(2));
      if (dump.status() != 0) {
        throw new ImageBuildException(Step.RUNTIME, "the runtime's default CDS archive could not"
            + " be dumped (java -Xshare:dump, exit " + dump.status() + "): "
            + ImageFiles.tail(dump.output(), 10));
      }
    }
    Path baseJsa = null;
    try {
      Path server = runtime.resolve("lib/server");
      try (Stream<Path> s = Files.list(server)) {
        for (Path p : s.toList()) {
          String n = p.getFileName().toString();
          if (n.endsWith(".jsa")) {
            // only the archive for compressed oops is used (a plugin's heap is under 32 GB)
            if (n.equals("classes.jsa") && baseArchive) {
              baseJsa = work.resolve("classes.jsa");
              Files.move(p, baseJsa);
            } else {
              Files.delete(p);
            }
          }
        }
      }
      ImageFiles.strip(runtime);
      for (String unused : ImageRecipe.UNUSED_RUNTIME_FILES) {
        Files.deleteIfExists(runtime.resolve(unused));
      }
      Path security = runtime.resolve("conf/security/java.security");
      Set<String> have = ImageFiles.runtimeModules(runtime);
      Files.writeString(security,
          ImageRecipe.trimSecurityProviders(Files.readString(security), have));
    } catch (IOException e) {
      throw new ImageBuildException(Step.RUNTIME, "cannot finish the runtime in " + runtime
          + ": " + e, e);
    }
    long runtimeBytes = ImageFiles.size(runtime);
    done("runtime (jlink, " + mib(runtimeBytes) + ")");

    // 3. root fs
    Path jars = work.resolve("jars");
    List<String> jarNames = new ArrayList<>();
    String nativeCrypto = "none";
    List<String> extraProps = new ArrayList<>();
    long jarsBytes = 0;
    Map<String, Path> libs = new TreeMap<>();
    Path context = work.resolve("context.tar");
    try {
      Files.createDirectories(jars);
      boolean bctls = in.jarNames().stream().anyMatch(n -> n.startsWith("bctls-"));
      for (Path jar : in.jars()) {
        String name = jar.getFileName().toString();
        if (name.startsWith("AmazonCorrettoCryptoProvider-")) {
          if (!bctls) {
            continue; // without bctls the SDK uses the JDK's crypto: ACCP's jar is dead weight
          }
          if (ImageFiles.unpackAccp(jar, nativeDir)) {
            extraProps.add("-Dcom.amazon.corretto.crypto.provider.useExternalLib=true");
            nativeCrypto = "accp";
          }
        }
        Path copy = jars.resolve(name);
        Files.copy(jar, copy, StandardCopyOption.REPLACE_EXISTING);
        ImageFiles.dropNativeLibraries(copy);
        jarNames.add(name);
        jarsBytes += Files.size(copy);
      }
      int jarCount = jarNames.size();
      String merged = "";
      if (jarCount > 1 && in.mergeJars()) {
        List<Path> copies = jarNames.stream().map(jars::resolve).toList();
        Optional<Path> signed = JarMerge.signed(copies);
        Optional<String> lossy = signed.isEmpty() ? JarMerge.lossy(copies) : Optional.empty();
        if (signed.isEmpty() && lossy.isEmpty()) {
          Path app = work.resolve(JarMerge.NAME);
          JarMerge.merge(copies, app);
          for (Path c : copies) {
            Files.delete(c);
          }
          Files.move(app, jars.resolve(JarMerge.NAME));
          jarNames.clear();
          jarNames.add(JarMerge.NAME);
          jarsBytes = Files.size(jars.resolve(JarMerge.NAME));
          merged = " merged into " + JarMerge.NAME;
        } else if (signed.isPresent()) {
          merged = " kept apart: " + signed.get().getFileName() + " is signed";
        } else {
          merged = " kept apart: a merge would keep one of two different copies of "
              + lossy.get();
        }
      }
      List<Path> linked = new ArrayList<>();
      linked.add(runtime.resolve("bin/java"));
      try (Stream<Path> s = Stream.concat(Files.walk(runtime.resolve("lib")), Files.list(nativeDir))) {
        s.filter(p -> p.getFileName().toString().endsWith(".so")).forEach(linked::add);
      }
      for (String lib : ImageFiles.ldd(linked)) {
        if (!lib.startsWith(work.toString())) {
          libs.put(lib, Path.of(lib));
        }
      }
      List<String> jvm = ImageRecipe.jvmOptions(in.jvmOptions(), in.feature(), extraProps);
      String cp = ImageRecipe.classPath(jarNames);
      List<String> entry = ImageRecipe.entrypoint(jvm, false, cp, in.mainClass());
      Map<String, String> labels = new LinkedHashMap<>();
      labels.put("dev.goplugin4j.image.main", in.mainClass());
      labels.put("dev.goplugin4j.image.java", String.valueOf(in.feature()));
      try (OutputStream os = Files.newOutputStream(context); ImageTar tar = new ImageTar(os)) {
        tar.file("Dockerfile", 0644, ImageRecipe.baseDockerfile(entry, labels, in.user())
            .getBytes(StandardCharsets.UTF_8));
        tar.dir("rootfs", 0755);
        tar.dir("rootfs/tmp", 01777);
        ImageFiles.addTree(tar, runtime, "rootfs/opt/java");
        if (baseJsa != null && !in.cds()) {
          tar.file("rootfs/opt/java/lib/server/classes.jsa", 0444, baseJsa);
        }
        tar.dir("rootfs/app/lib", 0755);
        for (String n : jarNames) {
          tar.file("rootfs/app/lib/" + n, 0644, jars.resolve(n));
        }
        tar.dir("rootfs/app/native", 0755);
        try (Stream<Path> s = Files.list(nativeDir)) {
          for (Path p : s.sorted().toList()) {
            tar.file("rootfs/app/native/" + p.getFileName(), 0755, p);
          }
        }
        for (Map.Entry<String, Path> l : libs.entrySet()) {
          tar.file("rootfs" + l.getKey(), 0755, l.getValue());
        }
      }
      long libcBytes = 0;
      for (Path l : libs.values()) {
        libcBytes += Files.size(l);
      }
      done("root fs (" + jarCount + " jars" + merged + " " + mib(jarsBytes) + ", " + libs.size()
          + " C libraries " + mib(libcBytes) + ")");

      // 4. base image
      String baseId = buildImage(docker, context, in.cds() ? null : in.image());
      done("base image " + shortId(baseId) + (in.cds() ? "" : " tagged " + in.image()));

      long cdsBytes = 0;
      String id = baseId;
      String noCdsId = null;
      if (in.cds()) {
        // 5. training
        byte[] classList = runAndCopy(docker, baseId,
            ImageRecipe.trainingCommand(jvm, cp, in.mainClass(), "/tmp/classes.lst"),
            List.of("GOPLUGIN4J_CDS_TRAINING=1"), null, "/tmp/classes.lst", Step.TRAINING,
            "the plugin's CDS training run (GOPLUGIN4J_CDS_TRAINING=1: it serves itself to an"
                + " in-process host; is " + in.mainClass() + " a goplugin4j SDK plugin calling"
                + " PluginServer.serveAndExit?)");
        String list = ImageRecipe.staticClassList(new String(classList, StandardCharsets.UTF_8));
        done("training run (" + list.lines().count() + " classes)");
        // 6. dump, in a container of the very image (layer) it describes
        byte[] jsa = runAndCopy(docker, baseId,
            ImageRecipe.dumpCommand(jvm, cp, "/tmp/static.lst", "/tmp/app.jsa"), List.of(),
            list.getBytes(StandardCharsets.UTF_8), "/tmp/app.jsa", Step.ARCHIVE,
            "the AppCDS dump (-Xshare:dump)");
        cdsBytes = jsa.length;
        done("AppCDS archive (" + mib(cdsBytes) + ")");
        // 7. the image: the archive on top of the base layer
        Path appContext = work.resolve("app.tar");
        try (OutputStream os = Files.newOutputStream(appContext); ImageTar tar = new ImageTar(os)) {
          tar.file("Dockerfile", 0644, ImageRecipe.layerDockerfile(baseId, "appcds",
              ImageRecipe.entrypoint(jvm, true, cp, in.mainClass()))
              .getBytes(StandardCharsets.UTF_8));
          tar.file("appcds" + ImageRecipe.ARCHIVE, 0444, jsa);
        }
        id = buildImage(docker, appContext, in.image());
        int verify = run(docker, id, ImageRecipe.verifyCommand(jvm, cp), List.of(), null,
            Duration.ofMinutes(1)).status();
        if (verify != 0) {
          throw new ImageBuildException(Step.ARCHIVE, "the AppCDS archive of " + in.image()
              + " does not map (-Xshare:on failed): " + lastRunOutput
              + "\nBuild again; if it persists, build with --no-cds and report it");
        }
        if (in.noCdsImage() != null) {
          Path nocds = work.resolve("nocds.tar");
          try (OutputStream os = Files.newOutputStream(nocds); ImageTar tar = new ImageTar(os)) {
            tar.file("Dockerfile", 0644, ("FROM " + baseId + "\nCOPY basecds/ /\n")
                .getBytes(StandardCharsets.UTF_8));
            tar.file("basecds/opt/java/lib/server/classes.jsa", 0444, baseJsa);
          }
          noCdsId = buildImage(docker, nocds, in.noCdsImage());
        }
        done("image " + in.image() + (noCdsId == null ? "" : " and " + in.noCdsImage()));
      }
      InspectImageResponse image = docker.inspectImageCmd(id).exec();
      long noCdsSize = noCdsId == null ? 0 : docker.inspectImageCmd(noCdsId).exec().getSize();
      return new Result(in.image(), image.getId(), in.feature(), image.getSize(),
          in.noCdsImage(), noCdsSize, runtimeBytes, jarsBytes, libcBytes, cdsBytes, nativeCrypto,
          modules, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
    } catch (IOException e) {
      throw new ImageBuildException(Step.INPUTS, "cannot assemble the root fs in " + work + ": "
          + e, e);
    }
  }

  private void done(String what) {
    long now = System.nanoTime();
    progress.accept(String.format(Locale.ROOT, "image: %s in %.1f s", what,
        (now - phaseStart) / 1e9));
    phaseStart = now;
  }

  /** Runs a JDK tool of {@code --java-home}: in this JVM when it is that JDK, else its binary. */
  private String tool(String name, List<String> args) {
    boolean same;
    try {
      same = Files.isSameFile(in.javaHome(), Path.of(System.getProperty("java.home")));
    } catch (IOException e) {
      same = false;
    }
    Optional<ToolProvider> provider = same ? ToolProvider.findFirst(name) : Optional.empty();
    Step step = Step.RUNTIME;
    if (provider.isPresent()) {
      StringWriter out = new StringWriter();
      StringWriter err = new StringWriter();
      int status;
      try (PrintWriter o = new PrintWriter(out); PrintWriter e = new PrintWriter(err)) {
        status = provider.get().run(o, e, args.toArray(String[]::new));
      }
      if (status != 0) {
        throw toolFailed(name, step, status, out + "\n" + err);
      }
      return out.toString();
    }
    Path bin = in.javaHome().resolve("bin").resolve(name);
    if (!Files.isExecutable(bin)) {
      throw new ImageBuildException(Step.JDK, "no " + bin + ": --java-home must point to a full"
          + " JDK (with jlink), not a JRE");
    }
    List<String> cmd = new ArrayList<>();
    cmd.add(bin.toString());
    cmd.addAll(args);
    ImageFiles.ProcessResult r = ImageFiles.exec(cmd, Duration.ofMinutes(5));
    if (r.status() != 0) {
      throw toolFailed(name, step, r.status(), r.output());
    }
    return r.output();
  }

  private ImageBuildException toolFailed(String name, Step step, int status, String output) {
    String hint = name.equals("jlink") && !Files.isDirectory(in.javaHome().resolve("jmods"))
        ? " (" + in.javaHome() + " has no jmods, and this JDK may not link from its run-time"
            + " image: install its jmods)" : "";
    return new ImageBuildException(step, name + " of " + in.javaHome() + " failed (exit "
        + status + ")" + hint + ": " + ImageFiles.tail(output, 20));
  }

  private DockerClient client(String endpoint) {
    DefaultDockerClientConfig.Builder cfg = DefaultDockerClientConfig.createDefaultConfigBuilder()
        .withDockerHost(endpoint);
    String verify = env.get("DOCKER_TLS_VERIFY");
    boolean tls = endpoint.startsWith("tcp:") && verify != null && !verify.isEmpty()
        && !verify.equals("0");
    cfg.withDockerTlsVerify(tls);
    if (tls) {
      String certs = env.get("DOCKER_CERT_PATH");
      cfg.withDockerCertPath(certs == null || certs.isEmpty()
          ? env.getOrDefault("HOME", System.getProperty("user.home")) + "/.docker" : certs);
    }
    DefaultDockerClientConfig config = cfg.build();
    DockerHttpClient http = new ApacheDockerHttpClient.Builder()
        .dockerHost(URI.create(endpoint))
        .sslConfig(config.getSSLConfig())
        .maxConnections(8)
        .connectionTimeout(Duration.ofSeconds(5))
        .responseTimeout(Duration.ofMinutes(10))
        .build();
    return DockerClientImpl.getInstance(config, http);
  }

  /** Builds a context; returns the full image ID; tags it when {@code tag} is not null. */
  private String buildImage(DockerClient docker, Path context, String tag) {
    String id;
    try (InputStream tar = Files.newInputStream(context)) {
      var cmd = docker.buildImageCmd().withTarInputStream(tar).withPull(false)
          .withRemove(true).withForcerm(true);
      if (tag != null) {
        cmd.withTags(Set.of(tag));
      }
      id = cmd.exec(new BuildImageResultCallback()).awaitImageId();
    } catch (IOException | DockerException | com.github.dockerjava.api.exception.DockerClientException e) {
      throw new ImageBuildException(Step.ENGINE, "the engine could not build "
          + (tag == null ? "the base image" : tag) + ": " + e.getMessage(), e);
    }
    String full = docker.inspectImageCmd(id).exec().getId();
    builtImages.add(full);
    if (tag != null) {
      taggedRefs.add(tag);
    }
    return full;
  }

  private static Optional<String> imageId(DockerClient docker, String ref) {
    try {
      return Optional.ofNullable(docker.inspectImageCmd(ref).exec().getId());
    } catch (NotFoundException e) {
      return Optional.empty();
    }
  }

  private void removeImageQuietly(DockerClient docker, String ref) {
    try {
      docker.removeImageCmd(ref).withForce(false).withNoPrune(false).exec();
    } catch (NotFoundException e) {
      // gone
    } catch (RuntimeException e) {
      // in use (a container, another tag, a child image): the engine keeps it, as it should
    }
  }

  private String lastRunOutput = "";

  record RunResult(int status, String output) {}

  /**
   * Runs {@code command} in a container of {@code image} (network none), with {@code input}
   * copied to {@code /tmp/static.lst} first when not null, and returns {@code copyOut}'s content.
   */
  private byte[] runAndCopy(DockerClient docker, String image, List<String> command,
      List<String> envVars, byte[] input, String copyOut, Step step, String what) {
    RunResult r = run(docker, image, command, envVars, input, RUN_TIMEOUT);
    String id = containers.get(containers.size() - 1);
    if (r.status() != 0) {
      throw new ImageBuildException(step, what + " failed with exit status " + r.status()
          + "; its output ends:\n" + ImageFiles.tail(r.output(), 20));
    }
    try (InputStream tar = docker.copyArchiveFromContainerCmd(id, copyOut).exec()) {
      byte[] data = ImageTar.firstFile(tar);
      if (data.length == 0) {
        throw new ImageBuildException(step, what + " wrote an empty " + copyOut + "; its output"
            + " ends:\n" + ImageFiles.tail(r.output(), 20));
      }
      return data;
    } catch (IOException | NotFoundException e) {
      throw new ImageBuildException(step, what + " wrote no " + copyOut + " (" + e.getMessage()
          + "); its output ends:\n" + ImageFiles.tail(r.output(), 20), e);
    }
  }

  private RunResult run(DockerClient docker, String image, List<String> command,
      List<String> envVars, byte[] input, Duration timeout) {
    String id;
    try {
      id = docker.createContainerCmd(image).withEntrypoint(command).withCmd(List.of())
          .withEnv(envVars).withLabels(Map.of("dev.goplugin4j.image-build", "true"))
          .withHostConfig(HostConfig.newHostConfig().withNetworkMode("none"))
          .exec().getId();
    } catch (DockerException e) {
      throw new ImageBuildException(Step.ENGINE, "the engine could not create a container of "
          + shortId(image) + ": " + e.getMessage(), e);
    }
    containers.add(id);
    try {
      if (input != null) {
        ByteArrayOutputStream tarBytes = new ByteArrayOutputStream();
        try (ImageTar tar = new ImageTar(tarBytes)) {
          tar.file("static.lst", 0644, input);
        }
        docker.copyArchiveToContainerCmd(id).withRemotePath("/tmp")
            .withTarInputStream(new ByteArrayInputStream(tarBytes.toByteArray())).exec();
      }
      docker.startContainerCmd(id).exec();
      int status;
      try (WaitContainerResultCallback wait = docker.waitContainerCmd(id)
          .exec(new WaitContainerResultCallback())) {
        status = wait.awaitStatusCode(timeout.toSeconds(), TimeUnit.SECONDS);
      } catch (com.github.dockerjava.api.exception.DockerClientException e) {
        throw new ImageBuildException(Step.TRAINING, String.join(" ", command.subList(0, 2))
            + "... did not finish in " + timeout.toSeconds() + " s; its output ends:\n"
            + ImageFiles.tail(logs(docker, id), 20), e);
      }
      String output = logs(docker, id);
      lastRunOutput = ImageFiles.tail(output, 20);
      return new RunResult(status, output);
    } catch (IOException | DockerException e) {
      throw new ImageBuildException(Step.ENGINE, "running a container of " + shortId(image)
          + " failed: " + e.getMessage(), e);
    }
  }

  private static String logs(DockerClient docker, String id) {
    StringBuilder b = new StringBuilder();
    try (ResultCallback.Adapter<Frame> cb = docker.logContainerCmd(id).withStdOut(true)
        .withStdErr(true).withTailAll().exec(new ResultCallback.Adapter<>() {
          @Override
          public void onNext(Frame f) {
            synchronized (b) {
              b.append(new String(f.getPayload(), StandardCharsets.UTF_8));
            }
          }
        })) {
      cb.awaitCompletion(30, TimeUnit.SECONDS);
    } catch (IOException | RuntimeException e) {
      b.append("(logs unavailable: ").append(e.getMessage()).append(')');
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    synchronized (b) {
      return b.toString();
    }
  }

  private static String shortId(String id) {
    String s = id.startsWith("sha256:") ? id.substring(7) : id;
    return s.length() > 12 ? s.substring(0, 12) : s;
  }

  private static String mib(long bytes) {
    return String.format(Locale.ROOT, "%.1f MB", bytes / 1e6);
  }

}
