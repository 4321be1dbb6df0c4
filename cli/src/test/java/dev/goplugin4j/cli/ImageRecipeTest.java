package dev.goplugin4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ImageRecipeTest {
  @Test
  void modulesAddTheEcProviderAndLeaveJavaSqlOutUnlessAsked() {
    assertThat(ImageRecipe.modules(List.of("java.base", "java.naming", "java.sql"), List.of()))
        .containsExactly("java.base", "java.naming", "jdk.crypto.ec");
    assertThat(ImageRecipe.modules(List.of("java.naming", "java.sql"), List.of("java.sql", "jdk.jfr")))
        .containsExactly("java.base", "java.naming", "java.sql", "jdk.crypto.ec", "jdk.jfr");
  }

  @Test
  void modulesLeaveFlightRecorderOutUnlessAsked() {
    assertThat(ImageRecipe.modules(List.of("java.base", "jdk.jfr", "jdk.unsupported"), List.of()))
        .containsExactly("java.base", "jdk.unsupported", "jdk.crypto.ec");
    assertThat(ImageRecipe.modules(List.of("jdk.jfr"), List.of("jdk.jfr")))
        .containsExactly("java.base", "jdk.jfr", "jdk.crypto.ec");
  }

  @Test
  void jvmOptionsAllowNativeAccessOnlyFromJdk24AndAlwaysPointAtTheNativeDirectory() {
    List<String> base = ImageRecipe.DEFAULT_JVM_OPTS;
    assertThat(ImageRecipe.jvmOptions(base, 17, List.of()))
        .startsWith(base.toArray(String[]::new))
        .endsWith("-Djava.library.path=/app/native")
        .doesNotContain("--enable-native-access=ALL-UNNAMED");
    assertThat(ImageRecipe.jvmOptions(base, 25, List.of("-Dx=y")))
        .contains("--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow")
        .endsWith("-Djava.library.path=/app/native", "-Dx=y");
    assertThat(ImageRecipe.splitOptions("  -Xmx64m   -XX:+UseSerialGC ")).containsExactly("-Xmx64m",
        "-XX:+UseSerialGC");
  }

  @Test
  void theCommandsDefaultJvmOptionsAreTheRecipesWithRaisedCompileThresholds() throws Exception {
    String commandDefault = ImageCommand.class.getDeclaredField("jvmOpts")
        .getAnnotation(picocli.CommandLine.Option.class).defaultValue();
    assertThat(ImageRecipe.splitOptions(commandDefault)).isEqualTo(ImageRecipe.DEFAULT_JVM_OPTS);
    assertThat(ImageRecipe.DEFAULT_JVM_OPTS)
        .contains("-XX:TieredStopAtLevel=1", "-XX:CompileThresholdScaling=3");
  }

  @Test
  void theDefaultJvmOptionsKeepTheJdksArchiveRandomisationAndUnlockNoDiagnosticOptions() {
    assertThat(ImageRecipe.DEFAULT_JVM_OPTS)
        .noneMatch(o -> o.startsWith("-XX:ArchiveRelocationMode"))
        .doesNotContain("-XX:+UnlockDiagnosticVMOptions");
  }

  @Test
  void theEntrypointMapsTheArchiveOnlyWhenThereIsOne() {
    String cp = ImageRecipe.classPath(List.of("a.jar", "b.jar"));
    assertThat(cp).isEqualTo("/app/lib/a.jar:/app/lib/b.jar");
    assertThat(ImageRecipe.entrypoint(List.of("-Xss1m"), true, cp, "com.example.Main"))
        .containsExactly("/opt/java/bin/java", "-XX:SharedArchiveFile=/app/app.jsa", "-Xss1m", "-cp",
            cp, "com.example.Main");
    assertThat(ImageRecipe.entrypoint(List.of(), false, cp, "M"))
        .containsExactly("/opt/java/bin/java", "-cp", cp, "M");
    assertThat(ImageRecipe.trainingCommand(List.of("-Xss1m"), cp, "M", "/tmp/c.lst"))
        .containsExactly("/opt/java/bin/java", "-XX:DumpLoadedClassList=/tmp/c.lst", "-Xss1m",
            "-cp", cp, "M");
    assertThat(ImageRecipe.dumpCommand(List.of(), cp, "/tmp/s.lst", "/tmp/a.jsa"))
        .containsExactly("/opt/java/bin/java", "-Xshare:dump", "-XX:SharedClassListFile=/tmp/s.lst",
            "-XX:SharedArchiveFile=/tmp/a.jsa", "-cp", cp);
    assertThat(ImageRecipe.verifyCommand(List.of(), cp)).contains("-Xshare:on", "-version");
  }

  @Test
  void theBaseImageIsFromScratchWithANonRootUserAndAnExecFormEntrypoint() {
    String df = ImageRecipe.baseDockerfile(List.of("/opt/java/bin/java", "-Dq=\"x\"", "M"),
        Map.of("dev.goplugin4j.image.main", "M"), ImageRecipe.DEFAULT_USER);
    assertThat(df).isEqualTo("FROM scratch\nCOPY rootfs/ /\nLABEL dev.goplugin4j.image.main=\"M\"\n"
        + "USER 65532:0\nWORKDIR /tmp\nENTRYPOINT [\"/opt/java/bin/java\", \"-Dq=\\\"x\\\"\", \"M\"]\n");
    assertThat(ImageRecipe.layerDockerfile("sha256:abc", "appcds", List.of("j")))
        .isEqualTo("FROM sha256:abc\nCOPY appcds/ /\nENTRYPOINT [\"j\"]\n");
  }

  @Test
  void theStaticClassListLeavesLambdaProxiesOut() {
    assertThat(ImageRecipe.staticClassList("java/lang/Object id: 0\n@lambda-proxy a b\nFoo\n"))
        .isEqualTo("java/lang/Object id: 0\nFoo\n");
  }

  @Test
  void securityProvidersWhoseModuleIsMissingAreDroppedAndTheRestRenumbered() {
    String in = "# c\nsecurity.provider.1=SUN\nsecurity.provider.2=SunRsaSign\n"
        + "security.provider.3=SunEC\nsecurity.provider.4=XMLDSig\n"
        + "security.provider.5=SunPKCS11 ${java.home}/conf/x.cfg\nsecurity.provider.6=Custom\nend=1\n";
    assertThat(ImageRecipe.trimSecurityProviders(in, Set.of("java.base", "jdk.crypto.ec")))
        .isEqualTo("# c\nsecurity.provider.1=SUN\nsecurity.provider.2=SunRsaSign\n"
            + "security.provider.3=SunEC\nsecurity.provider.4=Custom\nend=1\n");
  }

  @Test
  void lddOutputGivesTheLibraryPathsAndTheLoader() {
    String ldd = "/tmp/r/bin/java:\n\tlinux-vdso.so.1 (0x00007ffd)\n"
        + "\tlibz.so.1 => /lib/x86_64-linux-gnu/libz.so.1 (0x1)\n"
        + "\tlibjli.so => /tmp/r/bin/../lib/libjli.so (0x2)\n"
        + "\tlibjvm.so => not found\n"
        + "\t/lib64/ld-linux-x86-64.so.2 (0x3)\n";
    assertThat(ImageRecipe.lddPaths(ldd)).containsExactly("/lib/x86_64-linux-gnu/libz.so.1",
        "/tmp/r/bin/../lib/libjli.so", "/lib64/ld-linux-x86-64.so.2");
  }

  @Test
  void imageReferencesMustBeNameColonTagAsDockerHasThem() {
    assertThat(ImageRecipe.checkImageReference("my-plugin:1.0")).isNull();
    assertThat(ImageRecipe.checkImageReference("localhost:5000/team/my_plugin:v1-rc.2")).isNull();
    assertThat(ImageRecipe.checkImageReference("my-plugin")).contains("NAME:TAG");
    assertThat(ImageRecipe.checkImageReference("localhost:5000/my-plugin")).contains("NAME:TAG");
    assertThat(ImageRecipe.checkImageReference("My-Plugin:1")).contains("lowercase");
    assertThat(ImageRecipe.checkImageReference("p:-x")).contains("tag");
    assertThat(ImageRecipe.checkImageReference("p@sha256:ab:1")).isNotNull();
  }

  @Test
  void theJdkVersionComesFromItsReleaseFileAndPicksJlinksCompression() {
    assertThat(ImageRecipe.featureVersion("IMPLEMENTOR=\"x\"\nJAVA_VERSION=\"17.0.15\"\n")).isEqualTo(17);
    assertThat(ImageRecipe.featureVersion("JAVA_VERSION=\"25\"")).isEqualTo(25);
    assertThat(ImageRecipe.featureVersion("nothing")).isEqualTo(-1);
    assertThat(ImageRecipe.compressOption(17)).isEqualTo("--compress=2");
    assertThat(ImageRecipe.compressOption(25)).isEqualTo("--compress=zip-6");
    assertThat(ImageRecipe.isClassName("com.example.My$Plugin")).isTrue();
    assertThat(ImageRecipe.isClassName("com..example")).isFalse();
  }

  @Test
  void theTarHoldsRootOwnedEntriesWithOneMtimeAndLongNamesSplitIntoThePrefix() throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    String longName = "rootfs/opt/java/legal/" + "x".repeat(60) + "/" + "y".repeat(60) + ".txt";
    try (ImageTar tar = new ImageTar(out)) {
      tar.dir("rootfs/tmp", 01777);
      tar.file(longName, 0644, "hello".getBytes(StandardCharsets.UTF_8));
    }
    byte[] bytes = out.toByteArray();
    // rootfs/, rootfs/tmp/, rootfs/opt/, ... then the file: GNU tar reads it back
    assertThat(bytes.length % 512).isZero();
    Process p = new ProcessBuilder("tar", "-tvf", "-").redirectErrorStream(true).start();
    try (var os = p.getOutputStream()) {
      os.write(bytes);
    }
    String listing = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor()).as(listing).isZero();
    assertThat(listing).contains("drwxrwxrwt root/root", "rootfs/tmp/", longName, "2000-01-01");
    try (InputStream in = new ByteArrayInputStream(bytes)) {
      assertThat(new String(ImageTar.firstFile(in), StandardCharsets.UTF_8)).isEqualTo("hello");
    }
  }

  @Test
  void theModuleScanFindsThePackagesAClassRefersTo() throws Exception {
    byte[] cls;
    try (InputStream in = ImageRecipeTest.class.getResourceAsStream("ImageRecipeTest$Uses.class")) {
      cls = in.readAllBytes();
    }
    Set<String> pkgs = new HashSet<>();
    ImageModules.packagesOf(cls, pkgs);
    assertThat(pkgs).contains("java.util.logging", "java.sql", "java.lang");
    Map<String, String> jdk = ImageModules.jdkPackages(
        java.nio.file.Path.of(System.getProperty("java.home")));
    assertThat(jdk).containsEntry("java.util.logging", "java.logging")
        .containsEntry("java.lang", "java.base").containsEntry("java.sql", "java.sql")
        .doesNotContainKey("javax.annotation").doesNotContainKey("javax");
  }

  /** Refers to java.logging in a field and java.sql in a method descriptor. */
  @SuppressWarnings("unused")
  static final class Uses {
    java.util.logging.Logger logger;

    java.sql.Date date(String s) {
      return null;
    }
  }
}
