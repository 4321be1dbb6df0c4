package dev.goplugin4j.protocol.internal.tls;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The JVM-wide choice as a user meets it: a fresh JVM, its system properties, its log. The native
 * library is kept from loading the way a locked-down container does it: ACCP's extraction directory
 * cannot be created (here: a regular file stands where it should go).
 */
class FreshJvmCryptoChoiceTest {
  private static final String LINE = "INFO dev.goplugin4j.protocol.internal.tls.TlsCrypto";

  @TempDir Path tmp;

  private List<String> run(String... props) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-Xshare:auto");
    cmd.add("-Djava.io.tmpdir=" + tmp);
    cmd.addAll(List.of(props));
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path") + File.pathSeparator
        + System.getProperty("jdk.module.path", ""));
    cmd.add(CryptoProbe.class.getName());
    Path out = tmp.resolve("out.txt");
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile()).start();
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly().waitFor();
      throw new AssertionError("the probe JVM did not finish: " + Files.readString(out));
    }
    List<String> lines = Files.readAllLines(out, StandardCharsets.UTF_8);
    assertThat(p.exitValue()).as("probe exit; output:%n%s", String.join("\n", lines)).isZero();
    return lines;
  }

  private static List<String> infoOrAbove(List<String> lines) {
    return lines.stream()
        .filter(l -> l.contains(" INFO ") || l.contains(" WARN ") || l.contains(" ERROR ")
            || l.startsWith("WARNING:") || l.startsWith("INFO:") || l.startsWith("SEVERE:"))
        .toList();
  }

  @Test
  void byDefaultAFreshJvmUsesNativeCryptoAndLogsNothingAboveDebug() throws Exception {
    List<String> lines = run("--enable-native-access=ALL-UNNAMED");
    assertThat(lines).contains("PATH=NATIVE");
    assertThat(infoOrAbove(lines)).isEmpty();
  }

  @Test
  void certificatesAndPemAreMadeWithoutBouncyCastlesCertificateBuilderOnEitherPath()
      throws Exception {
    // bcpkix is a signed jar: its first class costs a fresh host a signature check, ~100 classes
    for (String setting : List.of("native", "jdk")) {
      List<String> lines = run("--enable-native-access=ALL-UNNAMED", "-verbose:class",
          "-Dgoplugin4j.crypto=" + setting);

      assertThat(lines).contains("PEM=ok", "PATH=" + setting.toUpperCase(Locale.ROOT));
      assertThat(lines).filteredOn(l -> l.contains("org.bouncycastle.cert.")
              || l.contains("org.bouncycastle.operator.") || l.contains("org.bouncycastle.openssl."))
          .as("BouncyCastle pkix classes loaded with goplugin4j.crypto=%s", setting)
          .isEmpty();
    }
  }

  @Test
  void withoutNativeAccessAJdk24OrLaterFallsBackNamingTheOptionAndOlderJdksUseNative()
      throws Exception {
    List<String> lines = run();

    if (Runtime.version().feature() >= 24) {
      assertThat(lines).contains("PATH=JDK");
      assertThat(infoOrAbove(lines)).singleElement().satisfies(l -> assertThat(l)
          .contains(LINE).contains("--enable-native-access=ALL-UNNAMED"));
    } else {
      assertThat(lines).contains("PATH=NATIVE");
      assertThat(infoOrAbove(lines)).isEmpty();
    }
  }

  @Test
  void whereAccpCannotLoadAFreshJvmFallsBackToTheJdkWithExactlyOneInfoLine() throws Exception {
    Path notADirectory = Files.writeString(tmp.resolve("not-a-dir"), "x");
    List<String> lines = run(
        "-Dcom.amazon.corretto.crypto.provider.tmpdir=" + notADirectory.resolve("sub"));

    assertThat(lines).contains("PATH=JDK");
    assertThat(infoOrAbove(lines)).singleElement().satisfies(l -> assertThat(l)
        .contains(LINE)
        .contains("falls back to the JDK's crypto")
        .contains("5x the CPU per TLS handshake"));
  }

  @Test
  void theJdkSettingChoosesTheJdkInAFreshJvmWithExactlyOneInfoLine() throws Exception {
    List<String> lines = run("-Dgoplugin4j.crypto=jdk");

    assertThat(lines).contains("PATH=JDK");
    assertThat(infoOrAbove(lines)).singleElement().satisfies(l -> assertThat(l)
        .contains(LINE).contains("goplugin4j.crypto=jdk asks"));
  }

  @Test
  void theNativeSettingFailsTheFirstUseWhereAccpCannotLoad() throws Exception {
    Path notADirectory = Files.writeString(tmp.resolve("not-a-dir"), "x");
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-Dgoplugin4j.crypto=native");
    cmd.add("-Dcom.amazon.corretto.crypto.provider.tmpdir=" + notADirectory.resolve("sub"));
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(CryptoProbe.class.getName());
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).isNotZero();
    assertThat(out).contains("goplugin4j.crypto=native requires").doesNotContain("PATH=");
  }
}
