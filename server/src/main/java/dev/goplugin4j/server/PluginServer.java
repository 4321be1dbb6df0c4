package dev.goplugin4j.server;

import dev.goplugin4j.server.internal.log.JulBridge;
import dev.goplugin4j.server.internal.serve.ServerRuntime;
import dev.goplugin4j.server.internal.serve.Training;

/**
 * Serves go-plugin plugins written in Java: the counterpart of go-plugin's {@code
 * plugin.Serve}. A plugin's {@code main} builds a {@link ServeConfig} and calls {@link
 * #serveAndExit}; any go-plugin host (Go or Java) that shares the handshake can then start the
 * plugin and use its gRPC services.
 *
 * <pre>{@code
 * public static void main(String[] args) {
 *   PluginServer.serveAndExit(ServeConfig.builder()
 *       .handshake(1, "BASIC_PLUGIN", "hello")
 *       .plugin("kv", (services, broker) -> services.addService(new KvService()))
 *       .build());
 * }
 * }</pre>
 *
 * <p>What serving does, as go-plugin's server:
 *
 * <ul>
 *   <li>checks the magic cookie ({@link NotLaunchedByHostException} when missing or wrong);
 *   <li>picks the highest app protocol version in {@code PLUGIN_PROTOCOL_VERSIONS} it has a plugin
 *       set for (else its lowest, and the host reports the mismatch);
 *   <li>listens on a new Unix socket in {@code PLUGIN_UNIX_SOCKET_DIR} (given to {@code
 *       PLUGIN_UNIX_SOCKET_GROUP} with mode 0660 when set), with AutoMTLS when the host sent
 *       {@code PLUGIN_CLIENT_CERT} (a fresh P-521 certificate; the host's is the only trust) or the
 *       configured TLS;
 *   <li>serves the plugins' services plus {@code grpc.health.v1.Health} ({@code plugin} =
 *       SERVING), {@code plugin.GRPCController} (Shutdown), {@code plugin.GRPCStdio} and {@code
 *       plugin.GRPCBroker};
 *   <li>prints exactly one handshake line to stdout ({@code 1|VERSION|unix|PATH|grpc|CERT}, plus
 *       {@code |true} when the host set {@code PLUGIN_MULTIPLEX_GRPC});
 *   <li>from the start of serving, sends whatever the process writes to {@code System.out} and
 *       {@code System.err} to the host over {@code plugin.GRPCStdio} instead, so that nothing can
 *       corrupt the protocol (a go-plugin host shows it only with {@code SyncStdout}/{@code
 *       SyncStderr}); logs go through SLF4J, whose provider in this jar writes hclog JSON lines to
 *       the real stderr;
 *   <li>stops when the host calls Shutdown, on SIGTERM, or when the process that started the
 *       plugin exits ({@link ServeConfig.Builder#exitWhenHostExits}); ignores SIGINT ({@link
 *       ServeConfig.Builder#ignoreInterrupts}); removes its socket files.
 * </ul>
 *
 * <p>Serving takes over process-wide state: {@code System.out}/{@code System.err} (restored when
 * serving ends), the SIGINT disposition, a JVM shutdown hook and java.util.logging's root handlers
 * (bridged to SLF4J when the hclog provider is active). Serve once per process.
 *
 * <p>Thread-safe, but meant to be called once, from {@code main}.
 */
public final class PluginServer {
  /**
   * Environment variable that turns {@link #serveAndExit} into a class-data-sharing training run:
   * the plugin serves itself to an in-process host (AutoMTLS handshake, health check, stdio and
   * broker streams, Shutdown) and exits 0. Used with {@code -XX:ArchiveClassesAtExit} to build an
   * AppCDS archive at image build time; never set it in production.
   */
  public static final String CDS_TRAINING_ENV = "GOPLUGIN4J_CDS_TRAINING";

  private PluginServer() {}

  /**
   * Serves until the host shuts the plugin down (or SIGTERM, or the host exits), then releases
   * everything and returns. Blocks the calling thread.
   *
   * @param config what to serve; not null
   * @throws NotLaunchedByHostException if the magic cookie is missing or wrong: the process was
   *     not started by a host
   * @throws PluginServeException if serving cannot start (socket directory, TLS, registration)
   * @throws IllegalStateException if the thread is interrupted while serving (the server is
   *     stopped first)
   */
  public static void serve(ServeConfig config) {
    java.util.Objects.requireNonNull(config, "config");
    ServerRuntime runtime = new ServerRuntime(config, ServerRuntime.Io.process());
    runtime.start();
    try {
      runtime.awaitTermination();
    } catch (InterruptedException e) {
      runtime.stop("the serving thread was interrupted");
      try {
        runtime.awaitTermination(config.shutdownGracePeriod().plusSeconds(3));
      } catch (InterruptedException again) {
        // give up waiting; the runtime finishes on its own thread
      }
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while serving; the plugin server was stopped", e);
    }
  }

  /**
   * {@link #serve} for {@code main}: exits the JVM when serving ends, as a Go plugin's process
   * does. Exit status 0 after a normal stop; 1 when the process was not started by a host (after
   * printing go-plugin's "This binary is a plugin..." guidance to stderr) or serving failed (after
   * logging the reason). When {@value #CDS_TRAINING_ENV} is set, runs the class-data-sharing
   * training instead (see there).
   *
   * @param config what to serve; not null
   */
  public static void serveAndExit(ServeConfig config) {
    java.util.Objects.requireNonNull(config, "config");
    int status;
    try {
      String training = System.getenv(CDS_TRAINING_ENV);
      if (training != null && !training.isEmpty()) {
        Training.run(config);
      } else {
        serve(config);
      }
      status = 0;
    } catch (NotLaunchedByHostException e) {
      System.err.println(e.getMessage());
      System.err.flush();
      status = 1;
    } catch (RuntimeException | Error e) {
      org.slf4j.Logger log = config.logger()
          .orElseGet(() -> org.slf4j.LoggerFactory.getLogger(PluginServer.class));
      log.error("plugin init error: {}", e.getMessage(), e);
      if (!JulBridge.hclogActive()) {
        System.err.println("plugin init error: " + e.getMessage());
        System.err.flush();
      }
      status = 1;
    }
    System.exit(status);
  }
}
