package dev.goplugin4j.protocol.internal.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.goplugin4j.protocol.AddressRefusedException;
import dev.goplugin4j.protocol.NetAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AddressRulesTest {
  private static final String DIR = "/tmp/goplugin4j-123";

  @TempDir Path tmp;

  @Test
  void acceptsASocketDirectlyInsideTheSocketDirectory() {
    assertThat(AddressRules.checkSyntax("unix", DIR + "/plugin42", DIR, false))
        .isEqualTo(NetAddress.unix(DIR + "/plugin42"));
  }

  @Test
  void refusesUnixPathsOutsideTheDirectoryOrThroughDotDot() {
    for (String bad : new String[] {"/var/run/docker.sock", DIR + "/../evil/evil.sock",
        DIR + "/./plugin", DIR + "/a/b", DIR + "/", DIR + "/..", DIR + "/.", DIR + "x/p",
        DIR + "//p", "plugin1", "../goplugin4j-123/p", DIR}) {
      assertThatThrownBy(() -> AddressRules.checkSyntax("unix", bad, DIR, false))
          .as(bad)
          .isInstanceOfSatisfying(AddressRefusedException.class, e -> {
            assertThat(e.address()).isEqualTo("unix:" + bad);
            assertThat(e.rule()).isEqualTo(AddressRules.RULE_OUTSIDE_DIR);
          })
          .hasMessageContaining(bad);
    }
  }

  @Test
  void refusesEveryUnixAddressWhenThereIsNoSocketDirectory() {
    assertThatThrownBy(() -> AddressRules.checkSyntax("unix", DIR + "/p", null, true))
        .isInstanceOf(AddressRefusedException.class).hasMessageContaining("no socket directory");
  }

  @Test
  void acceptsTcpOnLoopbackOnly() {
    for (String ok : new String[] {"127.0.0.1:1234", "127.1.2.3:65535", "[::1]:1", "localhost:80",
        "[::ffff:127.0.0.1]:10000", "[0:0:0:0:0:0:0:1]:5"}) {
      assertThat(AddressRules.checkSyntax("tcp", ok, DIR, false)).as(ok).isEqualTo(NetAddress.tcp(ok));
    }
    for (String bad : new String[] {"10.0.0.5:1234", "0.0.0.0:1234", "192.168.1.1:80",
        "example.com:80", "[::]:80", "[fe80::1]:80", "[::ffff:10.0.0.1]:80", "128.0.0.1:1",
        "127.0.0.1.example.com:80", "[::1%lo]:80"}) {
      assertThatThrownBy(() -> AddressRules.checkSyntax("tcp", bad, DIR, false))
          .as(bad)
          .isInstanceOfSatisfying(AddressRefusedException.class,
              e -> assertThat(e.rule()).isEqualTo(AddressRules.RULE_NON_LOOPBACK))
          .hasMessageContaining("allowNonLoopbackTcp(true)");
    }
  }

  @Test
  void nonLoopbackTcpPassesOnlyWithTheOptIn() {
    assertThat(AddressRules.checkSyntax("tcp", "10.0.0.5:1234", null, true))
        .isEqualTo(NetAddress.tcp("10.0.0.5:1234"));
  }

  @Test
  void refusesMalformedAddressesAndUnknownNetworks() {
    for (String bad : new String[] {"127.0.0.1", "127.0.0.1:", ":80", "127.0.0.1:0",
        "127.0.0.1:65536", "127.0.0.1:+80", "::1:80", "[::1:80", "[]:80", "127.0.0.1:8x"}) {
      assertThatThrownBy(() -> AddressRules.checkSyntax("tcp", bad, DIR, true))
          .as(bad)
          .isInstanceOfSatisfying(AddressRefusedException.class,
              e -> assertThat(e.rule()).isEqualTo(AddressRules.RULE_MALFORMED));
    }
    assertThatThrownBy(() -> AddressRules.checkSyntax("udp", "127.0.0.1:53", DIR, true))
        .isInstanceOf(AddressRefusedException.class).hasMessageContaining("unknown network");
    assertThatThrownBy(() -> AddressRules.checkSyntax("unix", "", DIR, true))
        .isInstanceOf(AddressRefusedException.class);
    assertThatThrownBy(() -> AddressRules.checkSyntax("unix", DIR + "/a\0b", DIR, true))
        .isInstanceOf(AddressRefusedException.class).hasMessageContaining("NUL");
    assertThatThrownBy(() -> AddressRules.checkSyntax(null, null, null, true))
        .isInstanceOf(AddressRefusedException.class);
  }

  @Test
  void refusesSymbolicLinksAndFilesThatAreNotSockets() throws Exception {
    Path dir = Files.createDirectory(tmp.resolve("goplugin4j-7"));
    Files.createSymbolicLink(dir.resolve("link"), Path.of("/nonexistent/docker.sock"));
    Files.writeString(dir.resolve("file"), "x");
    assertThatThrownBy(() -> AddressRules.check(NetAddress.unix(dir.resolve("link").toString()), dir, false))
        .isInstanceOfSatisfying(AddressRefusedException.class,
            e -> assertThat(e.rule()).isEqualTo(AddressRules.RULE_NOT_A_SOCKET))
        .hasMessageContaining("symbolic link");
    assertThatThrownBy(() -> AddressRules.check(NetAddress.unix(dir.resolve("file").toString()), dir, false))
        .isInstanceOf(AddressRefusedException.class).hasMessageContaining("not a Unix socket");
    // missing: passes (dialling fails harmlessly)
    assertThat(AddressRules.check(NetAddress.unix(dir.resolve("none").toString()), dir, false)).isNotNull();
    try (ServerSocketChannel s = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      s.bind(UnixDomainSocketAddress.of(dir.resolve("sock")));
      NetAddress sock = NetAddress.unix(dir.resolve("sock").toString());
      assertThat(AddressRules.check(sock, dir, false)).isEqualTo(sock);
    }
  }

  @Test
  void refusesASocketDirectoryThatIsASymbolicLink() throws Exception {
    Path real = Files.createDirectory(tmp.resolve("real"));
    Path link = Files.createSymbolicLink(tmp.resolve("goplugin4j-8"), real);
    assertThatThrownBy(() -> AddressRules.check(NetAddress.unix(link.resolve("p").toString()), link, false))
        .isInstanceOf(AddressRefusedException.class).hasMessageContaining("symbolic link");
  }

  @Test
  void acceptsOnlyOwnSocketDirectoriesFromAReattachConfig() throws Exception {
    Path own = Files.createDirectory(tmp.resolve("goplugin4j-99"),
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    assertThat(AddressRules.checkOwnSocketDir(own.toString(), "unix:x")).isEqualTo(own);
    Path other = Files.createDirectory(tmp.resolve("evil"));
    Path link = Files.createSymbolicLink(tmp.resolve("goplugin4j-100"), other);
    for (String bad : new String[] {other.toString(), link.toString(), own + "/../evil",
        own + "/", "relative/goplugin4j-1", "/var/run", "/proc", "/tmp/goplugin4j-1/../goplugin4j-99",
        tmp.resolve("goplugin4j-404").toString()}) {
      assertThatThrownBy(() -> AddressRules.checkOwnSocketDir(bad, "unix:x"))
          .as(bad)
          .isInstanceOfSatisfying(AddressRefusedException.class,
              e -> assertThat(e.rule()).isEqualTo(AddressRules.RULE_FOREIGN_DIR));
    }
  }

  @Test
  void refusesASocketDirectoryOwnedBySomeoneElse() throws Exception {
    Path dir = Files.createDirectory(tmp.resolve("goplugin4j-5"));
    int own = AddressRules.ownUid();
    if (own == 0) {
      Files.setAttribute(dir, "unix:uid", 4242); // root can give it away
    } else {
      // a non-root user cannot make a directory owned by someone else; claim it is ours under
      // another name instead: the rule reads the owner, so "/" (root's) shows it
      dir = Path.of("/");
    }
    Path d = dir;
    if (own == 0) {
      assertThatThrownBy(() -> AddressRules.checkOwnSocketDir(d.toString(), "unix:x"))
          .isInstanceOf(AddressRefusedException.class).hasMessageContaining("belongs to uid 4242");
    } else {
      assertThatThrownBy(() -> AddressRules.checkOwnSocketDir(d.toString(), "unix:x"))
          .isInstanceOf(AddressRefusedException.class);
    }
  }

  @Test
  void bracketsHoldOnlyAnIpv6Literal() {
    for (String bad : new String[] {"[localhost]:80", "[127.0.0.1]:80"}) {
      assertThatThrownBy(() -> AddressRules.checkSyntax("tcp", bad, null, false))
          .as(bad).isInstanceOf(AddressRefusedException.class)
          .hasMessageContaining(AddressRules.RULE_MALFORMED);
    }
  }
}
