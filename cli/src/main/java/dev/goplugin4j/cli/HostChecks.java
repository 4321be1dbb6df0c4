package dev.goplugin4j.cli;

import dev.goplugin4j.container.internal.PosixAcl;
import dev.goplugin4j.protocol.PluginException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;

/**
 * Checks of the host side: where socket directories are made, how much room the 108-byte Unix
 * socket path limit leaves there, and whether that file system takes POSIX default ACLs.
 */
final class HostChecks {
  /** {@code sizeof(sun_path)} on Linux, including the terminating NUL. */
  static final int SUN_PATH_MAX = 108;

  /**
   * The longest socket path below {@code parent}: the client's directory {@code goplugin4j-}
   * plus up to 20 digits ({@code Files.createTempDirectory}), then go-plugin's socket name
   * {@code plugin} plus up to 10 digits ({@code os.CreateTemp(dir, "plugin")}).
   */
  static String longestSocketPath(Path parent) {
    return parent.toAbsolutePath() + "/goplugin4j-" + "9".repeat(20) + "/plugin"
        + "9".repeat(10);
  }

  /** Bytes left before the limit: negative when sockets cannot be made there. */
  static int headroom(Path parent) {
    return SUN_PATH_MAX - 1
        - longestSocketPath(parent).getBytes(StandardCharsets.UTF_8).length;
  }

  static Check pathLength(Path parent) {
    int room = headroom(parent);
    String detail = "longest socket path " + longestSocketPath(parent).length() + " bytes of "
        + (SUN_PATH_MAX - 1) + " allowed: " + room + " bytes to spare";
    String fix = "choose a shorter parent for socket directories: --socket-dir here,"
        + " PluginClient.Builder.unixSocketTempDir(...) or -Djava.io.tmpdir=/tmp in the host";
    if (room < 0) {
      return Check.fail("host", "Unix socket path length", detail
          + ": plugins cannot create their sockets (bind fails: path too long)", fix);
    }
    if (room < 10) {
      return Check.warn("host", "Unix socket path length", detail, fix);
    }
    return Check.ok("host", "Unix socket path length", detail);
  }

  static List<Check> checks(Path parent) {
    List<Check> out = new ArrayList<>();
    int euid = euid();
    out.add(Check.info("host", "user", "uid " + euid + (euid == 0 ? " (root)" : "")));
    if (!Files.isDirectory(parent) || !Files.isWritable(parent)) {
      out.add(Check.fail("host", "socket directory parent",
          parent + " is not a writable directory: the host cannot make socket directories",
          "use a writable, short directory: --socket-dir, PluginClient.Builder"
              + ".unixSocketTempDir(...) or -Djava.io.tmpdir"));
      out.add(Check.skip("host", "POSIX default ACLs", "no writable socket directory parent"));
      out.add(pathLength(parent));
      return out;
    }
    out.add(Check.ok("host", "socket directory parent", parent.toString()));
    out.add(pathLength(parent));
    out.add(acl(parent, euid));
    return out;
  }

  /** Writes a default ACL on a fresh directory under {@code parent}, as the runner would. */
  static Check acl(Path parent, int euid) {
    Path dir = null;
    try {
      dir = Files.createTempDirectory(parent, "goplugin4j-doctor-",
          PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
      PosixAcl.setDefaultUserRw(dir, euid);
      return Check.ok("host", "POSIX default ACLs", "supported in " + parent
          + " (needed by ContainerConfig.rootless(true), and for a non-root host under gVisor)");
    } catch (IOException | PluginException | UnsatisfiedLinkError e) {
      return Check.warn("host", "POSIX default ACLs", "not supported in " + parent + ": "
              + e.getMessage(),
          "only needed for ContainerConfig.rootless(true) and for a non-root host under gVisor:"
              + " then put socket directories on a file system with ACLs (ext4, xfs, btrfs,"
              + " tmpfs; mount option acl) with --socket-dir /"
              + " PluginClient.Builder.unixSocketTempDir(...)");
    } finally {
      if (dir != null) {
        try {
          Files.deleteIfExists(dir);
        } catch (IOException e) {
          // a directory we made and just emptied; nothing else to do
        }
      }
    }
  }

  static int euid() {
    try {
      return PosixAcl.geteuid();
    } catch (UnsatisfiedLinkError | RuntimeException e) {
      try {
        // /proc/self belongs to the effective uid
        return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
      } catch (IOException | RuntimeException again) {
        return -1;
      }
    }
  }
}
