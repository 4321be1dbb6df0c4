package dev.goplugin4j.interop;

import static dev.goplugin4j.interop.InteropSupport.PEERS;
import static dev.goplugin4j.interop.InteropSupport.deleteKvFile;
import static dev.goplugin4j.interop.InteropSupport.uniqueKey;
import static org.assertj.core.api.Assertions.assertThat;

import dev.goplugin4j.testkit.GoPeers;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The JDK crypto fallback (SunJSSE + SunEC) against go-plugin's KV example with AutoMTLS, in a
 * fresh host JVM each (the path is chosen once per JVM): once forced with {@code
 * goplugin4j.crypto=jdk}, once because the native library cannot load (its extraction directory
 * cannot be created, as in a locked-down container). The other ITs cover the default native path.
 */
class JdkCryptoFallbackIT {
  private static final String SUFFIX = "\\n\\nWritten from plugin-go-grpc";

  @TempDir Path tmp;

  /** What the host JVM printed and logged. */
  private record Run(List<String> out, List<String> log) {}

  private Run host(String... props) throws IOException, InterruptedException {
    Path plugin = PEERS.goPluginExample(GoPeers.GO_PLUGIN_LATEST, GoPeers.KV_PLUGIN);
    Path sockets = Files.createDirectory(tmp.resolve("sockets"));
    Path log = tmp.resolve("host.log");
    Path out = tmp.resolve("out.txt");
    String key = uniqueKey("fallback");
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    if (Runtime.version().feature() >= 24) {
      // JDK 24+ warns on stderr about Netty's native library and protobuf's Unsafe unless told
      // not to, as a host application's launcher does (docs/startup.md); the test reads stderr
      cmd.add("--enable-native-access=ALL-UNNAMED");
      cmd.add("--sun-misc-unsafe-memory-access=allow");
    }
    cmd.add("-Dgoplugin4j.itLog=" + log);
    cmd.addAll(List.of(props));
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(JdkCryptoFallbackHost.class.getName());
    cmd.addAll(List.of(plugin.toString(), sockets.toString(), key));
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile()).start();
      if (!p.waitFor(InteropSupport.START_TIMEOUT.toSeconds() + 60, TimeUnit.SECONDS)) {
        p.destroyForcibly().waitFor();
        throw new AssertionError("the host JVM did not finish: " + Files.readString(out));
      }
      List<String> lines = Files.readAllLines(out, StandardCharsets.UTF_8);
      assertThat(p.exitValue()).as("host exit; output:%n%s", String.join("\n", lines)).isZero();
      try (Stream<Path> left = Files.list(sockets)) {
        assertThat(left.toList()).as("socket directories left").isEmpty();
      }
      return new Run(lines, Files.exists(log) ? Files.readAllLines(log) : List.of());
    } finally {
      deleteKvFile(key);
    }
  }

  private static List<String> cryptoInfoLines(Run r) {
    return r.log().stream().filter(l -> l.contains(" INFO ") && l.contains("TlsCrypto")).toList();
  }

  @Test
  void aHostForcedToJdkCryptoTalksAutoMtlsToAGoPluginAndSaysSoOnce() throws Exception {
    Run r = host("-Dgoplugin4j.crypto=jdk");

    assertThat(r.out()).contains("PATH=JDK", "VALUE=hello from Java" + SUFFIX);
    assertThat(cryptoInfoLines(r)).singleElement().asString().contains("goplugin4j.crypto=jdk asks");
    assertThat(r.out()).as("nothing at WARN or above on the console").noneMatch(l -> l.contains(" WARN ")
        || l.contains(" ERROR ") || l.startsWith("WARNING:"));
  }

  @Test
  void whereNativeCryptoCannotLoadTheHostFallsBackTalksToAGoPluginAndLogsOneInfoLine()
      throws Exception {
    Path notADirectory = Files.writeString(tmp.resolve("not-a-dir"), "x");
    Run r = host("-Dcom.amazon.corretto.crypto.provider.tmpdir=" + notADirectory.resolve("sub"));

    assertThat(r.out()).contains("PATH=JDK", "VALUE=hello from Java" + SUFFIX);
    assertThat(cryptoInfoLines(r)).singleElement().asString()
        .contains("falls back to the JDK's crypto")
        .contains("5x the CPU per TLS handshake");
    assertThat(r.out()).noneMatch(l -> l.contains(" WARN ") || l.contains(" ERROR ")
        || l.startsWith("WARNING:"));
  }

  @Test
  void theDefaultPathInAFreshHostJvmIsNativeAndLogsNothingAboutIt() throws Exception {
    Run r = host("--enable-native-access=ALL-UNNAMED");

    assertThat(r.out()).contains("PATH=NATIVE", "VALUE=hello from Java" + SUFFIX);
    assertThat(cryptoInfoLines(r)).isEmpty();
  }
}
