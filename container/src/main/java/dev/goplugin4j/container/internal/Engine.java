package dev.goplugin4j.container.internal;

import java.io.InputStream;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * The one seam between the runner and a container engine (Docker Engine API, also served by
 * Podman). Only our own types cross it; the implementation ({@link DockerJavaEngine}) hides
 * docker-java. Failures are {@link EngineException}s carrying the HTTP status; "the object is
 * gone" is never an exception where the caller treats it as success (see the return values).
 *
 * <p>Implementations are thread-safe.
 */
public interface Engine extends AutoCloseable {
  /** Where the engine was reached and with which API version, e.g. {@code unix:///var/run/docker.sock (API 1.41)}. */
  String describe();

  /** The endpoint URI. */
  String endpoint();

  /** The negotiated API version, e.g. {@code 1.41}. */
  String apiVersion();

  /** IDs ({@code sha256:...}) of the local images matching a reference filter such as {@code name:tag}. */
  List<String> imageIds(String reference);

  /** Creates a container and returns its ID. */
  String createContainer(ContainerSpec spec);

  /**
   * Attaches to stdout and stderr of a created container; returns once the engine has accepted
   * the attachment, so that starting the container afterwards cannot lose output. The stream
   * carries the engine's multiplexed frames ({@link FrameDemuxer}); closing it detaches.
   */
  InputStream attach(String id);

  /**
   * Registers a wait for the container's next exit (call before start) or, when {@code
   * nextExit} is false, for it to be not running; returns once registered. The future completes
   * with the exit status, or exceptionally when the wait fails.
   */
  CompletableFuture<Long> waitForExit(String id, boolean nextExit);

  /**
   * As {@link #waitForExit}, but returns at once: the request goes out on the wait's own thread,
   * so the caller can attach meanwhile (one engine round trip off a start's path). Call {@link
   * ExitWait#awaitRegistered()} before starting the container.
   */
  ExitWait registerExitWait(String id, boolean nextExit);

  /** Starts a created container. */
  void start(String id);

  /**
   * Stops a container: SIGTERM, then SIGKILL after {@code graceSeconds}.
   *
   * @return false when the container was already gone or already stopped
   */
  boolean stop(String id, int graceSeconds);

  /**
   * Removes a container forcibly and returns when it is gone.
   *
   * @return false when it was already gone
   */
  boolean remove(String id);

  /** The container's state and configuration, or empty when it does not exist. */
  Optional<ContainerInfo> inspect(String id);

  /** The container's logs so far, demultiplexed. */
  Logs logs(String id);

  /** Containers (running or not) that carry the label {@code key=value}. */
  List<ContainerSummary> listByLabel(String key, String value);

  /** Registered OCI runtimes: name to runtime arguments (empty list when none or unknown). */
  Map<String, List<String>> runtimes();

  /**
   * The runtime a container gets when it names none ({@code DefaultRuntime} of {@code /info}),
   * or empty when the engine does not say (Podman's compatible API).
   */
  String defaultRuntime();

  /** Podman or Docker, and Podman's default runtime; known since the connection, no request. */
  EngineFacts facts();

  /**
   * Whether the engine runs rootless (container uid/gid 0 are the engine owner's ids on the host):
   * Docker lists {@code name=rootless} among the {@code SecurityOptions} of {@code /info}, Podman
   * says {@code Rootless: true} there. One {@code GET /info}, then cached.
   *
   * @throws EngineException if the engine does not answer
   */
  boolean rootless();

  /** Releases connections. Streams still open are cut. */
  @Override
  void close();

  /**
   * A wait for a container's exit, registered on its own thread.
   *
   * @param registered completes once the engine has accepted the wait, or exceptionally with the
   *     {@link EngineException} (or other failure) that refused it
   * @param exit completes with the exit status, or exceptionally when the wait fails (also when
   *     it could not be registered)
   */
  record ExitWait(CompletableFuture<Void> registered, CompletableFuture<Long> exit) {
    /**
     * Blocks until the engine has accepted the wait (each attempt is bounded by the engine's call
     * timeout on the wait's thread).
     *
     * @throws RuntimeException what refused the wait, unwrapped
     */
    public void awaitRegistered() {
      try {
        registered.join();
      } catch (java.util.concurrent.CompletionException e) {
        if (e.getCause() instanceof RuntimeException re) {
          throw re;
        }
        if (e.getCause() instanceof Error err) {
          throw err;
        }
        throw new EngineException("the exit wait failed: " + e.getCause(), 0, e.getCause());
      }
    }
  }

  /** Demultiplexed logs. */
  record Logs(String stdout, String stderr) {}

  /** One container from a listing. */
  record ContainerSummary(String id, String state, Map<String, String> labels) {}
}
