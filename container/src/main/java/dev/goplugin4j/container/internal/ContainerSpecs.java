package dev.goplugin4j.container.internal;

import dev.goplugin4j.container.ContainerConfig;
import dev.goplugin4j.host.PluginCommand;
import dev.goplugin4j.protocol.PluginEnv;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Configuration phase of {@link ContainerRunner}: maps a {@link ContainerConfig}, the host's
 * plugin command and the socket directory to the {@link ContainerSpec} sent to the engine
 * (before the engine's socket strategy adjusts it, see {@link SocketStrategy}).
 *
 * <p>Stateless and thread-safe: static functions only.
 */
final class ContainerSpecs {
  private ContainerSpecs() {}

  /** The container the config and host environment describe. */
  static ContainerSpec of(ContainerConfig c, PluginCommand command, Path socketDir,
      HostId owner) {
    // Host env first (sorted for a stable order), the socket dir replaced by the in-container
    // path so it appears exactly once, then the config's env, which overrides.
    Map<String, String> env = new LinkedHashMap<>(new TreeMap<>(command.env()));
    env.put(PluginEnv.UNIX_SOCKET_DIR, ContainerConfig.CONTAINER_SOCKET_DIR);
    if (socketDir.toString().equals(env.get(PluginEnv.TMPDIR))) {
      env.remove(PluginEnv.TMPDIR); // the host set it for process plugins: a host path
    }
    env.putAll(c.env());
    List<String> envList = new ArrayList<>();
    env.forEach((k, v) -> envList.add(k + "=" + v));

    Map<String, String> labels = new TreeMap<>(c.labels());
    if (c.ownerLabels()) {
      labels.put(Labels.MANAGED, "true");
      labels.put(Labels.OWNER, owner.toString());
      labels.put(Labels.PLUGIN, c.pluginName());
    }
    List<String> capAdd = new ArrayList<>();
    if (c.capIpcLock()) {
      capAdd.add("IPC_LOCK");
    }
    if (c.rootless()) {
      capAdd.add("DAC_OVERRIDE");
    }
    List<String> groupAdd = new ArrayList<>();
    c.groupAdd().ifPresent(g -> groupAdd.add(Integer.toString(g)));
    List<String> securityOpt = new ArrayList<>();
    if (c.noNewPrivileges()) {
      securityOpt.add("no-new-privileges");
    }
    Map<String, String> tmpfs = new TreeMap<>();
    if (c.readOnlyRootFs()) {
      tmpfs.put("/tmp", "rw,nosuid,nodev,noexec,mode=1777,size=" + c.tmpSize());
    }
    return new ContainerSpec(
        c.imageRef(),
        List.copyOf(envList),
        c.entrypoint().orElse(null),
        c.args().orElse(null),
        c.disableNetwork(),
        labels,
        !c.debug(),
        c.runtime(),
        c.nanoCpus(),
        c.memory(),
        c.cgroupParent(),
        List.of("ALL"),
        capAdd,
        groupAdd,
        securityOpt,
        c.pidsLimit(),
        c.readOnlyRootFs(),
        tmpfs,
        socketDir.toString(),
        ContainerConfig.CONTAINER_SOCKET_DIR,
        c.endpointsConfig());
  }
}
