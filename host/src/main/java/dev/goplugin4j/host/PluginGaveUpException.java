package dev.goplugin4j.host;

import dev.goplugin4j.protocol.PluginException;

/**
 * A {@link PluginSupervisor} gave up on a plugin: it failed (crashed, failed its health check or
 * failed to start) as often as {@link PluginSupervisor.Builder#giveUpAfter} allows within the
 * window, so the supervisor stopped restarting it. The message names the plugin, the count and
 * the last failure; the cause is the last start failure when there was one. Fix the plugin (its
 * stderr, in the plugin's logger, usually says why), then {@link PluginSupervisor#restart(String)}
 * it.
 *
 * <p>Instances are immutable and thread-safe.
 */
public class PluginGaveUpException extends PluginException {
  private static final long serialVersionUID = 1L;

  private final String pluginName;

  /**
   * Creates the exception.
   *
   * @param pluginName the supervised plugin's name; not null
   * @param message what happened and what to do; not null
   * @param cause the last failure, or null
   */
  public PluginGaveUpException(String pluginName, String message, Throwable cause) {
    super(message, cause);
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
