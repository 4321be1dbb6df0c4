package dev.goplugin4j.host.internal.client;

import dev.goplugin4j.host.AttachedRunner;
import dev.goplugin4j.host.ReattachConfig;
import dev.goplugin4j.protocol.AddressRefusedException;
import dev.goplugin4j.protocol.NetAddress;
import dev.goplugin4j.protocol.internal.broker.AddressRules;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Address checking phase: the {@link AddressRules} applied to the addresses a plugin announces
 * (handshake, broker) and to a reattach config's, each refusal worded for where it came from.
 */
final class AddressChecks {
  private AddressChecks() {}

  /**
   * The address rules ({@link AddressRules}) for an address the plugin announced, with the
   * diagnosis: a Unix socket directly inside the socket dir this host made, or TCP on loopback
   * unless {@code allowNonLoopbackTcp}.
   */
  static NetAddress checkAddress(NetAddress a, Path socketDir, boolean allowNonLoopbackTcp,
      String where, AttachedRunner r, FailureDiagnosis diagnosis) {
    try {
      return AddressRules.check(a, socketDir, allowNonLoopbackTcp);
    } catch (AddressRefusedException e) {
      String hint = AddressRules.RULE_OUTSIDE_DIR.equals(e.rule())
          ? ". A plugin built with go-plugin older than 1.5 ignores PLUGIN_UNIX_SOCKET_DIR and"
              + " makes its socket in TMPDIR: recompile it with go-plugin 1.5 or later"
          : "";
      throw new AddressRefusedException(e.address(), e.rule(),
          diagnosis.failure("the plugin announced in " + where + " an address the host does not dial: "
              + e.getMessage() + hint, r));
    }
  }

  /** The address rules for an address the plugin's broker announced; no diagnosis at run time. */
  static NetAddress checkBrokerAddress(
      NetAddress a, Path socketDir, boolean allowNonLoopbackTcp, String name) {
    try {
      return AddressRules.check(a, socketDir, allowNonLoopbackTcp);
    } catch (AddressRefusedException e) {
      throw new AddressRefusedException(e.address(), e.rule(), "plugin " + name
          + " announced in a broker ConnInfo an address the host does not dial: " + e.getMessage());
    }
  }

  /**
   * The address rules for a reattach config, checked before anything is touched. A Unix address
   * must be a socket directly inside the config's {@code socket_dir} (or, when the config records
   * none, inside the address's own directory), and that directory must be one goplugin4j makes:
   * named {@code goplugin4j-<digits>}, a real directory owned by this process's user. TCP must be
   * on loopback unless {@code allowNonLoopbackTcp}; a container plugin is reachable only through
   * its socket directory.
   *
   * @return the checked socket directory, or null for a TCP address whose config records no
   *     directory of ours
   */
  static Path checkReattachAddress(ReattachConfig rc, boolean allowNonLoopbackTcp) {
    NetAddress a = rc.address();
    String dir = rc.runnerAttributes().get("socket_dir");
    try {
      if (NetAddress.UNIX.equals(a.network())) {
        if (dir == null) {
          int slash = a.address().lastIndexOf('/');
          dir = slash > 0 ? a.address().substring(0, slash) : "";
        }
        Path d = AddressRules.checkOwnSocketDir(dir, a.toString());
        AddressRules.check(a, d, false);
        return d;
      }
      if (ReattachConfig.KIND_CONTAINER.equals(rc.runnerKind())) {
        throw new AddressRefusedException(a.toString(), AddressRules.RULE_OUTSIDE_DIR,
            "refusing to dial " + a + ": a container plugin is reachable only through a Unix"
                + " socket in its socket directory");
      }
      AddressRules.check(a, null, allowNonLoopbackTcp);
    } catch (AddressRefusedException e) {
      throw new AddressRefusedException(e.address(), e.rule(), "cannot reattach to plugin "
          + rc.runnerKind() + " " + rc.runnerId() + ": the reattach config's address is refused: "
          + e.getMessage() + ". Use the config exactly as PluginClient.reattachConfig() gave it");
    }
    if (dir == null) {
      return null;
    }
    try {
      return AddressRules.checkOwnSocketDir(dir, a.toString());
    } catch (AddressRefusedException e) {
      return null; // not ours: neither used nor removed
    }
  }

  /**
   * Whether a Unix socket has no listener: missing, or a connect is refused. Only asked about an
   * address that passed the rules, after the reattacher found no plugin.
   */
  static boolean nobodyServes(NetAddress a) {
    if (!NetAddress.UNIX.equals(a.network())) {
      return false;
    }
    Path p = Path.of(a.address());
    if (!Files.exists(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      return true;
    }
    try (java.nio.channels.SocketChannel ch =
        java.nio.channels.SocketChannel.open(java.net.StandardProtocolFamily.UNIX)) {
      ch.connect(java.net.UnixDomainSocketAddress.of(p));
      return false;
    } catch (java.net.ConnectException e) {
      return true; // ECONNREFUSED: a socket file whose process is gone
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }
}
