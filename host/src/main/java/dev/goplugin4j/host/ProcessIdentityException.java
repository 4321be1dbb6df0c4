package dev.goplugin4j.host;

/**
 * A process named by a reattach config or an owner record could not be confirmed to be the
 * plugin, so nothing was done to it: its pid and start time may match, but it runs another
 * executable, or neither it nor its children hold the plugin's listening socket. Seen when a
 * reattach config was edited (or a plugin stopped serving). The message names the process, what
 * did not match, and says that nothing was killed.
 *
 * <p>Instances are immutable and thread-safe.
 */
public class ProcessIdentityException extends PluginStartException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates an exception with a message.
   *
   * @param message which process, what did not match; not null
   */
  public ProcessIdentityException(String message) {
    super(message);
  }
}
