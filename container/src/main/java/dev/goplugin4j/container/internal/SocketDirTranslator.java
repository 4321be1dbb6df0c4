package dev.goplugin4j.container.internal;

import dev.goplugin4j.container.AddressOutsideSocketDirException;
import dev.goplugin4j.container.ContainerConfig;
import dev.goplugin4j.host.AddrTranslator;
import dev.goplugin4j.protocol.NetAddress;
import dev.goplugin4j.protocol.internal.broker.AddressRules;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * Translates socket paths between the container ({@value ContainerConfig#CONTAINER_SOCKET_DIR})
 * and the host's socket directory. Only Unix sockets directly inside the directory pass: no other
 * directory, no {@code .}/{@code ..} segments, no symbolic link (a plugin could otherwise point
 * the host at any socket on the host, such as the engine's own), nothing that exists and is not a
 * socket. The rules are {@link AddressRules}' (the host checks the translated address with them
 * again); refusals are {@link AddressOutsideSocketDirException}s, which are {@link
 * dev.goplugin4j.protocol.AddressRefusedException}s.
 */
public final class SocketDirTranslator implements AddrTranslator {
  private final Path hostDir;

  /** A translator for the given host directory (absolute). */
  public SocketDirTranslator(Path hostDir) {
    this.hostDir = hostDir.toAbsolutePath().normalize();
  }

  /** The host directory. */
  public Path hostDir() {
    return hostDir;
  }

  @Override
  public NetAddress pluginToHost(NetAddress pluginAddress) {
    String name = childName(pluginAddress, ContainerConfig.CONTAINER_SOCKET_DIR,
        "; the plugin may need to be recompiled with go-plugin 1.5 or later, which honours"
            + " PLUGIN_UNIX_SOCKET_DIR");
    Path host = hostDir.resolve(name);
    checkFile(host, pluginAddress);
    return NetAddress.unix(host.toString());
  }

  @Override
  public NetAddress hostToPlugin(NetAddress hostAddress) {
    String name = childName(hostAddress, hostDir.toString(), "");
    checkFile(hostDir.resolve(name), hostAddress);
    return NetAddress.unix(ContainerConfig.CONTAINER_SOCKET_DIR + "/" + name);
  }

  private static String childName(NetAddress address, String dir, String hint) {
    if (!NetAddress.UNIX.equals(address.network())) {
      throw new AddressOutsideSocketDirException(address.toString(), AddressRules.RULE_OUTSIDE_DIR,
          "refusing address " + address + ": only Unix sockets in " + dir + " are reachable"
              + " across the container boundary" + hint);
    }
    String path = address.address();
    String prefix = dir + "/";
    if (!path.startsWith(prefix)) {
      throw new AddressOutsideSocketDirException(address.toString(), AddressRules.RULE_OUTSIDE_DIR,
          "expected address to be in directory " + dir + ", but was " + path + hint);
    }
    String name = path.substring(prefix.length());
    if (name.isEmpty() || name.indexOf('/') >= 0 || name.equals(".") || name.equals("..")
        || name.indexOf('\0') >= 0) {
      throw new AddressOutsideSocketDirException(address.toString(), AddressRules.RULE_OUTSIDE_DIR,
          "expected a socket directly inside " + dir + ", but was " + path);
    }
    return name;
  }

  private static void checkFile(Path p, NetAddress original) {
    BasicFileAttributes a;
    try {
      a = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    } catch (IOException e) {
      return; // not there (yet): nothing to follow
    }
    if (a.isSymbolicLink()) {
      throw new AddressOutsideSocketDirException(original.toString(), AddressRules.RULE_NOT_A_SOCKET,
          "refusing " + original + ": " + p + " is a symbolic link; the plugin may only use"
              + " sockets it created in the shared directory");
    }
    if (!a.isOther()) {
      throw new AddressOutsideSocketDirException(original.toString(), AddressRules.RULE_NOT_A_SOCKET,
          "refusing " + original + ": " + p + " is not a Unix socket");
    }
  }
}
