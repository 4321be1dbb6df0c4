package dev.goplugin4j.host;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What the host asks a runner to run: the command line (may be empty for a container whose image
 * has an entrypoint) and the complete environment the host computed for the plugin (magic cookie,
 * protocol versions, certificate, socket directory and group, plus the host's own environment
 * unless skipped).
 *
 * <p>Immutable and thread-safe.
 *
 * @param command executable and arguments; not null, possibly empty
 * @param env the plugin's environment; not null
 */
public record PluginCommand(List<String> command, Map<String, String> env) {
  /** Copies the fields into immutable collections. */
  public PluginCommand {
    command = List.copyOf(Objects.requireNonNull(command, "command"));
    env = Map.copyOf(Objects.requireNonNull(env, "env"));
  }
}
