package dev.goplugin4j.container.internal;

import dev.goplugin4j.container.ContainerConfig;
import dev.goplugin4j.container.ContainerException;
import dev.goplugin4j.container.ContainerStartException;
import dev.goplugin4j.protocol.PluginEnv;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Socket strategy phase of {@link ContainerRunner}: how the host and the plugin in the container
 * both get at the plugin's Unix socket in the shared socket directory. A non-root host gets a
 * default ACL on the directory; with {@code rootless(true)} the directory gets it too, and under
 * rootless Docker the container gets {@code --group-add 0} instead of {@code CAP_DAC_OVERRIDE}.
 *
 * <p>Stateless and thread-safe: static functions only; the ACL calls change the directory.
 */
final class SocketStrategy {
  // the runner's logger: tests and users read these lines under ContainerRunner
  private static final Logger LOG = LoggerFactory.getLogger(ContainerRunner.class);

  private SocketStrategy() {}

  /**
   * Prepares {@code socketDir} for the engine {@code e} and returns {@code spec} adjusted to the
   * engine's socket strategy (itself when nothing changes).
   *
   * @throws ContainerException if the rootless ACL cannot be set
   * @throws ContainerStartException if the engine cannot tell whether it runs rootless
   */
  static ContainerSpec apply(ContainerConfig config, Path socketDir, Engine e,
      ContainerSpec spec) {
    int euid = PosixAcl.geteuid();
    if (!config.rootless() && euid != 0) {
      grantHostUserSockets(socketDir, euid);
    }
    if (config.rootless()) {
      PosixAcl.setDefaultUserRw(socketDir, euid);
      if (!e.facts().podman() && rootless(e)) {
        spec = rootlessDockerSpec(spec, config);
        LOG.debug("rootless Docker at {}: socket strategy --group-add 0 (the engine owner's group"
            + " in the container) instead of CAP_DAC_OVERRIDE", e.endpoint());
      }
    }
    return spec;
  }

  /**
   * A non-root host gets read/write on every socket in its socket directory through a default ACL
   * for its euid: gVisor under Docker ignores the plugin's {@code chown}, so the plugin's socket
   * stays {@code 0:0 0660} and only an ACL lets a non-root host in. The ACL grants nothing to the
   * container. Best effort: on a file system without POSIX ACLs the start goes on (runc and Podman
   * do not need it).
   */
  private static void grantHostUserSockets(Path socketDir, int euid) {
    try {
      PosixAcl.setDefaultUserRw(socketDir, euid);
    } catch (ContainerException ex) {
      LOG.debug("no default ACL for uid {} on {} ({}); a plugin under gVisor on Docker will not be"
          + " reachable by this non-root host", euid, socketDir, ex.getMessage());
    }
  }

  private static boolean rootless(Engine e) {
    try {
      return e.rootless();
    } catch (EngineException ex) {
      throw new ContainerStartException("cannot tell whether the engine at " + e.endpoint()
          + " runs rootless (GET /info), which decides the rootless socket strategy: "
          + ex.getMessage(), ex);
    }
  }

  /**
   * The rootless strategy for rootless Docker: upstream's {@code CAP_DAC_OVERRIDE} lands only in
   * the bounding set of a non-root container process there (Docker sets no ambient capabilities),
   * so the plugin cannot create its socket. In a rootless engine the container's gid 0 is the
   * engine owner's primary group on the host, so instead the container gets {@code --group-add 0}
   * and the plugin is told to hand its socket to group 0 ({@code PLUGIN_UNIX_SOCKET_GROUP=0}, unless
   * the config's env sets it); the host's socket group must then be the engine owner's group. The
   * default ACL stays (gVisor under Docker ignores the plugin's {@code chown}).
   */
  static ContainerSpec rootlessDockerSpec(ContainerSpec s, ContainerConfig c) {
    boolean explicitGroup = c.env().containsKey(PluginEnv.UNIX_SOCKET_GROUP);
    String prefix = PluginEnv.UNIX_SOCKET_GROUP + "=";
    List<String> env = new ArrayList<>();
    for (String v : s.env()) {
      env.add(!explicitGroup && v.startsWith(prefix) ? prefix + "0" : v);
    }
    List<String> capAdd = s.capAdd().stream().filter(cap -> !cap.equals("DAC_OVERRIDE")).toList();
    return new ContainerSpec(s.image(), List.copyOf(env), s.entrypoint(), s.cmd(),
        s.networkDisabled(), s.labels(), s.autoRemove(), s.runtime(), s.nanoCpus(), s.memory(),
        s.cgroupParent(), s.capDrop(), capAdd, List.of("0"), s.securityOpt(), s.pidsLimit(),
        s.readOnlyRootFs(), s.tmpfs(), s.bindSource(), s.bindTarget(), s.endpoints());
  }
}
