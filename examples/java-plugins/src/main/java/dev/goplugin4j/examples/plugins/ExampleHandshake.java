package dev.goplugin4j.examples.plugins;

/**
 * The handshake of go-plugin's and plugincontainer's examples: app protocol version 1, magic
 * cookie {@code BASIC_PLUGIN=hello}. A host and its plugins must agree on it.
 */
public final class ExampleHandshake {
  /** The app protocol version. */
  public static final int PROTOCOL_VERSION = 1;

  /** The magic cookie's environment variable. */
  public static final String MAGIC_COOKIE_KEY = "BASIC_PLUGIN";

  /** The magic cookie's value. */
  public static final String MAGIC_COOKIE_VALUE = "hello";

  private ExampleHandshake() {}
}
