package dev.goplugin4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.jar.Attributes;
import java.util.jar.JarFile;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JarMergeTest {
  @TempDir
  Path dir;

  private Path jar(String name, boolean multiRelease, Map<String, String> entries)
      throws IOException {
    Path p = dir.resolve(name);
    Manifest m = new Manifest();
    m.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
    m.getMainAttributes().putValue("Implementation-Title", name);
    if (multiRelease) {
      m.getMainAttributes().put(Attributes.Name.MULTI_RELEASE, "true");
    }
    try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(p), m)) {
      for (Map.Entry<String, String> e : entries.entrySet()) {
        out.putNextEntry(new ZipEntry(e.getKey()));
        out.write(e.getValue().getBytes(StandardCharsets.UTF_8));
        out.closeEntry();
      }
    }
    return p;
  }

  private static String read(ZipFile z, String name) throws IOException {
    ZipEntry e = z.getEntry(name);
    assertThat(e).as(name).isNotNull();
    try (InputStream in = z.getInputStream(e)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  private static Map<String, String> entries(String... kv) {
    Map<String, String> m = new LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put(kv[i], kv[i + 1]);
    }
    return m;
  }

  @Test
  void theMergedJarResolvesEachNameAsTheClassPathDidAndKeepsEveryServiceProvider()
      throws Exception {
    Path a = jar("a.jar", true, entries("p/A.class", "A", "dup.txt", "from a",
        "META-INF/services/demo.Spi", "demo.One\n", "META-INF/versions/11/p/A.class", "A11"));
    Path b = jar("b.jar", false, entries("q/B.class", "B", "dup.txt", "from b",
        "META-INF/services/demo.Spi", "demo.Two", "META-INF/services/demo.Other", "demo.Three\n",
        "META-INF/versions/11/q/B.class", "ignored: b is not multi-release"));
    Path out = dir.resolve("out/app.jar");
    Files.createDirectories(out.getParent());

    JarMerge.merge(List.of(a, b), out);

    try (JarFile j = new JarFile(out.toFile())) {
      assertThat(read(j, "p/A.class")).isEqualTo("A");
      assertThat(read(j, "q/B.class")).isEqualTo("B");
      assertThat(read(j, "dup.txt")).as("the first jar wins").isEqualTo("from a");
      assertThat(read(j, "META-INF/services/demo.Spi")).isEqualTo("demo.One\ndemo.Two\n");
      assertThat(read(j, "META-INF/services/demo.Other")).isEqualTo("demo.Three\n");
      assertThat(read(j, "META-INF/versions/11/p/A.class")).isEqualTo("A11");
      assertThat(j.getEntry("META-INF/versions/11/q/B.class")).isNull();
      assertThat(j.getManifest().getMainAttributes().getValue("Multi-Release")).isEqualTo("true");
      assertThat(j.getManifest().getMainAttributes().getValue("Implementation-Title")).isNull();
      assertThat(j.stream().filter(e -> e.getName().equals("dup.txt")).count()).isEqualTo(1);
    }
  }

  @Test
  void jarsWithoutMultiReleaseGiveAMergedJarWithoutIt() throws Exception {
    Path a = jar("a.jar", false, entries("p/A.class", "A"));
    Path b = jar("b.jar", false, entries("q/B.class", "B"));
    Path out = dir.resolve("app.jar");

    JarMerge.merge(List.of(a, b), out);

    try (JarFile j = new JarFile(out.toFile())) {
      assertThat(j.isMultiRelease()).isFalse();
      assertThat(j.getManifest().getMainAttributes().getValue("Manifest-Version")).isEqualTo("1.0");
    }
  }

  @Test
  void aSignedJarIsFoundAndUnsignedOnesAreNot() throws Exception {
    Path a = jar("a.jar", false, entries("p/A.class", "A"));
    Path b = jar("b.jar", false, entries("q/B.class", "B", "META-INF/services/x.Y", "x.Z\n"));
    Path signed = jar("bcprov.jar", false, entries("org/B.class", "B",
        "META-INF/BC2048KE.SF", "Signature-Version: 1.0\n", "META-INF/BC2048KE.DSA", "sig"));

    assertThat(JarMerge.signed(List.of(a, b))).isEmpty();
    assertThat(JarMerge.signed(List.of(a, signed, b))).contains(signed);
  }

  @Test
  void jarsHoldingOneResourceWithDifferentContentsAreFoundLossyAndClassesLicencesAndServicesAreNot()
      throws Exception {
    Path a = jar("a.jar", false, entries("p/A.class", "A", "reference.conf", "a = 1\n",
        "META-INF/LICENSE.txt", "Apache", "META-INF/maven/g/a/pom.properties", "version=1",
        "META-INF/services/x.Y", "p.A\n", "same.txt", "same"));
    Path b = jar("b.jar", false, entries("p/A.class", "another A", "META-INF/LICENSE.txt", "MIT",
        "META-INF/maven/g/a/pom.properties", "version=2", "META-INF/services/x.Y", "q.B\n",
        "same.txt", "same"));
    Path c = jar("c.jar", false, entries("reference.conf", "c = 2\n"));

    assertThat(JarMerge.lossy(List.of(a, b))).as("nothing a class path would show twice is lost")
        .isEmpty();
    assertThat(JarMerge.lossy(List.of(a, b, c)))
        .contains("reference.conf (in a.jar and c.jar)");
  }
}
