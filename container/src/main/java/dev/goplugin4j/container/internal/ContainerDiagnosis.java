package dev.goplugin4j.container.internal;

import dev.goplugin4j.container.ContainerConfig;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Diagnosis phase of {@link ContainerRunner}: what a failed or misbehaving start is explained
 * with. The config as sent (with the socket dir's mode and owner and, when only its owner may
 * write there, how a non-root image gets in), the engine and a runtime hint, and with {@code
 * debug(true)} the env, the container's state, its exit hint ({@link ExitHints}) and its logs.
 *
 * <p>Stateless and thread-safe: static functions only; what asks the engine never throws.
 */
final class ContainerDiagnosis {
  private ContainerDiagnosis() {}

  /**
   * A hint when the configured runtime is not registered, or when it (or, with no runtime
   * configured, the engine's default runtime) is gVisor without a usable --host-uds.
   */
  static Optional<String> runtimeHint(ContainerConfig config, Engine e) {
    Map<String, List<String>> runtimes;
    try {
      EngineFacts facts = e.facts();
      if (config.runtime().isEmpty()) {
        return facts.podman() ? Optional.empty()
            : RuntimeHints.defaultRuntimeHint(e.defaultRuntime(), e.runtimes());
      }
      if (facts.podman()) {
        // Podman reports runtimes without their arguments and ignores the requested one.
        return RuntimeHints.podmanRuntimeMismatch(config.runtime(), facts, e.endpoint());
      }
      runtimes = e.runtimes();
    } catch (RuntimeException ex) {
      return Optional.empty();
    }
    return RuntimeHints.hint(config.runtime(), runtimes, e.endpoint());
  }

  /** What the runner was configured to send, and the socket dir's mode and owner. */
  static String configNotes(ContainerConfig config, ContainerSpec spec, Path socketDir) {
    StringBuilder n = new StringBuilder("Config:\n");
    n.append("Image ref: ").append(spec.image()).append('\n');
    if (!config.sha256().isEmpty()) {
      n.append("Pinned image: ").append(config.namedRef()).append('\n');
    }
    if (spec.entrypoint() != null) {
      n.append("Entrypoint: ").append(String.join(" ", spec.entrypoint())).append('\n');
    }
    if (spec.cmd() != null) {
      n.append("Cmd: ").append(spec.cmd()).append('\n');
    }
    if (!spec.runtime().isEmpty()) {
      n.append("Runtime: ").append(spec.runtime()).append('\n');
    }
    n.append("GroupAdd: ").append(spec.groupAdd()).append('\n');
    n.append("Socket dir: ").append(socketDir).append(" -> ")
        .append(ContainerConfig.CONTAINER_SOCKET_DIR).append(socketDirNote(config, spec, socketDir)).append('\n');
    return n.toString();
  }

  /**
   * The socket dir's mode and owner, and what a non-root container user needs when only its
   * owner may write there: the most common reason a plugin image built to run as another user
   * (goplugin4j image's default, 65532:0) exits at once with "permission denied".
   */
  private static String socketDirNote(ContainerConfig config, ContainerSpec spec,
      Path socketDir) {
    try {
      java.util.Set<java.nio.file.attribute.PosixFilePermission> perms =
          java.nio.file.Files.getPosixFilePermissions(socketDir);
      Object uid = java.nio.file.Files.getAttribute(socketDir, "unix:uid");
      Object gid = java.nio.file.Files.getAttribute(socketDir, "unix:gid");
      String note = " (mode " + java.nio.file.attribute.PosixFilePermissions.toString(perms)
          + ", uid " + uid + ", gid " + gid + ")";
      if (!perms.contains(java.nio.file.attribute.PosixFilePermission.GROUP_WRITE)
          && spec.groupAdd().isEmpty() && !config.rootless()) {
        note += "\nOnly uid " + uid + " can create the plugin's socket there. If the image runs as"
            + " another user (goplugin4j image's default is 65532:0), give the container the host's"
            + " socket group: ContainerConfig.groupAdd(G) and PluginClient.Builder.unixSocketGroup(\"G\")"
            + " (docs/containers.md), or build the image with --user 0:0";
      }
      return note;
    } catch (java.io.IOException | RuntimeException e) {
      return "";
    }
  }

  /** Everything the engine can tell; never throws. */
  static String collect(ContainerConfig config, ContainerSpec spec, Engine e, String id) {
    StringBuilder n = new StringBuilder();
    try {
      n.append("Engine: ").append(e.describe()).append('\n');
      runtimeHint(config, e).ifPresent(h -> n.append(h).append('\n'));
      if (!config.debug()) {
        return n.toString();
      }
      n.append("Env:\n");
      spec.env().forEach(v -> n.append(v).append('\n'));
      String cid = id;
      if (cid.isEmpty()) {
        return n.toString();
      }
      Optional<ContainerInfo> info = e.inspect(cid);
      if (info.isEmpty()) {
        n.append("Container ").append(DockerJavaEngine.shortId(cid)).append(" no longer exists\n");
        return n.toString();
      }
      ContainerInfo i = info.get();
      n.append("\nContainer config:\n");
      n.append("Container ID: ").append(i.id()).append('\n');
      n.append("Image: ").append(i.image()).append('\n');
      n.append("Entrypoint: ").append(i.entrypoint()).append('\n');
      if (!i.cmd().isEmpty()) {
        n.append("Cmd: ").append(i.cmd()).append('\n');
      }
      n.append("State: ").append(i.status()).append('\n');
      if (!i.error().isEmpty()) {
        n.append("Container state error: ").append(i.error()).append('\n');
      }
      if (i.running()) {
        n.append("Plugin is running but may have printed something unexpected to stdout, where"
            + " it should have printed '|' separated protocol negotiation info. Check stdout in"
            + " the logs below.\n");
      } else if (!"created".equals(i.status())) {
        n.append(ExitHints.describe(i.exitCode(), i.oomKilled())).append('\n');
      }
      Engine.Logs logs = e.logs(cid);
      if (logs.stdout().isEmpty() && logs.stderr().isEmpty()) {
        n.append("No log lines from container\n");
      } else {
        n.append("--- Container Logs ---\nStdout:\n").append(logs.stdout())
            .append("\nStderr:\n").append(logs.stderr()).append("\n--- End Logs ---\n");
      }
    } catch (RuntimeException ex) {
      n.append("(diagnosis incomplete: ").append(ex.getMessage()).append(")\n");
    }
    return n.toString();
  }
}
