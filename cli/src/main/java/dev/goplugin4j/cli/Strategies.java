package dev.goplugin4j.cli;

/**
 * The four ways a plugin in a container and its host can share a Unix socket, and what the
 * container documentation's table expects for an engine (used when the doctor runs without
 * {@code --probe}).
 */
final class Strategies {
  private Strategies() {}

  /** A socket permission strategy. */
  enum Strategy {
    /** The plugin runs as the host's uid (container root on a rootless engine). */
    SHARED_UID("shared uid"),
    /** A non-root plugin gets the host's socket group: groupAdd(G) + unixSocketGroup(G). */
    SHARED_GID("shared gid"),
    /** Upstream's rootless recipe: default ACL for the host uid + CAP_DAC_OVERRIDE. */
    ACL_CAPABILITY("ACL + capability"),
    /** A non-root plugin gets gid 0, which a rootless engine maps to the host user's group. */
    GID_0("gid 0");

    final String label;

    Strategy(String label) {
      this.label = label;
    }
  }

  /** What should work, from the tested table in docs/containers.md; the probe measures it. */
  static Check expected(EngineFacts facts, int euid) {
    if (facts == null) {
      return Check.skip("sockets", "socket permission strategy", "no engine answers");
    }
    String expect;
    if (facts.rootless() && facts.kind().equals("Podman")) {
      expect = "root plugin images: shared uid (nothing to do); non-root images: ACL +"
          + " capability (ContainerConfig.rootless(true).groupAdd(G))";
    } else if (facts.rootless()) {
      expect = "root plugin images: shared uid (nothing to do); non-root images: gid 0"
          + " (ContainerConfig.groupAdd(0), unixSocketGroup(<your primary gid>), plus the"
          + " default ACL under gVisor); upstream's ACL + capability recipe fails on Docker 20.10";
    } else if (euid == 0) {
      expect = "root plugin images: shared uid (nothing to do); non-root images: shared gid"
          + " (ContainerConfig.groupAdd(G) + PluginClient.unixSocketGroup(\"G\"))";
    } else {
      expect = "shared gid (ContainerConfig.groupAdd(G) + unixSocketGroup(\"G\"), G one of your"
          + " groups); under gVisor, which ignores the plugin's chown, also the default ACL for"
          + " your uid (ACL + capability: ContainerConfig.rootless(true))";
    }
    return Check.info("sockets", "socket permission strategy",
        "expected (" + (facts.rootless() ? "rootless " : "rootful ") + facts.kind()
            + ", host uid " + euid + "): " + expect + ". Run `goplugin4j doctor --probe` to"
            + " measure it");
  }
}
