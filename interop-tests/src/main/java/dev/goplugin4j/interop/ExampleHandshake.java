package dev.goplugin4j.interop;

/**
 * The handshake every upstream example uses (go-plugin examples/grpc, examples/bidirectional,
 * examples/streaming, and plugincontainer examples/container): app protocol version 1, magic
 * cookie {@code BASIC_PLUGIN=hello}.
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
