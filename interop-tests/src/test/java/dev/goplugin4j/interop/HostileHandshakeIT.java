package dev.goplugin4j.interop;

import static dev.goplugin4j.interop.InteropSupport.PEERS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.goplugin4j.host.PluginClient;
import dev.goplugin4j.host.PluginStartException;
import dev.goplugin4j.host.ReattachConfig;
import dev.goplugin4j.protocol.AddressRefusedException;
import dev.goplugin4j.protocol.HandshakeException;
import dev.goplugin4j.protocol.NetAddress;
import dev.goplugin4j.protocol.PluginException;
import dev.goplugin4j.protocol.internal.broker.AddressRules;
import dev.goplugin4j.testkit.GoPeers;
import dev.goplugin4j.testkit.Leaks;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.ServerSocket;
import java.net.SocketTimeoutException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * A plugin may be hostile third-party code. Each bad handshake a real process can print ends the
 * start with a typed exception that says what the plugin did, within the start timeout plus 1 s,
 * and leaves nothing behind: no thread, fd, child process or socket directory. Addresses outside
 * the rules are refused before any connection: the tests listen where the plugin points and check
 * that nothing connected.
 */
class HostileHandshakeIT {
  static {
    // logging opens its file on first use; do that before any fd snapshot
    LoggerFactory.getILoggerFactory();
  }

  /** Short, so "silence then hang" is quick; everything else fails long before it. */
  private static final Duration START_TIMEOUT = Duration.ofSeconds(5);

  /** The correctness bound for every hostile start: the timeout plus 1 s. */
  private static final Duration BOUND = START_TIMEOUT.plusSeconds(1);

  @TempDir Path scripts;
  @TempDir Path sockets;
  private Leaks leaks;

  @BeforeAll
  static void resolvePeersAndWarmUp(@TempDir Path warm) throws IOException {
    PEERS.goPluginExample(GoPeers.GO_PLUGIN_LATEST, GoPeers.KV_PLUGIN);
    // A cold JVM spends seconds of the first start timeout on class loading and the first AutoMTLS
    // key pair; the bound checked here is about the plugin, so pay that once, outside the tests.
    Path p = Files.writeString(warm.resolve("warm.sh"), "#!/bin/sh\necho warm-up\n");
    Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwx------"));
    try (PluginClient client = PluginClient.builder()
        .handshake(1, "BASIC_PLUGIN", "hello")
        .plugin("kv", new KvPlugin())
        .command(p.toString())
        .unixSocketTempDir(warm)
        .startTimeout(InteropSupport.START_TIMEOUT)
        .build()) {
      catchThrowable(client::start);
    }
  }

  @BeforeEach
  void snapshot() {
    leaks = Leaks.snapshotWithFds(InteropSupport.THREAD_PREFIX);
  }

  // ---------------------------------------------------------------------------------------------
  // bad handshakes

  @Test
  void garbageInsteadOfAHandshakeLineIsAHandshakeErrorThatQuotesIt() throws Exception {
    Throwable t = startFails(script("echo 'Starting up, please wait'\nexec sleep 100000"), true);
    assertThat(t).isInstanceOf(HandshakeException.class)
        .hasMessageContaining("unrecognized remote plugin message")
        .hasMessageContaining("Starting up, please wait")
        .hasMessageContaining("printed to stdout before its handshake line");
    assertNothingLeaked();
  }

  @Test
  void wrongCoreVersionIsAHandshakeError() throws Exception {
    Throwable t = startFails(handshake("2|1|unix|$PLUGIN_UNIX_SOCKET_DIR/plugin1|grpc|"), true);
    assertThat(t).isInstanceOf(HandshakeException.class)
        .hasMessageContaining("incompatible core API version with plugin. Plugin version: 2");
    assertNothingLeaked();
  }

  @Test
  void wrongAppVersionIsAHandshakeErrorNamingBothSides() throws Exception {
    Throwable t = startFails(handshake("1|7|unix|$PLUGIN_UNIX_SOCKET_DIR/plugin1|grpc|"), true);
    assertThat(t).isInstanceOf(HandshakeException.class)
        .hasMessageContaining("Plugin version: 7, host versions: [1]");
    assertNothingLeaked();
  }

  @Test
  void unknownNetworkIsAHandshakeError() throws Exception {
    Throwable t = startFails(handshake("1|1|udp|127.0.0.1:53|grpc|"), false);
    assertThat(t).isInstanceOf(HandshakeException.class)
        .hasMessageContaining("unknown address type \"udp\"");
    assertNothingLeaked();
  }

  @Test
  void nonLoopbackTcpAddressIsRefusedBeforeAnyConnection() throws Exception {
    InetAddress own = nonLoopbackAddress();
    // listen there when it is this machine's own address (eth0's), to see that nothing connects
    try (ServerSocket trap = own.isAnyLocalAddress() || NetworkInterface.getByInetAddress(own) == null
        ? null : new ServerSocket(0, 50, own)) {
      String target = own.getHostAddress() + ":" + (trap == null ? 4242 : trap.getLocalPort());
      Throwable t = startFails(handshake("1|1|tcp|" + target + "|grpc|"), false);
      assertThat(t).isInstanceOfSatisfying(AddressRefusedException.class, e -> {
        assertThat(e.address()).isEqualTo("tcp:" + target);
        assertThat(e.rule()).isEqualTo(AddressRules.RULE_NON_LOOPBACK);
      }).hasMessageContaining(target).hasMessageContaining("allowNonLoopbackTcp(true)");
      if (trap != null) {
        assertNoConnection(trap);
      }
    }
    assertNothingLeaked();
  }

  @Test
  void unixSocketOutsideTheSocketDirectoryIsRefusedBeforeAnyConnection() throws Exception {
    Path elsewhere = Files.createTempDirectory("goplugin4j-hostile-");
    Path evil = elsewhere.resolve("evil.sock");
    try (ServerSocketChannel trap = unixListener(evil)) {
      Throwable t = startFails(handshake("1|1|unix|" + evil + "|grpc|"), false);
      assertThat(t).isInstanceOfSatisfying(AddressRefusedException.class,
          e -> assertThat(e.rule()).isEqualTo(AddressRules.RULE_OUTSIDE_DIR))
          .hasMessageContaining(evil.toString())
          .hasMessageContaining("handshake line");
      assertNoConnection(trap);
    } finally {
      Files.deleteIfExists(evil);
      Files.deleteIfExists(elsewhere);
    }
    assertNothingLeaked();
  }

  @Test
  void unixSocketReachedThroughDotDotIsRefusedBeforeAnyConnection() throws Exception {
    // <socket dir>/../evil/evil.sock: the evil socket sits beside the socket dir, really listening
    Path evilDir = Files.createDirectory(sockets.resolve("evil"));
    Path evil = evilDir.resolve("evil.sock");
    try (ServerSocketChannel trap = unixListener(evil)) {
      Throwable t = startFails(
          handshake("1|1|unix|$PLUGIN_UNIX_SOCKET_DIR/../evil/evil.sock|grpc|"), false);
      assertThat(t).isInstanceOfSatisfying(AddressRefusedException.class,
          e -> assertThat(e.rule()).isEqualTo(AddressRules.RULE_OUTSIDE_DIR))
          .hasMessageContaining("/../evil/evil.sock");
      assertNoConnection(trap);
    } finally {
      Files.deleteIfExists(evil);
      Files.deleteIfExists(evilDir);
    }
    assertNothingLeaked();
  }

  @Test
  void tenMegabyteHandshakeLineIsRefusedAfter64KiB() throws Exception {
    Throwable t = startFails(
        script("exec perl -e '$|=1; print \"1|1|unix|\", \"A\" x 10485760, \"\\n\"; sleep 100000'"),
        true);
    assertThat(t).isInstanceOf(HandshakeException.class)
        .hasMessageContaining("more than 64 KiB on stdout without a newline before its handshake line");
    assertNothingLeaked();
  }

  @Test
  void brokenCertificateBase64IsAHandshakeError() throws Exception {
    String notBase64 = "!!!!this-is-not-base64-at-all-but-long-enough-to-be-parsed!!!!";
    Throwable t = startFails(
        handshake("1|1|unix|$PLUGIN_UNIX_SOCKET_DIR/plugin1|grpc|" + notBase64), true);
    assertThat(t).isInstanceOf(HandshakeException.class)
        .hasMessageContaining("error parsing the plugin's certificate")
        .hasMessageContaining("not base64");
    assertNothingLeaked();
  }

  @Test
  void silenceThenExitReportsTheExitStatus() throws Exception {
    Throwable t = startFails(script("echo 'no config' >&2\nsleep 1\nexit 4"), true);
    assertThat(t).isInstanceOf(PluginStartException.class)
        .hasMessageContaining("plugin exited before we could connect (exit status 4)")
        .hasMessageContaining("no config");
    assertNothingLeaked();
  }

  @Test
  void silenceThenHangTimesOutAndKillsThePlugin() throws Exception {
    Throwable t = startFails(script("exec sleep 100000"), true);
    assertThat(t).isInstanceOf(PluginStartException.class)
        .hasMessageContaining("timeout while waiting for plugin to start")
        .hasMessageContaining(START_TIMEOUT.toMillis() + " ms");
    assertNothingLeaked();
  }

  @Test
  void threeHundredMebibytesWithoutNewlineFailTheStartWithoutExhaustingTheHeap() throws Exception {
    Throwable t = startFails(script(OVERFLOW_PLUGIN), true);
    assertThat(t).isInstanceOf(HandshakeException.class)
        .hasMessageContaining(
            "the plugin wrote more than 64 KiB on stdout without a newline before its handshake line")
        .hasMessageNotContaining("SIGPIPE")
        .hasMessageNotContaining("signal");
    assertNothingLeaked();
  }

  /** The reproduction: the host at -Xmx256m, in a JVM of its own. */
  @Test
  void threeHundredMebibytesWithoutNewlineFailTheStartOfAHostAt256MiB() throws Exception {
    Path plugin = script(OVERFLOW_PLUGIN);
    Path javaExe = Path.of(System.getProperty("java.home"), "bin", "java");
    Process host = new ProcessBuilder(javaExe.toString(), "-Xmx256m",
        "-cp", System.getProperty("java.class.path"), OverflowHost.class.getName(),
        plugin.toString(), sockets.toString())
        .redirectErrorStream(true)
        .start();
    String out;
    try (var in = host.getInputStream()) {
      out = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    } finally {
      host.waitFor(90, TimeUnit.SECONDS);
      host.destroyForcibly();
    }
    assertThat(out)
        .contains("RESULT dev.goplugin4j.protocol.HandshakeException")
        .contains("more than 64 KiB on stdout without a newline")
        .doesNotContain("OutOfMemoryError")
        .doesNotContain("SIGPIPE");
    assertThat(host.exitValue()).as(out).isZero();
    assertNothingLeaked();
  }

  // ---------------------------------------------------------------------------------------------
  // reattach configs

  @Test
  void reattachConfigPointingOutsideItsSocketDirectoryIsRefusedAndTouchesNothing() throws Exception {
    Path plugin = PEERS.goPluginExample(GoPeers.GO_PLUGIN_LATEST, GoPeers.KV_PLUGIN);
    ReattachConfig rc;
    try (PluginClient client = kvClient(plugin).build()) {
      client.start();
      rc = client.reattachConfig().orElseThrow();
      client.detach();
    }
    Path elsewhere = Files.createTempDirectory("goplugin4j-hostile-");
    Path evil = elsewhere.resolve("evil.sock");
    String dir = rc.runnerAttributes().get("socket_dir");
    try (ServerSocketChannel trap = unixListener(evil)) {
      Map<String, String> foreignDir = new HashMap<>(rc.runnerAttributes());
      foreignDir.put("socket_dir", elsewhere.toString());
      for (ReattachConfig bad : List.of(
          withAddress(rc, NetAddress.unix(evil.toString()), rc.runnerAttributes()),
          withAddress(rc, NetAddress.unix(dir + "/../" + elsewhere.getFileName() + "/evil.sock"),
              rc.runnerAttributes()),
          withAddress(rc, NetAddress.unix(evil.toString()), foreignDir),
          withAddress(rc, NetAddress.tcp(nonLoopbackAddress().getHostAddress() + ":80"),
              rc.runnerAttributes()))) {
        try (PluginClient again = kvClient(null).reattach(bad).build()) {
          long t0 = System.nanoTime();
          assertThatThrownBy(again::start).as(bad.address().toString())
              .isInstanceOf(AddressRefusedException.class)
              .hasMessageContaining("cannot reattach")
              .hasMessageContaining(bad.address().address());
          assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(BOUND);
        }
        assertNoConnection(trap);
        assertThat(ProcessHandle.of(Long.parseLong(rc.runnerId())).map(ProcessHandle::isAlive))
            .as("the plugin is untouched").contains(true);
        assertThat(Path.of(dir)).as("its socket dir is untouched").isDirectory();
      }
    } finally {
      Files.deleteIfExists(evil);
      Files.deleteIfExists(elsewhere);
    }
    // the real config still works, and its close cleans up
    try (PluginClient again = kvClient(null).reattach(rc).build()) {
      again.start();
    }
    InteropSupport.assertProcessGone(Long.parseLong(rc.runnerId()));
    assertNothingLeaked();
  }

  @Test
  void failedReattachToAKilledPluginRemovesItsSocketDirectory() throws Exception {
    Path plugin = PEERS.goPluginExample(GoPeers.GO_PLUGIN_LATEST, GoPeers.KV_PLUGIN);
    ReattachConfig rc;
    try (PluginClient client = kvClient(plugin).build()) {
      client.start();
      rc = client.reattachConfig().orElseThrow();
      client.detach();
    }
    long pid = Long.parseLong(rc.runnerId());
    Path dir = Path.of(rc.runnerAttributes().get("socket_dir"));
    assertThat(dir).isDirectory();
    new ProcessBuilder("kill", "-9", Long.toString(pid)).start().waitFor();
    InteropSupport.assertProcessGone(pid);
    assertThat(Path.of(rc.address().address())).as("the dead plugin's socket stays").exists();

    try (PluginClient again = kvClient(null).reattach(rc).build()) {
      assertThatThrownBy(again::start).isInstanceOf(PluginException.class)
          .hasMessageContaining(rc.runnerId());
    }
    assertThat(dir).as("socket dir of the dead plugin").doesNotExist();
    assertNothingLeaked();
  }

  // ---------------------------------------------------------------------------------------------
  // helpers

  static final String OVERFLOW_PLUGIN =
      "exec perl -e '$|=1; print \"A\" x 1048576 for 1..300; sleep 100000'";

  /** Runs the 300 MiB plugin in a host JVM of its own; prints RESULT and the exception. */
  public static final class OverflowHost {
    public static void main(String[] args) {
      try (PluginClient client = PluginClient.builder()
          .handshake(1, "BASIC_PLUGIN", "hello")
          .plugin("kv", new KvPlugin())
          .command(args[0])
          .unixSocketTempDir(Path.of(args[1]))
          // a cold JVM on a busy machine: this test is about the heap, not the time
          .startTimeout(Duration.ofSeconds(60))
          .build()) {
        client.start();
        System.out.println("RESULT started?!");
      } catch (Throwable t) {
        System.out.println("RESULT " + t.getClass().getName() + ": " + t.getMessage());
      }
    }
  }

  private PluginClient.Builder kvClient(Path plugin) {
    PluginClient.Builder b = PluginClient.builder()
        .handshake(ExampleHandshake.PROTOCOL_VERSION, ExampleHandshake.MAGIC_COOKIE_KEY,
            ExampleHandshake.MAGIC_COOKIE_VALUE)
        .plugin("kv", new KvPlugin())
        .startTimeout(InteropSupport.START_TIMEOUT);
    if (plugin != null) {
      b.command(plugin.toString()).unixSocketTempDir(sockets);
    }
    return b;
  }

  private static ReattachConfig withAddress(
      ReattachConfig rc, NetAddress address, Map<String, String> attributes) {
    return new ReattachConfig(rc.protocol(), rc.protocolVersion(), address, rc.runnerKind(),
        rc.runnerId(), attributes, rc.multiplexed(), rc.pluginCertificate(),
        rc.hostCertificate(), rc.hostPrivateKey(), rc.test());
  }

  /** Starts the script as a plugin; returns what start() threw, checking the time bound. */
  private Throwable startFails(Path plugin, boolean autoMtls) {
    try (PluginClient client = PluginClient.builder()
        .handshake(1, "BASIC_PLUGIN", "hello")
        .plugin("kv", new KvPlugin())
        .command(plugin.toString())
        .unixSocketTempDir(sockets)
        .autoMtls(autoMtls)
        .startTimeout(START_TIMEOUT)
        .build()) {
      long t0 = System.nanoTime();
      Throwable t = catchThrowable(client::start);
      Duration took = Duration.ofNanos(System.nanoTime() - t0);
      assertThat(t).as("start of a hostile plugin").isNotNull();
      assertThat(took).as("time to failure (%s)", t).isLessThanOrEqualTo(BOUND);
      assertThat(client.exited()).isTrue();
      return t;
    }
  }

  /** A plugin that prints {@code line} as its handshake and then hangs. */
  private Path handshake(String line) throws IOException {
    return script("echo \"" + line + "\"\nexec sleep 100000");
  }

  private Path script(String body) throws IOException {
    Path p = Files.createTempFile(scripts, "plugin-", ".sh");
    Files.writeString(p, "#!/bin/sh\n" + body + "\n");
    Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwx------"));
    return p;
  }

  private static ServerSocketChannel unixListener(Path path) throws IOException {
    ServerSocketChannel s = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    s.bind(UnixDomainSocketAddress.of(path));
    s.configureBlocking(false);
    return s;
  }

  private static void assertNoConnection(ServerSocketChannel trap) throws IOException {
    assertThat(trap.accept()).as("a connection to the trap socket").isNull();
  }

  private static void assertNoConnection(ServerSocket trap) throws IOException {
    trap.setSoTimeout(200);
    try {
      trap.accept().close();
      throw new AssertionError("the host connected to " + trap.getLocalSocketAddress());
    } catch (SocketTimeoutException expected) {
      // nothing connected
    }
  }

  /** An address of this machine that is not loopback (eth0's, say): the target. */
  private static InetAddress nonLoopbackAddress() throws IOException {
    Optional<InetAddress> found;
    try (Stream<NetworkInterface> nics = NetworkInterface.networkInterfaces()) {
      found = nics.filter(n -> {
            try {
              return n.isUp() && !n.isLoopback();
            } catch (IOException e) {
              return false;
            }
          })
          .flatMap(NetworkInterface::inetAddresses)
          .filter(a -> a instanceof Inet4Address && !a.isLoopbackAddress())
          .findFirst();
    }
    // without a network interface, a TEST-NET-1 address still shows the refusal
    return found.isPresent() ? found.get() : InetAddress.getByName("192.0.2.1");
  }

  private void assertNothingLeaked() throws IOException {
    leaks.assertNoneWithin(InteropSupport.CLEANUP);
    try (Stream<Path> left = Files.list(sockets)) {
      assertThat(left.toList()).as("socket directories left in " + sockets).isEmpty();
    }
  }

}
