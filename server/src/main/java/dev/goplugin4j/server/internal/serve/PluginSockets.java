package dev.goplugin4j.server.internal.serve;

import dev.goplugin4j.protocol.NetAddress;
import dev.goplugin4j.protocol.PluginEnv;
import dev.goplugin4j.server.PluginServeException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.List;
import java.util.Map;

/**
 * Where the plugin listens, as go-plugin's {@code serverListener}: a Unix socket named {@code
 * plugin<random digits>} in {@code PLUGIN_UNIX_SOCKET_DIR} (else {@code $TMPDIR}, else {@code
 * /tmp}), given to {@code PLUGIN_UNIX_SOCKET_GROUP} with mode 0660 when that is set; or, when
 * asked for, a TCP port on 127.0.0.1 between {@code PLUGIN_MIN_PORT} and {@code PLUGIN_MAX_PORT}.
 */
final class PluginSockets {
  /** sun_path is 108 bytes including the terminating NUL. */
  static final int MAX_SOCKET_PATH_BYTES = 107;

  private static final SecureRandom RANDOM = new SecureRandom();

  private final Map<String, String> env;

  PluginSockets(Map<String, String> env) {
    this.env = env;
  }

  /** The directory sockets go in. */
  Path socketDir() {
    String dir = env.get(PluginEnv.UNIX_SOCKET_DIR);
    if (dir == null || dir.isEmpty()) {
      dir = env.get("TMPDIR");
    }
    if (dir == null || dir.isEmpty()) {
      dir = "/tmp";
    }
    return Path.of(dir);
  }

  private String dirSource() {
    String dir = env.get(PluginEnv.UNIX_SOCKET_DIR);
    if (dir != null && !dir.isEmpty()) {
      return PluginEnv.UNIX_SOCKET_DIR + "=" + dir;
    }
    String tmp = env.get("TMPDIR");
    return tmp != null && !tmp.isEmpty() ? "TMPDIR=" + tmp : "the default /tmp";
  }

  /**
   * Reserves a fresh socket path: checks its length, creates and removes a placeholder file, as
   * go-plugin's {@code os.CreateTemp} does, so that permission problems surface with a clear
   * message before the server binds.
   */
  Path newSocketPath() {
    Path dir = socketDir();
    // the longest name we may pick: "plugin" + 10 digits
    Path longest = dir.resolve("plugin" + "9".repeat(10));
    int length = longest.toAbsolutePath().toString().getBytes(StandardCharsets.UTF_8).length;
    if (length > MAX_SOCKET_PATH_BYTES) {
      throw new PluginServeException(
          "the plugin's Unix socket path would be too long: "
              + longest.toAbsolutePath()
              + " is "
              + length
              + " bytes, Linux allows at most "
              + MAX_SOCKET_PATH_BYTES
              + ". The socket directory comes from "
              + dirSource()
              + "; the host must use a shorter directory (go-plugin:"
              + " ClientConfig.UnixSocketConfig.TempDir, goplugin4j: unixSocketTempDir)");
    }
    if (!Files.isDirectory(dir)) {
      throw new PluginServeException(
          "cannot create the plugin's Unix socket: the socket directory "
              + dir
              + " (from "
              + dirSource()
              + ") does not exist or is not a directory. The host must create it before starting"
              + " the plugin");
    }
    for (int attempt = 0; ; attempt++) {
      Path p = dir.resolve("plugin" + Integer.toUnsignedString(RANDOM.nextInt() & 0x7fffffff));
      try {
        Files.createFile(p, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.delete(p);
        return p.toAbsolutePath();
      } catch (FileAlreadyExistsException e) {
        if (attempt >= 10) {
          throw new PluginServeException("cannot find a free socket name in " + dir, e);
        }
      } catch (AccessDeniedException e) {
        throw new PluginServeException(
            "cannot create the plugin's Unix socket in "
                + dir
                + " (from "
                + dirSource()
                + "): permission denied for "
                + ProcessIdentity.describe()
                + ". The host must give this plugin a writable socket directory (mode 0770 and"
                + " PLUGIN_UNIX_SOCKET_GROUP when the plugin runs as another user)",
            e);
      } catch (NoSuchFileException e) {
        throw new PluginServeException(
            "cannot create the plugin's Unix socket: " + dir + " (from " + dirSource() + ") vanished", e);
      } catch (IOException e) {
        throw new PluginServeException(
            "cannot create the plugin's Unix socket in " + dir + " (from " + dirSource() + "): " + e, e);
      }
    }
  }

  /**
   * Gives a socket to {@code PLUGIN_UNIX_SOCKET_GROUP} with mode 0660, if that is set, as
   * go-plugin's {@code setGroupWritable}.
   */
  void applyGroup(Path socket) {
    String group = env.get(PluginEnv.UNIX_SOCKET_GROUP);
    if (group == null || group.isEmpty()) {
      return;
    }
    try {
      if (group.chars().allMatch(Character::isDigit)) {
        Files.setAttribute(socket, "unix:gid", Integer.parseInt(group));
      } else {
        GroupPrincipal gp;
        try {
          gp = socket.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByGroupName(group);
        } catch (IOException e) {
          throw new PluginServeException(
              "failed to find gid from \"" + group + "\" (" + PluginEnv.UNIX_SOCKET_GROUP
                  + "): no such group in this system's group database; the host should pass a"
                  + " numeric gid",
              e);
        }
        Files.getFileAttributeView(socket, PosixFileAttributeView.class).setGroup(gp);
      }
      Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-rw----"));
    } catch (IOException | NumberFormatException e) {
      throw new PluginServeException(
          "cannot give the plugin's socket "
              + socket
              + " to group "
              + group
              + " ("
              + PluginEnv.UNIX_SOCKET_GROUP
              + ") with mode 0660: "
              + e
              + ". The plugin must run as a member of that group (or as root)",
          e);
    }
  }

  /** TCP port range from the environment, as go-plugin reads it (unset means 0). */
  int[] portRange() {
    int min = parsePort(PluginEnv.MIN_PORT);
    int max = parsePort(PluginEnv.MAX_PORT);
    if (min > max) {
      throw new PluginServeException(
          PluginEnv.MIN_PORT + " value of " + min + " is greater than " + PluginEnv.MAX_PORT
              + " value of " + max);
    }
    return new int[] {min, max};
  }

  private int parsePort(String name) {
    String v = env.get(name);
    if (v == null || v.isEmpty()) {
      return 0;
    }
    try {
      int p = Integer.parseInt(v.strip());
      if (p < 0 || p > 65535) {
        throw new NumberFormatException("out of range 0-65535");
      }
      return p;
    } catch (NumberFormatException e) {
      throw new PluginServeException("couldn't get value from " + name + ": \"" + v + "\": " + e.getMessage(), e);
    }
  }

  /** Candidate TCP addresses in the port range, lowest first. */
  List<NetAddress> tcpCandidates() {
    int[] r = portRange();
    return java.util.stream.IntStream.rangeClosed(r[0], r[1])
        .mapToObj(p -> NetAddress.tcp("127.0.0.1:" + p))
        .toList();
  }

  /** A free TCP port in the range, found by binding and releasing it (for broker listeners). */
  NetAddress freeTcpAddress() {
    for (NetAddress a : tcpCandidates()) {
      int port = Integer.parseInt(a.address().substring(a.address().lastIndexOf(':') + 1));
      try (ServerSocket s = new ServerSocket()) {
        s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
        return NetAddress.tcp("127.0.0.1:" + s.getLocalPort());
      } catch (IOException e) {
        // taken; try the next one
      }
    }
    throw new PluginServeException("couldn't bind plugin TCP listener: no free port in "
        + PluginEnv.MIN_PORT + ".." + PluginEnv.MAX_PORT);
  }
}
