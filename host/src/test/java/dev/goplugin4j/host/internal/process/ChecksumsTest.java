package dev.goplugin4j.host.internal.process;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.goplugin4j.host.ChecksumMismatchException;
import dev.goplugin4j.host.PluginStartException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ChecksumsTest {
  @TempDir Path tmp;

  @Test
  void aMatchingChecksumPasses() throws Exception {
    Path plugin = write("plugin", "#!/bin/sh\necho hi\n".getBytes(java.nio.charset.StandardCharsets.UTF_8));

    Checksums.verify(plugin, sha256(Files.readAllBytes(plugin)));
  }

  @Test
  void aLargeFileIsHashedCompletely() throws Exception {
    byte[] content = new byte[3 * 1024 * 1024 + 17];
    new Random(42).nextBytes(content);
    Path plugin = write("big", content);

    assertThat(Checksums.sha256(plugin)).isEqualTo(sha256(content));
  }

  @Test
  void aMismatchIsReportedWithPathAndBothChecksums() throws Exception {
    Path plugin = write("plugin", new byte[] {1, 2, 3});
    byte[] expected = sha256(new byte[] {9});
    String expectedHex = HexFormat.of().formatHex(expected);
    String actualHex = HexFormat.of().formatHex(sha256(new byte[] {1, 2, 3}));

    assertThatThrownBy(() -> Checksums.verify(plugin, expected))
        .isInstanceOfSatisfying(
            ChecksumMismatchException.class,
            e -> {
              assertThat(e.executable()).isEqualTo(plugin);
              assertThat(e.expectedSha256()).isEqualTo(expectedHex);
              assertThat(e.actualSha256()).isEqualTo(actualHex);
            })
        .isInstanceOf(PluginStartException.class)
        .hasMessageContaining(plugin.toString())
        .hasMessageContaining("expected SHA-256 " + expectedHex)
        .hasMessageContaining("the file has " + actualHex);
  }

  @Test
  void anUnreadableFileIsAStartFailure() {
    Path missing = tmp.resolve("missing");

    assertThatThrownBy(() -> Checksums.verify(missing, new byte[32]))
        .isInstanceOf(PluginStartException.class)
        .isNotInstanceOf(ChecksumMismatchException.class)
        .hasMessageContaining("cannot read plugin executable " + missing);
  }

  @Test
  void anExpectedDigestOfTheWrongLengthIsRejected() throws Exception {
    Path plugin = write("plugin", new byte[] {1});

    assertThatThrownBy(() -> Checksums.verify(plugin, new byte[20]))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("32 bytes");
  }

  @Test
  void hexDigestsParseWithOrWithoutPrefixInEitherCase() {
    String hex = "AB".repeat(32);

    assertThat(Checksums.parseHex(hex)).isEqualTo(Checksums.parseHex("sha256:" + hex.toLowerCase()));
    assertThat(Checksums.parseHex(hex)).hasSize(32).containsOnly((byte) 0xab);
    assertThatThrownBy(() -> Checksums.parseHex("abc")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Checksums.parseHex("zz".repeat(32)))
        .isInstanceOf(IllegalArgumentException.class);
  }

  private Path write(String name, byte[] content) throws Exception {
    Path file = tmp.resolve(name);
    Files.write(file, content);
    return file;
  }

  private static byte[] sha256(byte[] content) throws Exception {
    return MessageDigest.getInstance("SHA-256").digest(content);
  }
}
