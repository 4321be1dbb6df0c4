package dev.goplugin4j.container;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.goplugin4j.host.PluginClient;
import dev.goplugin4j.host.ReattachConfig;
import dev.goplugin4j.interop.StorageCounterPlugin;
import dev.goplugin4j.protocol.AddressRefusedException;
import dev.goplugin4j.protocol.NetAddress;
import dev.goplugin4j.testkit.Leaks;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A hand-edited reattach config of a container plugin cannot steer the host to another socket:
 * an address outside the recorded socket directory (absolute, or through {@code ..}), a socket
 * directory goplugin4j did not make, or a TCP address is refused with {@link
 * AddressRefusedException} before the engine is asked anything and before any connection (a
 * listening trap socket sees nothing), and the container keeps running; the real config still
 * reattaches.
 */
class ReattachAddressRulesIT {

  private static PluginClient.Builder host() {
    try {
      Files.createDirectories(ItSupport.SOCKET_DIRS);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    return PluginClient.builder()
        .handshake(1, "BASIC_PLUGIN", "hello")
        .plugin("counter", new StorageCounterPlugin())
        .skipHostEnv(true)
        .unixSocketTempDir(ItSupport.SOCKET_DIRS)
        .startTimeout(Duration.ofSeconds(60));
  }

  @Test
  void editedContainerReattachConfigsAreRefusedBeforeAnyConnectionAndTheRealOneStillWorks()
      throws Exception {
    ContainerConfig config = ContainerConfig.builder().image(TestImages.COUNTER).runtime("runc")
        .build();
    Leaks leaks = Leaks.snapshot("goplugin4j-");
    ReattachConfig rc;
    PluginClient first = host().runner(config).build();
    try {
      first.start();
      rc = first.reattachConfig().orElseThrow();
    } finally {
      first.detach();
    }
    String dir = rc.runnerAttributes().get(ContainerRunners.ATTR_SOCKET_DIR);
    // the trap: a real socket beside the socket dir, where <dir>/../evil/evil.sock points
    Path evilDir = Files.createDirectories(Path.of(dir).resolveSibling("evil"));
    Path evil = evilDir.resolve("evil.sock");
    try (ServerSocketChannel trap = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      trap.bind(UnixDomainSocketAddress.of(evil));
      trap.configureBlocking(false);
      Map<String, String> foreignDir = new HashMap<>(rc.runnerAttributes());
      foreignDir.put(ContainerRunners.ATTR_SOCKET_DIR, evilDir.toString());
      List<ReattachConfig> edited = List.of(
          with(rc, NetAddress.unix(dir + "/../evil/evil.sock"), rc.runnerAttributes()),
          with(rc, NetAddress.unix(evil.toString()), rc.runnerAttributes()),
          with(rc, NetAddress.unix(evil.toString()), foreignDir),
          with(rc, NetAddress.tcp("127.0.0.1:2375"), rc.runnerAttributes()));
      for (ReattachConfig bad : edited) {
        try (PluginClient again = host().reattach(bad, ContainerRunners.reattacher()).build()) {
          assertThatThrownBy(again::start).as(bad.address().toString())
              .isInstanceOf(AddressRefusedException.class)
              .hasMessageContaining("cannot reattach")
              .hasMessageContaining(bad.address().address());
        }
        assertThat(trap.accept()).as("a connection to the trap").isNull();
        assertThat(ItSupport.inspect(rc.runnerId()))
            .hasValueSatisfying(i -> assertThat(i.running()).isTrue());
        assertThat(Path.of(dir)).isDirectory();
      }
      // the runner's own entry point refuses a directory goplugin4j did not make
      assertThatThrownBy(() -> ContainerRunners.reattach(rc.runnerId(), evilDir))
          .isInstanceOf(AddressRefusedException.class)
          .hasMessageContaining("goplugin4j-<digits>");
    } finally {
      Files.deleteIfExists(evil);
      Files.deleteIfExists(evilDir);
    }
    try (PluginClient again = host().reattach(rc, ContainerRunners.reattacher()).build()) {
      again.start();
      again.ping();
    }
    assertThat(ItSupport.inspect(rc.runnerId())).as("the reattached host's close removes it")
        .isEmpty();
    assertThat(Path.of(dir)).doesNotExist();
    leaks.assertNoneWithin(Duration.ofSeconds(10));
  }

  private static ReattachConfig with(
      ReattachConfig rc, NetAddress address, Map<String, String> attributes) {
    return new ReattachConfig(rc.protocol(), rc.protocolVersion(), address, rc.runnerKind(),
        rc.runnerId(), attributes, rc.multiplexed(), rc.pluginCertificate(),
        rc.hostCertificate(), rc.hostPrivateKey(), rc.test());
  }
}
