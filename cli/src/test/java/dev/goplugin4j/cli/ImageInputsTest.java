package dev.goplugin4j.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.goplugin4j.cli.ImageBuildException.Step;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.jar.JarOutputStream;
import java.util.zip.ZipEntry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageInputsTest {
  @TempDir
  Path dir;

  private final Path jdk = Path.of(System.getProperty("java.home"));

  private Path jar(String name, String... entries) throws Exception {
    Path p = dir.resolve(name);
    Files.createDirectories(p.getParent());
    try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(p))) {
      for (String e : entries) {
        out.putNextEntry(new ZipEntry(e));
        out.write(new byte[] {1});
        out.closeEntry();
      }
    }
    return p;
  }

  private ImageInputs check(List<Path> jars, String main, String image) {
    return ImageInputs.check(jars, null, main, image, null, jdk, true, List.of(), List.of());
  }

  @Test
  void aDirectoryGivesItsJarsInNameOrderAndTheClassPathAddsMore() throws Exception {
    jar("lib/b.jar", "com/example/Main.class");
    jar("lib/a.jar");
    Path extra = jar("extra/c.jar");
    ImageInputs in = ImageInputs.check(List.of(dir.resolve("lib")), extra.toString(),
        "com.example.Main", "p:1", null, jdk, true, List.of(), List.of());
    assertThat(in.jarNames()).containsExactly("a.jar", "b.jar", "c.jar");
    assertThat(in.feature()).isGreaterThanOrEqualTo(17);
  }

  @Test
  void aMainClassInNoJarIsRefusedNamingTheClassFile() throws Exception {
    Path j = jar("a.jar", "com/example/Other.class");
    assertThatThrownBy(() -> check(List.of(j), "com.example.Main", "p:1"))
        .isInstanceOf(ImageBuildException.class)
        .hasMessageContaining("main class com.example.Main not found")
        .hasMessageContaining("com/example/Main.class")
        .satisfies(e -> assertThat(((ImageBuildException) e).step()).isEqualTo(Step.INPUTS));
  }

  @Test
  void missingJarsDirectoriesWithoutJarsAndClashingNamesAreRefused() throws Exception {
    assertThatThrownBy(() -> check(List.of(dir.resolve("nope.jar")), "M", "p:1"))
        .hasMessageContaining("no such jar or directory");
    Files.createDirectories(dir.resolve("empty"));
    assertThatThrownBy(() -> check(List.of(dir.resolve("empty")), "M", "p:1"))
        .hasMessageContaining("no *.jar in");
    assertThatThrownBy(() -> check(List.of(), "M", "p:1")).hasMessageContaining("no jars given");
    Path a = jar("x/same.jar", "M.class");
    Path b = jar("y/same.jar");
    assertThatThrownBy(() -> check(List.of(a, b), "M", "p:1"))
        .hasMessageContaining("two jars named same.jar");
  }

  @Test
  void badImageNamesMainClassesAndModulesAreRefused() throws Exception {
    Path j = jar("a.jar", "M.class");
    assertThatThrownBy(() -> check(List.of(j), "M", "plugin")).hasMessageContaining("NAME:TAG");
    assertThatThrownBy(() -> check(List.of(j), "1bad", "p:1")).hasMessageContaining("--main");
    assertThatThrownBy(() -> ImageInputs.check(List.of(j), null, "M", "p:1", null, jdk, true,
        List.of(), List.of("java sql"))).hasMessageContaining("--add-modules");
  }

  @Test
  void leavingOutEveryArchiveIsRefusedWithTheAppCdsArchive() throws Exception {
    Path j = jar("a.jar", "M.class");
    assertThatThrownBy(() -> ImageInputs.check(List.of(j), null, "M", "p:1", null, jdk, true,
        List.of(), List.of(), ImageRecipe.DEFAULT_USER, false))
        .hasMessageContaining("--no-archive")
        .satisfies(e -> assertThat(((ImageBuildException) e).step()).isEqualTo(Step.INPUTS));
    assertThat(ImageInputs.check(List.of(j), null, "M", "p:1", null, jdk, false, List.of(),
        List.of(), ImageRecipe.DEFAULT_USER, false).jdkArchive()).isFalse();
  }

  @Test
  void aJavaHomeThatIsNoJdkIsRefusedWithTheFix() throws Exception {
    Path j = jar("a.jar", "M.class");
    assertThatThrownBy(() -> ImageInputs.check(List.of(j), null, "M", "p:1", null, dir, true,
        List.of(), List.of()))
        .hasMessageContaining("--java-home must point to a full JDK")
        .satisfies(e -> assertThat(((ImageBuildException) e).step()).isEqualTo(Step.JDK));
    Path old = Files.createDirectories(dir.resolve("jdk11"));
    Files.writeString(old.resolve("release"), "JAVA_VERSION=\"11.0.2\"\n");
    assertThatThrownBy(() -> ImageInputs.check(List.of(j), null, "M", "p:1", null, old, true,
        List.of(), List.of())).hasMessageContaining("Java 11");
    Path nojmods = Files.createDirectories(dir.resolve("jdk21"));
    Files.writeString(nojmods.resolve("release"), "JAVA_VERSION=\"21.0.1\"\n");
    assertThatThrownBy(() -> ImageInputs.check(List.of(j), null, "M", "p:1", null, nojmods, true,
        List.of(), List.of())).hasMessageContaining("jmods").hasMessageContaining("openjdk-21-jmods");
  }

  @Test
  void theCommandReportsInputErrorsWithStatusOneAndUsageErrorsWithTwo() throws Exception {
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int status = Main.execute(new String[] {"image", "--main", "com.example.Main", "--image",
        "p:1", dir.resolve("none").toString()}, new PrintStream(out, true),
        new PrintStream(err, true), Map.of());
    assertThat(status).isEqualTo(1);
    assertThat(err.toString(StandardCharsets.UTF_8))
        .contains("goplugin4j: error: no such jar or directory");
    assertThat(out.toString(StandardCharsets.UTF_8)).isEmpty();
    assertThat(Main.execute(new String[] {"image", "--main", "M"}, new PrintStream(out, true),
        new PrintStream(err, true), Map.of())).isEqualTo(2);
    assertThat(Main.execute(new String[] {"image", "--main", "M", "--image", "p:1", "--no-cds",
        "--nocds-image", "p:2", dir.toString()}, new PrintStream(out, true),
        new PrintStream(err, true), Map.of())).isEqualTo(1);
    assertThat(err.toString(StandardCharsets.UTF_8)).contains("--nocds-image needs");
  }
}
