package dev.goplugin4j.examples.demo;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.jar.Attributes;
import java.util.jar.JarFile;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.zip.ZipEntry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HostClassPathTest {
  @TempDir Path dir;

  @Test
  void signedJarIsCopiedWithoutItsSignatureAndWithTheManifestsMainSectionOnly() throws IOException {
    Path signed = jar("signed.jar", true, "a/B.class", "b");
    String cp = HostClassPath.rewrite(dir.resolve("out"), signed.toString());

    Path copy = dir.resolve("out/lib/signed.jar");
    assertThat(cp).isEqualTo(copy.toAbsolutePath().toString());
    try (JarFile j = new JarFile(copy.toFile())) {
      assertThat(names(j)).containsExactly("META-INF/MANIFEST.MF", "a/B.class");
      assertThat(j.getManifest().getMainAttributes().getValue("Multi-Release")).isEqualTo("true");
      assertThat(j.getManifest().getEntries()).isEmpty();
      assertThat(new String(j.getInputStream(j.getEntry("a/B.class")).readAllBytes(), StandardCharsets.UTF_8))
          .isEqualTo("b");
    }
  }

  @Test
  void unchangedJarKeepsItsCopyAndItsTimeSoThatTheArchiveStaysValid() throws IOException {
    Path plain = jar("plain.jar", false, "a/B.class", "b");
    HostClassPath.rewrite(dir.resolve("out"), plain.toString());
    Path copy = dir.resolve("out/lib/plain.jar");
    FileTime old = FileTime.fromMillis(1_000_000_000_000L);
    Files.setLastModifiedTime(copy, old);

    jar("plain.jar", false, "a/B.class", "b"); // Maven writes it anew: a new time, the same content
    HostClassPath.rewrite(dir.resolve("out"), plain.toString());
    assertThat(Files.getLastModifiedTime(copy)).isEqualTo(old);

    jar("plain.jar", false, "a/B.class", "changed");
    HostClassPath.rewrite(dir.resolve("out"), plain.toString());
    assertThat(Files.getLastModifiedTime(copy)).isNotEqualTo(old);
    assertThat(Files.readAllBytes(copy)).isEqualTo(Files.readAllBytes(plain));
  }

  @Test
  void accpsLibraryIsUnpackedIntoTheNativeDirectory() throws IOException {
    Path accp = jar("accp.jar", true, HostClassPath.ACCP_LIBRARY, "ELF");
    HostClassPath.rewrite(dir.resolve("out"), accp.toString());

    assertThat(dir.resolve("out/native/libamazonCorrettoCryptoProvider.so")).hasContent("ELF");
  }

  @Test
  void classPathOrderIsKeptAndDirectoriesStayAsTheyAre() throws IOException {
    Path a = jar("a.jar", false, "a/A.class", "a");
    Path b = jar("b.jar", true, "b/B.class", "b");
    Path classes = Files.createDirectories(dir.resolve("classes"));
    String cp = HostClassPath.rewrite(dir.resolve("out"), b + ":" + classes + ":" + a);

    Path lib = dir.resolve("out/lib").toAbsolutePath();
    assertThat(cp).isEqualTo(lib.resolve("b.jar") + ":" + classes + ":" + lib.resolve("a.jar"));
  }

  @Test
  void signatureFilesAreThoseDirectlyUnderMetaInf() {
    assertThat(HostClassPath.signatureFile("META-INF/BC1024KE.SF")).isTrue();
    assertThat(HostClassPath.signatureFile("META-INF/PROVIDER.RSA")).isTrue();
    assertThat(HostClassPath.signatureFile("META-INF/x.ec")).isTrue();
    assertThat(HostClassPath.signatureFile("META-INF/MANIFEST.MF")).isFalse();
    assertThat(HostClassPath.signatureFile("META-INF/versions/9/A.SF")).isFalse();
    assertThat(HostClassPath.signatureFile("a/B.SF")).isFalse();
  }

  /** A jar with one entry; "signed" adds a per-entry manifest section and signature files. */
  private Path jar(String name, boolean signed, String entry, String content) throws IOException {
    Manifest m = new Manifest();
    m.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
    m.getMainAttributes().putValue("Multi-Release", "true");
    if (signed) {
      Attributes a = new Attributes();
      a.putValue("SHA-256-Digest", "AAAA");
      m.getEntries().put(entry, a);
    }
    Path p = dir.resolve(name);
    try (OutputStream f = Files.newOutputStream(p); JarOutputStream o = new JarOutputStream(f, m)) {
      if (signed) {
        put(o, "META-INF/SIGNER.SF", "sf");
        put(o, "META-INF/SIGNER.RSA", "rsa");
      }
      put(o, entry, content);
    }
    return p;
  }

  private static void put(JarOutputStream o, String name, String content) throws IOException {
    o.putNextEntry(new ZipEntry(name));
    o.write(content.getBytes(StandardCharsets.UTF_8));
    o.closeEntry();
  }

  private static List<String> names(JarFile j) {
    List<String> n = new ArrayList<>();
    Collections.list(j.entries()).forEach(e -> n.add(e.getName()));
    return n;
  }
}
