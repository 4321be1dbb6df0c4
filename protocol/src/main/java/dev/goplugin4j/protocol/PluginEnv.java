package dev.goplugin4j.protocol;

/**
 * Names of the environment variables a go-plugin host passes to its plugin, and their defaults.
 * The values match upstream go-plugin exactly.
 */
public final class PluginEnv {
  /** Comma-separated list of the app protocol versions the host supports. */
  public static final String PROTOCOL_VERSIONS = "PLUGIN_PROTOCOL_VERSIONS";

  /** Lowest TCP port a plugin may listen on when it uses TCP. Default {@value #DEFAULT_MIN_PORT}. */
  public static final String MIN_PORT = "PLUGIN_MIN_PORT";

  /** Highest TCP port a plugin may listen on when it uses TCP. Default {@value #DEFAULT_MAX_PORT}. */
  public static final String MAX_PORT = "PLUGIN_MAX_PORT";

  /** PEM of the host's one-off certificate, set when AutoMTLS is on. */
  public static final String CLIENT_CERT = "PLUGIN_CLIENT_CERT";

  /** {@code true} when the host asks for the multiplexed gRPC broker. */
  public static final String MULTIPLEX_GRPC = "PLUGIN_MULTIPLEX_GRPC";

  /** Directory in which the plugin must create its Unix socket. */
  public static final String UNIX_SOCKET_DIR = "PLUGIN_UNIX_SOCKET_DIR";

  /** Group (gid or name) the plugin must chown its Unix socket to, with mode 0660. */
  public static final String UNIX_SOCKET_GROUP = "PLUGIN_UNIX_SOCKET_GROUP";

  /**
   * The temporary directory. go-plugin before 1.5 ignores {@link #UNIX_SOCKET_DIR} and makes its
   * socket here, so a host points it at the socket directory for process plugins.
   */
  public static final String TMPDIR = "TMPDIR";

  /** Default of {@link #MIN_PORT}. */
  public static final int DEFAULT_MIN_PORT = 10000;

  /** Default of {@link #MAX_PORT}. */
  public static final int DEFAULT_MAX_PORT = 25000;

  /** The core protocol version every go-plugin peer speaks; the first handshake field. */
  public static final int CORE_PROTOCOL_VERSION = 1;

  private PluginEnv() {}
}
