package dev.goplugin4j.examples.plugins;

import static org.assertj.core.api.Assertions.assertThat;

import dev.goplugin4j.testkit.GoPeers;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The Java example plugins loaded by real, unmodified Go hosts: go-plugin's own example hosts
 * (examples/grpc, examples/bidirectional) and our small variants of them that turn on AutoMTLS and
 * the multiplexed broker, built with go-plugin v1.6.3 and v1.8.0 through the module proxy.
 */
class GoHostsIT {
  private Path work;

  static Stream<String> versions() {
    return GoPeers.GO_PLUGIN_VERSIONS.stream();
  }

  @BeforeEach
  void workDir() throws IOException {
    work = Examples.tempDir("gp4j-go");
  }

  @AfterEach
  void cleanUp() throws IOException {
    try (Stream<Path> left = Files.list(work)) {
      assertThat(left.filter(p -> p.getFileName().toString().startsWith("plugin")).toList())
          .as("plugin sockets left in the host's working directory").isEmpty();
    }
    Examples.deleteRecursively(work);
  }

  private Examples.Result host(Path binary, Map<String, String> extraEnv, String... args) throws Exception {
    Map<String, String> env = Examples.javaEnv();
    env.putAll(extraEnv);
    // the hosts make their socket dirs under TMPDIR: keep them inside the test's directory
    env.put("TMPDIR", work.toString());
    return Examples.run(Stream.concat(Stream.of(binary.toString()), Stream.of(args)).toList(),
        env, work, Examples.COMMAND_TIMEOUT);
  }

  /** Without a runner a go-plugin host gives no socket dir: the plugin's socket is in TMPDIR. */
  private void assertNoSocketsLeft() throws IOException {
    try (Stream<Path> s = Files.list(work)) {
      assertThat(s.filter(p -> p.getFileName().toString().startsWith("plugin")).toList())
          .as("plugin sockets left in TMPDIR").isEmpty();
    }
  }

  @ParameterizedTest(name = "go-plugin {0}")
  @MethodSource("versions")
  void goPluginsGrpcExampleHostPutsThenGetsThroughTheJavaKvPlugin(String version) throws Exception {
    Path hostBinary = Examples.PEERS.goPluginExample(version, GoPeers.KV_HOST);
    Map<String, String> env = Map.of("KV_PLUGIN", Examples.shCommand("kv-plugin"), "KV_PROTO", "grpc");
    String key = Examples.uniqueKey("hello");

    Examples.Result put = host(hostBinary, env, "put", key, "world from " + version);
    assertThat(put.exit()).as(put.toString()).isZero();
    assertThat(put.stdout()).as(put.toString()).isEmpty();
    Examples.Result get = host(hostBinary, env, "get", key);
    assertThat(get.exit()).as(get.toString()).isZero();
    assertThat(get.stdout()).isEqualTo(KvPlugin.stored("world from " + version) + "\n");
    assertNoSocketsLeft();
  }

  @ParameterizedTest(name = "go-plugin {0}")
  @MethodSource("versions")
  void aGoHostWithAutoMtlsPutsThenGetsAndSeesTheLogsAndStdout(String version) throws Exception {
    Path hostBinary = Examples.goTestHost("kvhost", version);
    Map<String, String> env = Map.of("KV_PLUGIN", Examples.shCommand("kv-plugin"));
    String key = Examples.uniqueKey("mtls");

    Examples.Result put = host(hostBinary, env, "-mtls", "put", key, "secret");
    assertThat(put.exit()).as(put.toString()).isZero();
    // the plugin's SLF4J log line became an hclog entry of the host, at its level, with fields
    assertThat(put.stderr()).as(put.toString()).containsPattern("\\[INFO\\] +kvhost\\.sh: stored a value:.*key=" + key);
    // its System.out println reached the host over plugin.GRPCStdio (SyncStdout = host stderr)
    assertThat(put.stderr()).contains("kv-plugin: put " + key);
    assertThat(put.stdout()).isEmpty();
    Examples.Result get = host(hostBinary, env, "-mtls", "get", key);
    assertThat(get.exit()).as(get.toString()).isZero();
    assertThat(get.stdout()).isEqualTo(KvPlugin.stored("secret") + "\n");
  }

  @ParameterizedTest(name = "go-plugin {0}")
  @MethodSource("versions")
  void aGoHostWithAutoMtlsAndTheMultiplexedBrokerPutsThenGets(String version) throws Exception {
    Path hostBinary = Examples.goTestHost("kvhost", version);
    Map<String, String> env = Map.of("KV_PLUGIN", Examples.shCommand("kv-plugin"));
    String key = Examples.uniqueKey("mux");

    Examples.Result put = host(hostBinary, env, "-mtls", "-mux", "put", key, "over yamux");
    assertThat(put.exit()).as(put.toString()).isZero();
    Examples.Result get = host(hostBinary, env, "-mtls", "-mux", "get", key);
    assertThat(get.exit()).as(get.toString()).isZero();
    assertThat(get.stdout()).isEqualTo(KvPlugin.stored("over yamux") + "\n");
  }

  @ParameterizedTest(name = "go-plugin {0}")
  @MethodSource("versions")
  void goPluginsBidirectionalExampleHostCountsThroughTheJavaCounterCallingBackItsAddHelper(String version)
      throws Exception {
    Path hostBinary = Examples.PEERS.goPluginExample(version, GoPeers.COUNTER_HOST);
    Map<String, String> env = Map.of("COUNTER_PLUGIN", Examples.shCommand("counter-plugin"));
    String key = Examples.uniqueKey("count");

    for (String n : List.of("1", "2")) {
      Examples.Result put = host(hostBinary, env, "put", key, n);
      assertThat(put.exit()).as(put.toString()).isZero();
    }
    Examples.Result get = host(hostBinary, env, "get", key);
    assertThat(get.exit()).as(get.toString()).isZero();
    assertThat(get.stdout()).isEqualTo("3\n");
    assertThat(Files.readString(work.resolve("kv_" + key))).isEqualTo("{\"Value\":3}");
    assertNoSocketsLeft();
  }

  @ParameterizedTest(name = "go-plugin {0}")
  @MethodSource("versions")
  void aGoHostWithTheMultiplexedBrokerCountsThroughTheJavaCounterCallingBackItsAddHelper(String version)
      throws Exception {
    Path hostBinary = Examples.goTestHost("counterhost", version);
    Map<String, String> env = Map.of("COUNTER_PLUGIN", Examples.shCommand("counter-plugin"));
    for (List<String> flags : List.of(List.of("-mux"), List.of("-mux", "-mtls"), List.of("-mtls"))) {
      String key = Examples.uniqueKey("count");
      for (String n : List.of("1", "2", "4")) {
        Examples.Result put = host(hostBinary, env, concat(flags, "put", key, n));
        assertThat(put.exit()).as(flags + " " + put).isZero();
      }
      Examples.Result get = host(hostBinary, env, concat(flags, "get", key));
      assertThat(get.exit()).as(flags + " " + get).isZero();
      assertThat(get.stdout()).as(flags.toString()).isEqualTo("7\n");
    }
    assertNoSocketsLeft();
  }

  private static String[] concat(List<String> flags, String... args) {
    return Stream.concat(flags.stream(), Stream.of(args)).toArray(String[]::new);
  }
}
