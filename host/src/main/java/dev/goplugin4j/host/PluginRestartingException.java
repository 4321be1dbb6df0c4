package dev.goplugin4j.host;

import dev.goplugin4j.protocol.PluginException;

/**
 * A {@link PluginSupervisor} has no running client for the plugin at the moment: it is being
 * restarted after a crash or a failed health check (or still starting), and the caller chose not
 * to wait, or waited its full deadline. The message names the plugin and what the supervisor is
 * doing. Retry later, or call with a wait ({@link PluginSupervisor#call(String, java.time.Duration,
 * java.util.function.Function)}).
 *
 * <p>Instances are immutable and thread-safe.
 */
public class PluginRestartingException extends PluginException {
  private static final long serialVersionUID = 1L;

  private final String pluginName;

  /**
   * Creates the exception.
   *
   * @param pluginName the supervised plugin's name; not null
   * @param message what is happening and what to do; not null
   */
  public PluginRestartingException(String pluginName, String message) {
    super(message);
    this.pluginName = pluginName;
  }

  /**
   * The supervised plugin's name.
   *
   * @return the name given to {@link PluginSupervisor.Builder#plugin}
   */
  public String pluginName() {
    return pluginName;
  }
}
