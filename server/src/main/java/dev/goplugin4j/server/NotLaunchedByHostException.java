package dev.goplugin4j.server;

/**
 * The process was not started by a go-plugin host: the magic cookie environment variable is
 * missing or has the wrong value. The message is go-plugin's own guidance ("This binary is a
 * plugin. These are not meant to be executed directly. ..."); {@link PluginServer#serveAndExit}
 * prints it to stderr and exits with status 1, as a Go plugin does.
 *
 * <p>Instances are immutable and thread-safe.
 */
public class NotLaunchedByHostException extends PluginServeException {
  private static final long serialVersionUID = 1L;

  /** go-plugin's message, verbatim (three lines). */
  public static final String GUIDANCE =
      "This binary is a plugin. These are not meant to be executed directly.\n"
          + "Please execute the program that consumes these plugins, which will\n"
          + "load any plugins automatically";

  /** The magic cookie's environment variable name. */
  private final String cookieKey;

  /**
   * Creates the exception.
   *
   * @param cookieKey the name of the magic cookie variable that was missing or wrong; not null
   */
  public NotLaunchedByHostException(String cookieKey) {
    super(GUIDANCE);
    this.cookieKey = cookieKey;
  }

  /**
   * The magic cookie's environment variable name.
   *
   * @return the name configured in {@link ServeConfig.Builder#handshake}
   */
  public String cookieKey() {
    return cookieKey;
  }
}
