package dev.goplugin4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code goplugin4j image} against the real engine, through the runnable jar: every step of the
 * build (modules, jlink, root fs, base image, training run, AppCDS dump, archive layer, the
 * {@code -Xshare:on} check) with a small main class compiled here, and the failure of a training
 * run. The SDK plugin's image is built by the same command in examples/java-plugins (ContainerIT,
 * JavaHostContainerIT: our host and plugincontainer's under runc and runsc) and by
 * scripts/check-publish.sh (the plugin project, from the installed artifacts, plugincontainer's
 * Go host under runc and runsc). Every image made here is removed.
 */
class ImageIT {
  private static final String IMAGE = "goplugin4j-cli-it/image-builder";

  @TempDir
  Path dir;

  private Set<String> workDirsBefore;

  @AfterEach
  void removeImages() {
    for (String tag : List.of("hello", "boom", "nocds", "noarchive", "never", "never2", "merged")) {
      CliProcess.sh("sh", "-c", "docker rmi " + IMAGE + ":" + tag + " >/dev/null 2>&1 || true");
    }
  }

  private Set<String> workDirs() {
    try (Stream<Path> s = Files.list(Path.of(System.getProperty("java.io.tmpdir")))) {
      return s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("goplugin4j-image-"))
          .collect(Collectors.toSet());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A jar with one class {@code demo.Main} whose main method has {@code body}. */
  private Path jar(String body) throws IOException {
    Path src = Files.createDirectories(dir.resolve("src/demo")).resolve("Main.java");
    Files.writeString(src, "package demo;\npublic final class Main {\n  public static void main("
        + "String[] args) throws Exception {\n" + body + "\n  }\n}\n");
    Path classes = Files.createDirectories(dir.resolve("classes"));
    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    assertThat(javac.run(null, null, null, "--release", "17", "-d", classes.toString(),
        src.toString())).isZero();
    Path jar = dir.resolve("lib/demo.jar");
    Files.createDirectories(jar.getParent());
    Manifest m = new Manifest();
    m.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
    try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar), m)) {
      out.putNextEntry(new ZipEntry("demo/Main.class"));
      out.write(Files.readAllBytes(classes.resolve("demo/Main.class")));
      out.closeEntry();
    }
    return jar;
  }

  private static CliProcess.Result exec(List<String> cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).start();
    p.getOutputStream().close();
    var err = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
      try {
        return new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    });
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(2, java.util.concurrent.TimeUnit.MINUTES)).as(cmd.toString()).isTrue();
    return new CliProcess.Result(p.exitValue(), out, err.join());
  }

  /**
   * Containers of this test's builds: their images carry its main class as a label (builds of
   * other plugins on the same engine, e.g. the examples' ITs at the same time, are not ours).
   */
  private static String containersOfBuilds() {
    return CliProcess.sh("docker", "ps", "-aq", "--filter", "label=dev.goplugin4j.image-build=true",
        "--filter", "label=dev.goplugin4j.image.main=demo.Main").strip();
  }

  @Test
  void buildsAFromScratchNonRootImageWithoutShellWhoseStartupArchiveMapsAndPrintsItsId()
      throws Exception {
    // the uid from /proc (the image has no /etc/passwd); java.sql, left out unless added
    Path jar = jar("String uid = java.nio.file.Files.readAllLines(java.nio.file.Path.of("
        + "\"/proc/self/status\")).stream().filter(l -> l.startsWith(\"Uid:\")).findFirst()"
        + ".get().split(\"\\\\s+\")[1];\n"
        + "System.out.println(\"hello from \" + System.getProperty(\"java.version\") + \" as \""
        + " + uid + \" in \" + System.getProperty(\"user.dir\") + \" with \""
        + " + java.sql.Date.class.getName());");
    workDirsBefore = workDirs();
    CliProcess.Result r = CliProcess.run(Map.of(), "image", "--main", "demo.Main",
        "--image", IMAGE + ":hello", "--add-modules", "java.sql", jar.toString());
    assertThat(r.status()).as(r.toString()).isZero();
    String id = r.out().strip();
    assertThat(id).as(r.toString()).matches("sha256:[0-9a-f]{64}");
    // one progress line per step, each with its time
    assertThat(r.err()).contains("image: modules: java.base,", "java.sql", "jdk.crypto.ec",
        "image: runtime (jlink,", "image: root fs (1 jars", "image: base image ",
        "image: training run (", "image: AppCDS archive (", " is " + id).containsPattern(
        "in \\d+\\.\\d s");
    assertThat(CliProcess.sh("docker", "image", "inspect", "-f", "{{.Id}} {{.Config.User}}"
        + " {{.Config.WorkingDir}} {{json .Config.Entrypoint}}", IMAGE + ":hello").strip())
        .startsWith(id + " 65532:0 /tmp [\"/opt/java/bin/java\",\"-XX:SharedArchiveFile=/app/app.jsa\"")
        .endsWith("\"-cp\",\"/app/lib/demo.jar\",\"demo.Main\"]");
    // the entrypoint runs the main class as the non-root user, from the archive
    CliProcess.Result run = exec(List.of("docker", "run", "--rm", "--network", "none",
        IMAGE + ":hello"));
    assertThat(run.status()).as(run.toString()).isZero();
    assertThat(run.out().strip()).startsWith("hello from ")
        .endsWith(" as 65532 in /tmp with java.sql.Date");
    assertThat(run.err()).as("no JVM warning: the archive maps").doesNotContain("warning");
    // no shell, and nothing but scratch below
    CliProcess.Result shell = exec(List.of("docker", "run", "--rm", "--network", "none",
        "--entrypoint", "/bin/sh", IMAGE + ":hello", "-c", "true"));
    assertThat(shell.status()).isNotZero();
    assertThat(CliProcess.sh("docker", "history", "--no-trunc", "--format", "{{.CreatedBy}}",
        IMAGE + ":hello").lines().filter(l -> l.contains("FROM"))).allMatch(l -> l.contains("scratch"));
    // the runtime without the files nothing in the image uses; ProcessBuilder's helper kept
    List<String> files = CliProcess.sh("sh", "-c", "c=$(docker create " + IMAGE + ":hello)"
        + " && docker export $c | tar t; docker rm $c >/dev/null").lines().toList();
    assertThat(files).contains("opt/java/bin/java", "opt/java/lib/jspawnhelper",
        "opt/java/lib/server/libjvm.so", "app/app.jsa");
    assertThat(files).doesNotContainAnyElementsOf(
        ImageRecipe.UNUSED_RUNTIME_FILES.stream().map(f -> "opt/java/" + f).toList());
    // built again: the same tag, the former image removed, the archive still maps
    CliProcess.Result again = CliProcess.run(Map.of(), "image", "--main", "demo.Main", "--json",
        "--image", IMAGE + ":hello", "--add-modules", "java.sql", jar.toString());
    assertThat(again.status()).as(again.toString()).isZero();
    assertThat(again.out()).contains("\"image\":\"" + IMAGE + ":hello\"", "\"cds_archive_bytes\":",
        "\"size_bytes\":", "\"java_version\":");
    String id2 = again.out().replaceAll("(?s).*\"id\":\"(sha256:[0-9a-f]{64})\".*", "$1");
    if (!id2.equals(id)) {
      assertThat(CliProcess.sh("sh", "-c", "docker images -q --no-trunc | grep -c " + id.substring(7)
          + " || true").strip()).as("the former image is removed").isEqualTo("0");
    }
    CliProcess.Result rerun = exec(List.of("docker", "run", "--rm", "--network", "none",
        "--entrypoint", "/opt/java/bin/java", IMAGE + ":hello", "-XX:SharedArchiveFile=/app/app.jsa",
        "-Xshare:on", "-cp", "/app/lib/demo.jar", "demo.Main"));
    assertThat(rerun.status()).as(rerun.toString()).isZero();
    assertThat(containersOfBuilds()).as("containers of the training runs").isEmpty();
    assertThat(workDirs()).as("work directories").isSubsetOf(workDirsBefore);
  }

  /** Compiles {@code sources} (name to text) against {@code classPath} into a jar with {@code resources}. */
  private Path jarOf(String name, Map<String, String> sources, Map<String, String> resources,
      Path... classPath) throws IOException {
    Path src = Files.createDirectories(dir.resolve("src-" + name));
    Path classes = Files.createDirectories(dir.resolve("classes-" + name));
    List<String> args = new java.util.ArrayList<>(List.of("--release", "17", "-d",
        classes.toString()));
    if (classPath.length > 0) {
      args.add("-cp");
      args.add(Stream.of(classPath).map(Path::toString).collect(Collectors.joining(":")));
    }
    for (Map.Entry<String, String> e : sources.entrySet()) {
      Path f = src.resolve(e.getKey().replace('.', '/') + ".java");
      Files.createDirectories(f.getParent());
      Files.writeString(f, e.getValue());
      args.add(f.toString());
    }
    assertThat(ToolProvider.getSystemJavaCompiler().run(null, null, null,
        args.toArray(String[]::new))).isZero();
    Path jar = Files.createDirectories(dir.resolve("lib")).resolve(name);
    Manifest m = new Manifest();
    m.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
    try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar), m);
        Stream<Path> files = Files.walk(classes)) {
      for (Path c : files.filter(Files::isRegularFile).sorted().toList()) {
        out.putNextEntry(new ZipEntry(classes.relativize(c).toString()));
        out.write(Files.readAllBytes(c));
        out.closeEntry();
      }
      for (Map.Entry<String, String> r : resources.entrySet()) {
        out.putNextEntry(new ZipEntry(r.getKey()));
        out.write(r.getValue().getBytes(StandardCharsets.UTF_8));
        out.closeEntry();
      }
    }
    return jar;
  }

  @Test
  void severalJarsRunFromOneMergedJarWithTheirClassesAndEveryServiceProvider() throws Exception {
    String services = "META-INF/services/java.lang.Runnable";
    Path util = jarOf("util.jar", Map.of(
        "other.Util", "package other;\npublic final class Util {\n  public static String hello() {"
            + " return \"util\"; }\n}\n",
        "other.Two", "package other;\npublic final class Two implements Runnable {\n  public void"
            + " run() { System.out.println(\"two\"); }\n}\n"),
        Map.of(services, "other.Two\n", "META-INF/LICENSE", "util's licence"));
    Path demo = jarOf("demo.jar", Map.of(
        "demo.Main", "package demo;\npublic final class Main {\n  public static void main("
            + "String[] args) throws Exception {\n    System.out.println(other.Util.hello());\n"
            + "    for (Runnable r : java.util.ServiceLoader.load(Runnable.class)) {\n      r.run();\n"
            + "    }\n    System.out.println(new String(Main.class.getResourceAsStream(\"/shared.txt\")"
            + ".readAllBytes()));\n  }\n}\n",
        "demo.One", "package demo;\npublic final class One implements Runnable {\n  public void"
            + " run() { System.out.println(\"one\"); }\n}\n"),
        Map.of(services, "demo.One\n", "shared.txt", "from demo", "META-INF/LICENSE",
            "demo's licence"), util);
    // class path order: demo.jar, then util.jar
    CliProcess.Result r = CliProcess.run(Map.of(), "image", "--main", "demo.Main", "--no-cds",
        "--image", IMAGE + ":merged", demo.toString(), util.toString());
    assertThat(r.status()).as(r.toString()).isZero();
    assertThat(r.err()).contains("image: root fs (2 jars merged into app.jar");
    assertThat(CliProcess.sh("docker", "image", "inspect", "-f", "{{json .Config.Entrypoint}}",
        IMAGE + ":merged").strip()).endsWith("\"-cp\",\"/app/lib/app.jar\",\"demo.Main\"]");
    CliProcess.Result run = exec(List.of("docker", "run", "--rm", "--network", "none",
        IMAGE + ":merged"));
    assertThat(run.status()).as(run.toString()).isZero();
    assertThat(run.out().lines().toList()).as("both jars' classes and resources are there, both providers load")
        .containsExactly("util", "one", "two", "from demo");
    // --keep-jars: the same plugin from its two jars
    CliProcess.Result kept = CliProcess.run(Map.of(), "image", "--main", "demo.Main", "--no-cds",
        "--keep-jars", "--image", IMAGE + ":merged", demo.toString(), util.toString());
    assertThat(kept.status()).as(kept.toString()).isZero();
    assertThat(CliProcess.sh("docker", "image", "inspect", "-f", "{{json .Config.Entrypoint}}",
        IMAGE + ":merged").strip())
        .endsWith("\"-cp\",\"/app/lib/demo.jar:/app/lib/util.jar\",\"demo.Main\"]");
    CliProcess.Result rerun = exec(List.of("docker", "run", "--rm", "--network", "none",
        IMAGE + ":merged"));
    assertThat(rerun.out().lines().toList()).containsExactly("util", "one", "two", "from demo");
    assertThat(containersOfBuilds()).as("containers of the builds").isEmpty();
  }

  @Test
  void withoutTheStartupArchiveTheImageKeepsTheJdksDefaultArchiveWhichMaps() throws Exception {
    Path jar = jar("System.out.println(\"no archive here\");");
    CliProcess.Result r = CliProcess.run(Map.of(), "image", "--main", "demo.Main", "--no-cds",
        "--json", "--image", IMAGE + ":nocds", jar.toString());
    assertThat(r.status()).as(r.toString()).isZero();
    assertThat(r.out()).contains("\"cds_archive_bytes\":0").doesNotContain("nocds_image");
    assertThat(r.err()).doesNotContain("training run");
    assertThat(CliProcess.sh("docker", "image", "inspect", "-f", "{{json .Config.Entrypoint}}",
        IMAGE + ":nocds")).doesNotContain("SharedArchiveFile");
    // -Xshare:on fails unless the runtime's default archive maps (it checks lib/modules' mtime)
    CliProcess.Result run = exec(List.of("docker", "run", "--rm", "--network", "none",
        "--entrypoint", "/opt/java/bin/java", IMAGE + ":nocds", "-Xshare:on", "-cp",
        "/app/lib/demo.jar", "demo.Main"));
    assertThat(run.status()).as(run.toString()).isZero();
    assertThat(run.out().strip()).isEqualTo("no archive here");
  }

  @Test
  void withNoArchiveTheImageHoldsNoCdsArchiveAndItsPluginStillRunsQuietly() throws Exception {
    Path jar = jar("System.out.println(\"nothing shared\");");
    CliProcess.Result r = CliProcess.run(Map.of(), "image", "--main", "demo.Main", "--no-archive",
        "--json", "--image", IMAGE + ":noarchive", jar.toString());
    assertThat(r.status()).as(r.toString()).isZero();
    assertThat(r.out()).contains("\"cds_archive_bytes\":0");
    assertThat(r.err()).doesNotContain("training run");
    // -Xshare:on fails the JVM when no archive maps: none is there
    CliProcess.Result shared = exec(List.of("docker", "run", "--rm", "--network", "none",
        "--entrypoint", "/opt/java/bin/java", IMAGE + ":noarchive", "-Xshare:on", "-cp",
        "/app/lib/demo.jar", "demo.Main"));
    assertThat(shared.status()).as(shared.toString()).isNotZero();
    // the image's own entrypoint runs the plugin, and the JVM says nothing about the archive
    CliProcess.Result run = exec(List.of("docker", "run", "--rm", "--network", "none",
        IMAGE + ":noarchive"));
    assertThat(run.status()).as(run.toString()).isZero();
    assertThat(run.out().strip()).isEqualTo("nothing shared");
    assertThat(run.err()).as(run.toString()).isEmpty();
  }

  @Test
  void noArchiveWithTheNoCdsImageIsRefusedBeforeAnythingIsBuilt() throws Exception {
    Path jar = jar("System.out.println(\"x\");");
    CliProcess.Result r = CliProcess.run(Map.of(), "image", "--main", "demo.Main", "--no-archive",
        "--nocds-image", IMAGE + ":never", "--image", IMAGE + ":never2", jar.toString());
    assertThat(r.status()).as(r.toString()).isNotZero();
    assertThat(r.err()).contains("--nocds-image needs the start-up archive");
    assertThat(CliProcess.sh("docker", "images", "-q", IMAGE + ":never2")).isBlank();
  }

  @Test
  void aTrainingRunThatFailsFailsTheBuildWithThePluginsOutputAndLeavesNothingBehind()
      throws Exception {
    Path jar = jar("System.err.println(\"boom: this is no plugin\"); System.exit(3);");
    workDirsBefore = workDirs();
    CliProcess.Result r = CliProcess.run(Map.of(), "image", "--main", "demo.Main",
        "--image", IMAGE + ":boom", dir.resolve("lib").toString());
    assertThat(r.status()).as(r.toString()).isEqualTo(1);
    assertThat(r.out()).isEmpty();
    assertThat(r.err()).contains("goplugin4j: error: the plugin's CDS training run",
        "failed with exit status 3", "boom: this is no plugin");
    assertThat(CliProcess.sh("docker", "images", "-q", IMAGE + ":boom").strip()).isEmpty();
    assertThat(CliProcess.sh("docker", "images", "-aq", "--filter",
        "label=dev.goplugin4j.image.main=demo.Main").strip())
        .as("images left by the failed build (the base image carries the label)").isEmpty();
    assertThat(containersOfBuilds()).as("containers of the training run").isEmpty();
    assertThat(workDirs()).as("work directories").isSubsetOf(workDirsBefore);
  }

  @Test
  void withoutAnEngineTheBuildFailsListingWhereItLooked() throws Exception {
    Path jar = jar("");
    CliProcess.Result r = CliProcess.run(Map.of(), "image", "--main", "demo.Main", "--image",
        IMAGE + ":none", "--engine", "unix://" + dir.resolve("no.sock"), jar.toString());
    assertThat(r.status()).isEqualTo(1);
    assertThat(r.err()).contains("no container engine could be reached", "no such socket");
    assertThat(r.out()).isEmpty();
  }
}
