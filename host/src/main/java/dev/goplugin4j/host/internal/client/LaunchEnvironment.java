package dev.goplugin4j.host.internal.client;

import dev.goplugin4j.host.PluginClient;
import dev.goplugin4j.host.PluginStartException;
import dev.goplugin4j.host.internal.process.SocketDirOwner;
import dev.goplugin4j.protocol.AutoMtlsCertificate;
import dev.goplugin4j.protocol.PluginEnv;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Launch preparation phase: the plugin's socket directory, the environment the plugin starts
 * with (including the host's AutoMTLS certificate), and the executable whose checksum is checked.
 */
final class LaunchEnvironment {
  private LaunchEnvironment() {}

  /** A fresh 0700 (0770 with a socket group) socket directory, recorded for the reaper. */
  static Path createSocketDir(PluginClient.Config config) {
    try {
      Path parent = config.unixSocketTempDir() != null
          ? config.unixSocketTempDir()
          : Path.of(System.getProperty("java.io.tmpdir"));
      Path dir = Files.createTempDirectory(parent, "goplugin4j-",
          PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
      if (config.unixSocketGroup() != null) {
        setGroup(dir, config.unixSocketGroup());
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwx---"));
      }
      SocketDirOwner.recordHost(dir); // for ProcessReaper, should this JVM die
      return dir;
    } catch (IOException e) {
      throw new PluginStartException(
          "cannot create the plugin's socket directory under "
              + (config.unixSocketTempDir() == null ? "the system temp dir" : config.unixSocketTempDir())
              + ": " + e.getMessage() + ". Set unixSocketTempDir to a writable, short path", e);
    }
  }

  /** Gives a path to a group, by name or by numeric gid. */
  static void setGroup(Path path, String group) throws IOException {
    GroupPrincipal gp;
    if (group.chars().allMatch(Character::isDigit)) {
      // The JDK looks groups up by name only; a numeric gid goes through chgrp semantics.
      Files.setAttribute(path, "unix:gid", Integer.parseInt(group));
      return;
    }
    try {
      gp = path.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByGroupName(group);
    } catch (IOException e) {
      throw new IOException("unknown group \"" + group + "\" for unixSocketGroup", e);
    }
    Files.getFileAttributeView(path, java.nio.file.attribute.PosixFileAttributeView.class).setGroup(gp);
  }

  /**
   * The host's AutoMTLS certificate for a launch, generated here when AutoMTLS is on and no TLS
   * material is configured; null otherwise.
   */
  static AutoMtlsCertificate hostCertificate(PluginClient.Config config) {
    return config.tls() == null && config.autoMtls() ? AutoMtlsCertificate.generate() : null;
  }

  /**
   * The plugin's environment: the host's (unless skipHostEnv), the application's, then
   * go-plugin's variables; {@code hostCert} (null without AutoMTLS) goes in as the client
   * certificate.
   */
  static Map<String, String> pluginEnv(
      PluginClient.Config config, Path socketDir, AutoMtlsCertificate hostCert) {
    Map<String, String> env = new LinkedHashMap<>();
    if (!config.skipHostEnv()) {
      env.putAll(System.getenv());
    }
    env.putAll(config.env());
    env.put(config.magicCookieKey(), config.magicCookieValue());
    env.put(PluginEnv.MIN_PORT, Integer.toString(config.minPort()));
    env.put(PluginEnv.MAX_PORT, Integer.toString(config.maxPort()));
    // every version the host has a plugin set for, ascending (go-plugin's order is a map's)
    env.put(PluginEnv.PROTOCOL_VERSIONS, String.join(",",
        config.versionedPlugins().keySet().stream().sorted().map(String::valueOf).toList()));
    if (config.multiplexBroker()) {
      env.put(PluginEnv.MULTIPLEX_GRPC, "true");
    } else {
      env.remove(PluginEnv.MULTIPLEX_GRPC);
    }
    if (hostCert != null) {
      env.put(PluginEnv.CLIENT_CERT, hostCert.pem());
    } else {
      env.remove(PluginEnv.CLIENT_CERT);
    }
    if (config.unixSocketGroup() != null) {
      env.put(PluginEnv.UNIX_SOCKET_GROUP, config.unixSocketGroup());
    } else {
      env.remove(PluginEnv.UNIX_SOCKET_GROUP);
    }
    env.put(PluginEnv.UNIX_SOCKET_DIR, socketDir.toString());
    // go-plugin before 1.5 ignores PLUGIN_UNIX_SOCKET_DIR and makes its socket in TMPDIR: point
    // TMPDIR at the socket dir too, so such a plugin's socket lands where the address rules
    // accept it and goes with the dir. An application's own TMPDIR for the plugin wins. (A
    // container runner drops it: the host's path means nothing inside.)
    if (!config.env().containsKey(PluginEnv.TMPDIR)) {
      env.put(PluginEnv.TMPDIR, socketDir.toString());
    }
    return env;
  }

  /** The executable a command name runs, looked up on PATH as the runner would. */
  static Path resolveExecutable(String exe) {
    if (exe.contains("/")) {
      return Path.of(exe);
    }
    String pathVar = System.getenv("PATH");
    if (pathVar != null) {
      for (String dir : pathVar.split(":")) {
        Path p = Path.of(dir.isEmpty() ? "." : dir, exe);
        if (Files.isExecutable(p)) {
          return p;
        }
      }
    }
    return Path.of(exe);
  }
}
