package dev.goplugin4j.protocol.internal.broker;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.goplugin4j.protocol.AddressRefusedException;
import dev.goplugin4j.protocol.NetAddress;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.net.UnknownHostException;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * Coverage-guided fuzzing (Jazzer) of {@link AddressRules}, the one gate between what a plugin
 * (or an edited reattach config, or a broker {@code ConnInfo}) announces and what the host dials.
 * For any network, address and socket directory:
 *
 * <ul>
 *   <li>the rules accept or throw {@link AddressRefusedException}, nothing else, and the
 *       exception names a rule and the address;
 *   <li>an accepted Unix address is directly inside the socket directory: it starts with the
 *       directory and a {@code /}, the rest is one name (no {@code /}, not {@code .} or {@code
 *       ..}), and as a path its normalized parent is the directory;
 *   <li>with the file system checks ({@link AddressRules#check}) on a real directory holding a
 *       socket, a regular file, a subdirectory with a socket, and symbolic links to a socket, to
 *       a directory and to the engine's socket, an accepted path is absent or a socket, never a
 *       link or anything else;
 *   <li>an accepted TCP address without the opt-in is on loopback: {@code localhost}, a dotted
 *       quad {@code 127.x.y.z} of decimal octets, or a bracketed IPv6 literal of a loopback
 *       address; its port is 1 to 65535. With the opt-in, the host may be anything non-empty
 *       (brackets balanced, no {@code :} outside them): the user chose to dial other hosts;
 *   <li>{@link AddressRules#checkOwnSocketDir} accepts only a real directory named {@code
 *       goplugin4j-<digits>}, owned by this user, given as an absolute normal path.
 * </ul>
 *
 * <p>Its one finding, fixed: {@code [localhost]:port} and {@code [127.0.0.1]:port} passed
 * without the opt-in (brackets around a name or an IPv4 literal, where only an IPv6 literal
 * belongs); see docs/security.md.
 *
 * <p>Regression inputs: {@code src/test/resources/dev/goplugin4j/protocol/internal/broker/
 * AddressRulesFuzzTestInputs/rules/}. The protocol module's {@code jazzer-fuzz-addresses}
 * execution fuzzes for {@code maxDuration}; see docs/security.md for the long run.
 */
class AddressRulesFuzzTest {
  private static final Path ROOT;
  private static final Path DIR;
  private static final List<String> NAMES = List.of("s.sock", "file", "sub", "sub/s.sock",
      "link-to-socket", "link-to-dir", "link-to-engine", "missing.sock", "..", ".", "");

  static {
    try {
      ROOT = Files.createTempDirectory("goplugin4j-fuzz-").toRealPath();
      DIR = Files.createDirectory(ROOT.resolve("goplugin4j-4242"));
      bind(DIR.resolve("s.sock"));
      Files.writeString(DIR.resolve("file"), "x");
      Files.createDirectory(DIR.resolve("sub"));
      bind(DIR.resolve("sub/s.sock"));
      Files.createSymbolicLink(DIR.resolve("link-to-socket"), DIR.resolve("s.sock"));
      Files.createSymbolicLink(DIR.resolve("link-to-dir"), DIR.resolve("sub"));
      Files.createSymbolicLink(DIR.resolve("link-to-engine"), Path.of("/var/run/docker.sock"));
      Files.createSymbolicLink(ROOT.resolve("goplugin4j-4343"), DIR);
      Files.writeString(ROOT.resolve("goplugin4j-4444"), "not a dir");
      Runtime.getRuntime().addShutdownHook(new Thread(AddressRulesFuzzTest::deleteRoot));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @FuzzTest(maxDuration = "5s")
  void rules(FuzzedDataProvider data) {
    switch (data.consumeInt(0, 3)) {
      case 0 -> syntax(data);
      case 1 -> fileSystem(data);
      case 2 -> tcp(data);
      default -> ownSocketDir(data);
    }
  }

  /** Pure rules, with a fuzzed network, address and socket directory. */
  private static void syntax(FuzzedDataProvider data) {
    String network = data.consumeBoolean() ? (data.consumeBoolean() ? "unix" : "tcp")
        : data.consumeString(8);
    String socketDir = data.consumeBoolean() ? DIR.toString() : data.consumeString(40);
    boolean allowNonLoopback = data.consumeBoolean();
    String address = data.consumeBoolean()
        ? socketDir + "/" + data.consumeRemainingAsString()
        : data.consumeRemainingAsString();
    if (!isAbsoluteNormal(socketDir)) {
      return; // the documented precondition of checkSyntax's socketDir
    }
    NetAddress a;
    try {
      a = AddressRules.checkSyntax(network, address, socketDir, allowNonLoopback);
    } catch (AddressRefusedException e) {
      checkRefusal(e);
      return;
    }
    assertThat(a.network()).isEqualTo(network);
    assertThat(a.address()).isEqualTo(address);
    if (NetAddress.UNIX.equals(network)) {
      checkDirectlyInside(address, socketDir);
    } else {
      assertThat(network).isEqualTo(NetAddress.TCP);
      checkTcpAccepted(address, allowNonLoopback);
    }
  }

  /** Unix addresses in a real directory with sockets, files, subdirectories and links. */
  private static void fileSystem(FuzzedDataProvider data) {
    String name = data.consumeBoolean()
        ? NAMES.get(data.consumeInt(0, NAMES.size() - 1)) + data.consumeString(4)
        : data.consumeRemainingAsString();
    String address = DIR + "/" + name;
    NetAddress a;
    try {
      a = AddressRules.check(NetAddress.unix(address), DIR, false);
    } catch (AddressRefusedException e) {
      checkRefusal(e);
      return;
    } catch (IllegalArgumentException e) {
      return; // NetAddress refuses an empty address itself
    }
    checkDirectlyInside(a.address(), DIR.toString());
    Path p = Path.of(address);
    if (Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
      assertThat(Files.isSymbolicLink(p)).as("accepted %s is a link", address).isFalse();
      assertThat(Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)
          || Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS))
          .as("accepted %s is a file or directory", address).isFalse();
    }
  }

  /** TCP with plausible hosts: quads, IPv6 literals, names; with and without the opt-in. */
  private static void tcp(FuzzedDataProvider data) {
    boolean allowNonLoopback = data.consumeBoolean();
    String host = switch (data.consumeInt(0, 3)) {
      case 0 -> data.consumeInt(0, 300) + "." + data.consumeInt(0, 300) + "."
          + data.consumeInt(0, 300) + "." + data.consumeInt(0, 300);
      case 1 -> "[" + data.consumeString(40) + "]";
      case 2 -> data.consumeBoolean() ? "localhost" : "127.0.0.1";
      default -> data.consumeString(40);
    };
    String port = data.consumeBoolean() ? Integer.toString(data.consumeInt(-1, 70000))
        : data.consumeString(6);
    String address = host + ":" + port + (data.consumeBoolean() ? "" : data.consumeString(4));
    try {
      AddressRules.checkSyntax(NetAddress.TCP, address, DIR.toString(), allowNonLoopback);
    } catch (AddressRefusedException e) {
      checkRefusal(e);
      return;
    }
    checkTcpAccepted(address, allowNonLoopback);
  }

  /** Socket directories from a reattach config. */
  private static void ownSocketDir(FuzzedDataProvider data) {
    String dir = switch (data.consumeInt(0, 2)) {
      case 0 -> ROOT + "/" + data.consumeRemainingAsString();
      case 1 -> ROOT + "/goplugin4j-" + data.consumeInt(4200, 4500) + data.consumeString(4);
      default -> data.consumeRemainingAsString();
    };
    Path p;
    try {
      p = AddressRules.checkOwnSocketDir(dir, "unix:" + dir + "/plugin");
    } catch (AddressRefusedException e) {
      checkRefusal(e);
      return;
    }
    assertThat(p.isAbsolute()).isTrue();
    assertThat(p.normalize().toString()).isEqualTo(dir);
    assertThat(p.getFileName().toString()).matches("goplugin4j-[0-9]+");
    assertThat(Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)).as("%s is a real directory", p)
        .isTrue();
  }

  private static void checkRefusal(AddressRefusedException e) {
    assertThat(e.rule()).isIn(AddressRules.RULE_OUTSIDE_DIR, AddressRules.RULE_NOT_A_SOCKET,
        AddressRules.RULE_NON_LOOPBACK, AddressRules.RULE_MALFORMED,
        AddressRules.RULE_FOREIGN_DIR);
    assertThat(e.address()).isNotNull();
    assertThat(e.getMessage()).contains(e.rule());
  }

  private static void checkDirectlyInside(String address, String socketDir) {
    String prefix = socketDir.endsWith("/") ? socketDir : socketDir + "/";
    assertThat(address).startsWith(prefix);
    String name = address.substring(prefix.length());
    assertThat(name).isNotEmpty().doesNotContain("/").isNotIn(".", "..").doesNotContain("\0");
    Path p;
    try {
      p = Path.of(address);
    } catch (InvalidPathException e) {
      throw new AssertionError("accepted address is not a path: " + address, e);
    }
    assertThat(p.normalize().getParent()).as("normalized parent of %s", address)
        .isEqualTo(Path.of(socketDir));
    assertThat(p.normalize()).isEqualTo(p);
  }

  private static void checkTcpAccepted(String address, boolean allowNonLoopback) {
    int colon = address.lastIndexOf(':');
    assertThat(colon).isPositive();
    String port = address.substring(colon + 1);
    assertThat(port).matches("[0-9]{1,5}");
    assertThat(Integer.parseInt(port)).isBetween(1, 65535);
    String host = address.substring(0, colon);
    assertThat(host).isNotEmpty();
    if (host.startsWith("[")) {
      assertThat(host).endsWith("]");
      host = host.substring(1, host.length() - 1);
      assertThat(host).as("only an IPv6 literal belongs in brackets").contains(":");
    } else {
      assertThat(host).doesNotContain(":", "[", "]");
    }
    if (!allowNonLoopback) {
      assertThat(isLoopback(host)).as("accepted TCP host %s is loopback", host).isTrue();
    }
  }

  /** The oracle, written apart from the rules: no name is resolved. */
  private static boolean isLoopback(String host) {
    if (host.equals("localhost")) {
      return true;
    }
    if (host.contains(":")) {
      try {
        return InetAddress.getByName(host).isLoopbackAddress();
      } catch (UnknownHostException e) {
        return false;
      }
    }
    String[] parts = host.split("\\.", -1);
    if (parts.length != 4) {
      return false;
    }
    for (String part : parts) {
      if (part.isEmpty() || part.length() > 3 || !part.chars().allMatch(c -> c >= '0' && c <= '9')
          || Integer.parseInt(part) > 255) {
        return false;
      }
    }
    return Integer.parseInt(parts[0]) == 127;
  }

  private static boolean isAbsoluteNormal(String dir) {
    try {
      Path p = Path.of(dir);
      return p.isAbsolute() && p.normalize().toString().equals(dir);
    } catch (InvalidPathException e) {
      return false;
    }
  }

  private static void bind(Path socket) throws IOException {
    try (ServerSocketChannel ch = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      ch.bind(UnixDomainSocketAddress.of(socket));
    }
  }

  private static void deleteRoot() {
    try (Stream<Path> walk = Files.walk(ROOT)) {
      walk.sorted(Comparator.reverseOrder()).forEach(p -> {
        try {
          Files.deleteIfExists(p);
        } catch (IOException e) {
          // best effort at exit
        }
      });
    } catch (IOException e) {
      // best effort at exit
    }
  }
}
