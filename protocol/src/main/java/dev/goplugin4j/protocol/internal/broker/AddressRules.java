package dev.goplugin4j.protocol.internal.broker;

import dev.goplugin4j.protocol.AddressRefusedException;
import dev.goplugin4j.protocol.NetAddress;
import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The one place that decides whether the host may dial an address a plugin announced: in its
 * handshake line, in a reattach config, or in a broker {@code ConnInfo}. Every check runs before
 * any connection and fails with {@link AddressRefusedException} naming the address and the rule.
 *
 * <ul>
 *   <li><b>Unix</b>: a path of exactly {@code <socketDir>/<name>}: absolute, in no other
 *       directory, no {@code .} or {@code ..} segment, no empty segment, no NUL. With the file
 *       system checks ({@link #check}), the socket directory must be a real directory (not a
 *       symbolic link) and the target, when it exists, must be a socket, not a symbolic link or
 *       anything else. A missing target passes: dialling it fails harmlessly.
 *   <li><b>TCP</b>: {@code host:port} with a port from 1 to 65535 and, unless non-loopback TCP is
 *       allowed, a loopback host: an IPv4 literal in 127.0.0.0/8, {@code [::1]} (or another
 *       bracketed IPv6 literal of a loopback address, including {@code [::ffff:127.x.y.z]}), or
 *       {@code localhost}. No name is ever resolved.
 *   <li>Any other network is refused.
 * </ul>
 *
 * <p>{@link #checkSyntax} is the pure part (strings in, no file system, no DNS): the entry point
 * for fuzzing. {@link #check} adds the file system checks. {@link #checkOwnSocketDir} checks a
 * socket directory that comes from outside (a reattach config): it must be one this library makes
 * ({@code goplugin4j-<digits>}, a real directory owned by this process's user).
 *
 * <p>Stateless and thread-safe.
 */
public final class AddressRules {
  /** The name of a socket directory the host makes: {@code Files.createTempDirectory}'s digits. */
  public static final Pattern OWN_SOCKET_DIR_NAME = Pattern.compile("goplugin4j-[0-9]{1,20}");

  /** Rule: Unix socket path not directly inside the socket directory. */
  public static final String RULE_OUTSIDE_DIR = "unix socket not directly inside the socket directory";

  /** Rule: a symbolic link or a non-socket file at the path. */
  public static final String RULE_NOT_A_SOCKET = "not a unix socket";

  /** Rule: TCP on a non-loopback host without the opt-in. */
  public static final String RULE_NON_LOOPBACK = "tcp address not on loopback";

  /** Rule: the address is malformed (no port, bad port, bad literal, unknown network). */
  public static final String RULE_MALFORMED = "malformed address";

  /** Rule: a socket directory from a reattach config that is not one we make. */
  public static final String RULE_FOREIGN_DIR = "socket directory not made by goplugin4j";

  private static final int S_IFMT = 0170000;
  private static final int S_IFSOCK = 0140000;

  private AddressRules() {}

  /**
   * The pure check: strings only, no file system access, no name resolution.
   *
   * @param network the network as announced ({@code unix} or {@code tcp}); may be null
   * @param address the address as announced; may be null
   * @param socketDir the absolute, normalized socket directory, or null when the plugin has none
   *     (then every Unix address is refused)
   * @param allowNonLoopbackTcp whether TCP hosts other than loopback pass
   * @return the address as a {@link NetAddress}
   * @throws AddressRefusedException if a rule is broken
   */
  public static NetAddress checkSyntax(
      String network, String address, String socketDir, boolean allowNonLoopbackTcp) {
    String shown = network + ":" + address;
    if (address == null || address.isEmpty()) {
      throw refused(shown, RULE_MALFORMED, "the address is empty");
    }
    if (address.indexOf('\0') >= 0) {
      throw refused(shown, RULE_MALFORMED, "the address contains a NUL character");
    }
    if (NetAddress.UNIX.equals(network)) {
      checkUnixPath(shown, address, socketDir);
      return NetAddress.unix(address);
    }
    if (NetAddress.TCP.equals(network)) {
      checkTcp(shown, address, allowNonLoopbackTcp);
      return NetAddress.tcp(address);
    }
    throw refused(shown, RULE_MALFORMED,
        "unknown network \"" + network + "\" (expected \"unix\" or \"tcp\")");
  }

  /**
   * {@link #checkSyntax}, then for a Unix address the file system: the socket directory is a real
   * directory, and the target, if it exists, is a socket and not a symbolic link.
   *
   * @param address the address to dial, in host terms; not null
   * @param socketDir the plugin's socket directory, or null when it has none
   * @param allowNonLoopbackTcp whether TCP hosts other than loopback pass
   * @return {@code address}
   * @throws AddressRefusedException if a rule is broken
   */
  public static NetAddress check(NetAddress address, Path socketDir, boolean allowNonLoopbackTcp) {
    String dir = socketDir == null ? null : socketDir.toAbsolutePath().normalize().toString();
    checkSyntax(address.network(), address.address(), dir, allowNonLoopbackTcp);
    if (NetAddress.UNIX.equals(address.network())) {
      Path d = Path.of(dir);
      if (!Files.isDirectory(d, LinkOption.NOFOLLOW_LINKS)) {
        throw refused(address.toString(), RULE_OUTSIDE_DIR,
            "the socket directory " + d + " is not a directory (or is a symbolic link)");
      }
      checkSocketFile(address.toString(), Path.of(address.address()));
    }
    return address;
  }

  /**
   * Checks a socket directory that comes from outside, such as a reattach config: it must be one
   * this library makes. Its name is {@code goplugin4j-<digits>}, the path is absolute with no
   * {@code .} or {@code ..}, and it is a real directory (not a symbolic link) owned by the user this
   * process runs as.
   *
   * @param dir the directory as recorded; not null
   * @param forAddress the address being checked, for the message; not null
   * @return the directory as a path
   * @throws AddressRefusedException if it is not such a directory
   */
  public static Path checkOwnSocketDir(String dir, String forAddress) {
    if (dir.isEmpty() || dir.indexOf('\0') >= 0 || !dir.startsWith("/")) {
      throw refused(forAddress, RULE_FOREIGN_DIR,
          "the socket directory \"" + dir + "\" is not an absolute path");
    }
    Path p = Path.of(dir);
    if (!p.normalize().toString().equals(dir)) {
      throw refused(forAddress, RULE_FOREIGN_DIR, "the socket directory \"" + dir
          + "\" is not in normal form (it has \".\", \"..\", an empty segment or a trailing /)");
    }
    if (p.getFileName() == null || !OWN_SOCKET_DIR_NAME.matcher(p.getFileName().toString()).matches()) {
      throw refused(forAddress, RULE_FOREIGN_DIR, "the socket directory " + dir
          + " is not named goplugin4j-<digits>, so goplugin4j did not make it");
    }
    Map<String, Object> attrs;
    try {
      attrs = Files.readAttributes(p, "unix:mode,uid", LinkOption.NOFOLLOW_LINKS);
    } catch (IOException | UnsupportedOperationException e) {
      throw refused(forAddress, RULE_FOREIGN_DIR,
          "the socket directory " + dir + " cannot be read: " + e);
    }
    int mode = (Integer) attrs.get("mode");
    if ((mode & S_IFMT) != 0040000) {
      throw refused(forAddress, RULE_FOREIGN_DIR,
          "the socket directory " + dir + " is not a directory (or is a symbolic link)");
    }
    int uid = (Integer) attrs.get("uid");
    int own = ownUid();
    if (uid != own) {
      throw refused(forAddress, RULE_FOREIGN_DIR, "the socket directory " + dir
          + " belongs to uid " + uid + ", not to this process's uid " + own);
    }
    return p;
  }

  /**
   * Whether {@code host} (without port, IPv6 without brackets) is a loopback literal or {@code
   * localhost}. Never resolves a name.
   *
   * @param host the host part; not null
   * @return true for 127.0.0.0/8, ::1, ::ffff:127.0.0.0/104 and {@code localhost}
   */
  public static boolean isLoopbackHost(String host) {
    if (host.equals("localhost")) {
      return true;
    }
    if (host.indexOf(':') >= 0) {
      if (host.indexOf('%') >= 0 || !host.matches("[0-9A-Fa-f:.]{2,45}")) {
        return false;
      }
      try {
        // A string with ':' is parsed as an IPv6 literal, never looked up.
        return InetAddress.getByName(host).isLoopbackAddress();
      } catch (UnknownHostException e) {
        return false;
      }
    }
    int[] octets = ipv4(host);
    return octets != null && octets[0] == 127;
  }

  private static void checkUnixPath(String shown, String path, String socketDir) {
    if (socketDir == null) {
      throw refused(shown, RULE_OUTSIDE_DIR,
          "the plugin has no socket directory to check a Unix socket against");
    }
    String prefix = socketDir.endsWith("/") ? socketDir : socketDir + "/";
    if (!path.startsWith(prefix)) {
      throw refused(shown, RULE_OUTSIDE_DIR, "the path is not in the socket directory " + socketDir);
    }
    String name = path.substring(prefix.length());
    if (name.isEmpty() || name.indexOf('/') >= 0 || name.equals(".") || name.equals("..")) {
      throw refused(shown, RULE_OUTSIDE_DIR,
          "the path is not a socket directly inside the socket directory " + socketDir
              + " (no subdirectory, no \".\" or \"..\")");
    }
  }

  private static void checkTcp(String shown, String address, boolean allowNonLoopbackTcp) {
    int colon = address.lastIndexOf(':');
    if (colon <= 0 || colon == address.length() - 1) {
      throw refused(shown, RULE_MALFORMED, "expected host:port");
    }
    String host = address.substring(0, colon);
    String port = address.substring(colon + 1);
    if (!port.matches("[0-9]{1,5}") || Integer.parseInt(port) < 1 || Integer.parseInt(port) > 65535) {
      throw refused(shown, RULE_MALFORMED, "the port \"" + port + "\" is not 1 to 65535");
    }
    if (host.startsWith("[")) {
      if (!host.endsWith("]") || host.length() < 3) {
        throw refused(shown, RULE_MALFORMED, "unbalanced brackets around the IPv6 host");
      }
      host = host.substring(1, host.length() - 1);
      if (host.indexOf(':') < 0) {
        throw refused(shown, RULE_MALFORMED,
            "brackets hold only an IPv6 literal, as [::1]:port, not \"" + host + "\"");
      }
    } else if (host.indexOf(':') >= 0) {
      throw refused(shown, RULE_MALFORMED, "an IPv6 host must be in brackets, as [::1]:port");
    }
    if (host.isEmpty() || host.indexOf('[') >= 0 || host.indexOf(']') >= 0) {
      throw refused(shown, RULE_MALFORMED, "the host is empty or malformed");
    }
    if (!allowNonLoopbackTcp && !isLoopbackHost(host)) {
      throw refused(shown, RULE_NON_LOOPBACK, "the host " + host + " is not a loopback address;"
          + " a plugin on this machine listens on 127.0.0.1 or ::1. If the plugin really serves"
          + " on another host, opt in with PluginClient.Builder.allowNonLoopbackTcp(true)");
    }
  }

  /** A dotted quad of four decimal octets, or null. */
  private static int[] ipv4(String host) {
    String[] parts = host.split("\\.", -1);
    if (parts.length != 4) {
      return null;
    }
    int[] out = new int[4];
    for (int i = 0; i < 4; i++) {
      if (!parts[i].matches("[0-9]{1,3}")) {
        return null;
      }
      out[i] = Integer.parseInt(parts[i]);
      if (out[i] > 255) {
        return null;
      }
    }
    return out;
  }

  private static void checkSocketFile(String shown, Path target) {
    int mode;
    try {
      mode = (Integer) Files.getAttribute(target, "unix:mode", LinkOption.NOFOLLOW_LINKS);
    } catch (java.nio.file.NoSuchFileException e) {
      return; // not there (yet): dialling it fails without reaching anything
    } catch (IOException | UnsupportedOperationException e) {
      throw refused(shown, RULE_NOT_A_SOCKET, "cannot check " + target + ": " + e);
    }
    if ((mode & S_IFMT) == 0120000) {
      throw refused(shown, RULE_NOT_A_SOCKET, target + " is a symbolic link; only sockets the"
          + " plugin created in its socket directory are dialled");
    }
    if ((mode & S_IFMT) != S_IFSOCK) {
      throw refused(shown, RULE_NOT_A_SOCKET, target + " exists and is not a Unix socket");
    }
  }

  /** The effective uid of this process: the owner of {@code /proc/self}. */
  static int ownUid() {
    try {
      return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
    } catch (IOException | UnsupportedOperationException e) {
      throw new IllegalStateException("cannot read this process's uid from /proc/self: " + e, e);
    }
  }

  private static AddressRefusedException refused(String shown, String rule, String why) {
    return new AddressRefusedException(shown, rule,
        "refusing to dial " + shown + " (" + rule + "): " + why + ". The host dials only Unix"
            + " sockets directly inside the plugin's socket directory, or TCP on loopback; the"
            + " plugin (or an edited reattach config) announced something else");
  }
}
