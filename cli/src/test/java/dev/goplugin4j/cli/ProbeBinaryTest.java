package dev.goplugin4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The probe's bytes are exactly its assembly source, and they run. */
class ProbeBinaryTest {
  private static final Path SOURCE = Path.of("src/main/probe/probe.S");

  private static String run(Path dir, List<String> cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(String.join(" ", cmd) + ": " + out).isZero();
    return out;
  }

  @Test
  void embeddedCodeIsWhatGnuAsMakesOfProbeS(@TempDir Path dir) throws Exception {
    run(dir, List.of("as", SOURCE.toAbsolutePath().toString(), "-o", "probe.o"));
    run(dir, List.of("objcopy", "-O", "binary", "-j", ".text", "probe.o", "probe.bin"));
    byte[] assembled = Files.readAllBytes(dir.resolve("probe.bin"));
    assertThat(HexFormat.of().formatHex(ProbeBinary.code()))
        .as("ProbeBinary.CODE_HEX is stale: re-assemble cli/src/main/probe/probe.S")
        .isEqualTo(HexFormat.of().formatHex(assembled));
  }

  @Test
  void elfHeaderDescribesAStaticX86ExecutableStartingAtTheCode() {
    byte[] elf = ProbeBinary.elf();
    assertThat(elf).startsWith(0x7f, 'E', 'L', 'F', 2, 1, 1);
    assertThat(elf.length).isEqualTo(64 + 56 + ProbeBinary.code().length);
    assertThat(elf[18]).isEqualTo((byte) 0x3e);
  }

  @Test
  void probeWithoutItsSocketDirectoryExitsWithEnoentAndSaysWhichStepFailed(@TempDir Path dir)
      throws Exception {
    // /tmp is replaced by an empty tmpfs in a private mount namespace, so /tmp/go-plugin-container
    // does not exist there, whatever the machine has. The probe is opened before the mount and
    // run through /proc/self/fd: the build tree itself may lie under /tmp (a clone in /tmp).
    Path exe = Files.createTempFile(Path.of("target"), "probe-", "");
    try {
      Files.write(exe, ProbeBinary.elf());
      Files.setPosixFilePermissions(exe, PosixFilePermissions.fromString("rwx------"));
      Process p = new ProcessBuilder("unshare", "--mount", "sh", "-c",
          "exec 3<\"$0\" && mount -t tmpfs tmpfs /tmp && exec /proc/self/fd/3",
          exe.toAbsolutePath().toString())
          .redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
      assertThat(out).isEqualTo("probe: bind failed\n");
      assertThat(p.exitValue()).isEqualTo(2);
    } finally {
      Files.deleteIfExists(exe);
    }
  }

  @Test
  void probeImageTarHoldsTheExecutableAndAWorldWritableTmp(@TempDir Path dir) throws Exception {
    Path tar = dir.resolve("probe.tar");
    Files.write(tar, ProbeImage.tar(ProbeBinary.elf()));
    String listing = run(dir, List.of("tar", "-tvf", tar.toString()));
    assertThat(listing).contains("drwxrwxrwt").contains("tmp/");
    assertThat(listing).containsPattern("-rwxr-xr-x root/root\\s+" + ProbeBinary.elf().length
        + " .* probe");
  }

  @Test
  void probeImageTagChangesWithTheProbeAndNamesTheUser() {
    assertThat(ProbeImage.tag(0)).matches("[0-9a-f]{12}");
    assertThat(ProbeImage.tag(65532)).isEqualTo(ProbeImage.contentHash() + "-u65532");
  }
}
