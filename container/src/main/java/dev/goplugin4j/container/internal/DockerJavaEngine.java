package dev.goplugin4j.container.internal;

import static dev.goplugin4j.container.internal.EngineTransport.describeFailure;

import com.fasterxml.jackson.databind.JsonNode;
import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.exception.ConflictException;
import com.github.dockerjava.api.exception.DockerException;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.exception.NotModifiedException;
import com.github.dockerjava.api.model.Container;
import com.github.dockerjava.api.model.Image;
import com.github.dockerjava.core.DefaultDockerClientConfig;
import com.github.dockerjava.core.DockerClientImpl;
import com.github.dockerjava.transport.DockerHttpClient;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * The {@link Engine} over docker-java's Apache httpclient5 transport. Typed calls (stop, remove,
 * listings) go through docker-java's {@link DockerClient}, so "already gone" is recognised by
 * exception type ({@link NotFoundException}); what docker-java 3.5.3 cannot express (a bind mount
 * with {@code NonRecursive}, {@code NetworkingConfig}, the wait condition, an attach that must be
 * accepted before start) is sent as raw Engine API requests through the same transport.
 *
 * <p>This class keeps the connection's lifecycle (connect, close) and the typed calls; the phases
 * are in {@link ApiNegotiation} (connect), {@link EngineTransport} (bounded raw requests), {@link
 * ContainerCreateBody} (create), {@link EngineStreams} (attach, wait, logs) and {@link
 * EngineQueries} (inspect, info). Thread-safe.
 */
public final class DockerJavaEngine implements Engine {
  /**
   * How long a plain call (create, start, inspect, logs, info, version) may go without an answer
   * before it fails: a stuck engine must not hang start or kill forever.
   */
  static final Duration CALL_TIMEOUT = Duration.ofSeconds(30);

  /**
   * Typed calls (docker-java's) get {@link #CALL_TIMEOUT} plus this: among them is stop, which
   * the engine answers only after the grace period (at most 60 s, see {@code
   * ContainerConfig.Builder#killGrace}).
   */
  static final Duration MAX_KILL_GRACE = Duration.ofSeconds(60);

  /** How long a removal the engine has begun (auto-remove after a stop) may take. */
  private static final Duration REMOVAL_WAIT = Duration.ofSeconds(15);

  private static final org.slf4j.Logger LOG =
      org.slf4j.LoggerFactory.getLogger(DockerJavaEngine.class);

  private final String endpoint;
  private final String apiVersion;
  private final EngineFacts facts;
  /** Plain calls bounded by the call timeout, over a pooled client shared by all users. */
  private final EngineTransport transport;
  /** Attach and wait of callers of this object itself; a {@link #lease} has its own. */
  private final EngineStreams streams;
  private final EngineQueries queries;
  /** What the typed client is built from, when first needed. */
  private final DefaultDockerClientConfig typedConfig;
  private final Object typedLock = new Object();
  /**
   * docker-java's client over {@link #typed}; built on the first typed call (stop, remove,
   * listings), which a start never makes. Guarded by {@link #typedLock}.
   */
  private DockerClient docker;
  /** Typed calls, bounded by the call timeout plus {@link #MAX_KILL_GRACE}; lazy as {@link #docker}. */
  private DockerHttpClient typed;
  private boolean closed;
  private volatile Boolean rootless;
  private final Duration callTimeout;
  private final Duration typedTimeout;

  private DockerJavaEngine(String endpoint, String apiVersion, EngineFacts facts,
      DockerHttpClient http, DefaultDockerClientConfig typedConfig, Duration callTimeout) {
    this.endpoint = endpoint;
    this.apiVersion = apiVersion;
    this.facts = facts;
    this.transport = new EngineTransport(endpoint, apiVersion, http, typedConfig, callTimeout);
    this.streams = new EngineStreams(transport);
    this.queries = new EngineQueries(transport);
    this.typedConfig = typedConfig;
    this.callTimeout = callTimeout;
    this.typedTimeout = callTimeout.plus(MAX_KILL_GRACE);
  }

  /**
   * Connects to an engine and negotiates the API version: the lower of the engine's and {@value
   * ApiNegotiation#MAX_API_VERSION}, refusing engines older than {@value
   * ApiNegotiation#MIN_API_VERSION}. One {@code GET /_ping} (as Docker's Go client negotiates):
   * its {@code API-Version} header gives the version and a {@code Libpod-API-Version} header tells
   * Podman. Only Podman, or an engine whose ping carries no version, is also asked {@code GET
   * /version}, which Docker answers slowly (it runs {@code runc --version} each time).
   *
   * @param endpoint {@code unix://...} or {@code tcp://...}
   * @param tlsCertPath directory with {@code ca.pem}, {@code cert.pem}, {@code key.pem} for a TLS
   *     {@code tcp} endpoint, or null
   * @throws EngineException if the engine does not answer or is too old
   */
  public static DockerJavaEngine connect(String endpoint, String tlsCertPath) {
    return connect(endpoint, tlsCertPath, CALL_TIMEOUT);
  }

  /**
   * As {@link #connect(String, String)} with another bound on plain calls (tests); typed calls
   * get it plus the longest kill grace, streams none.
   *
   * @param callTimeout positive
   */
  public static DockerJavaEngine connect(String endpoint, String tlsCertPath,
      Duration callTimeout) {
    DefaultDockerClientConfig.Builder cfg =
        DefaultDockerClientConfig.createDefaultConfigBuilder()
            .withDockerHost(endpoint)
            .withDockerTlsVerify(tlsCertPath != null);
    if (tlsCertPath != null) {
      cfg.withDockerCertPath(tlsCertPath);
    }
    DefaultDockerClientConfig probeConfig = cfg.build();
    DockerHttpClient http = EngineTransport.transport(endpoint, probeConfig, callTimeout,
        EngineTransport.SHARED_CONNECTIONS);
    try {
      Map<String, String> ping = EngineTransport.bounded(endpoint, callTimeout, "GET /_ping",
          () -> ApiNegotiation.ping(http, endpoint));
      EngineFacts facts;
      String version;
      if (ApiNegotiation.pingNeedsVersion(ping)) {
        // Podman (whose default runtime only /version names), or an engine that does not say
        JsonNode versionInfo = EngineTransport.bounded(endpoint, callTimeout, "GET /version",
            () -> ApiNegotiation.version(http, endpoint));
        version = ApiNegotiation.negotiate(versionInfo, endpoint);
        facts = ApiNegotiation.facts(versionInfo);
      } else {
        version = ApiNegotiation.negotiate(ping.get("api-version"), endpoint);
        facts = new EngineFacts(false, "");
      }
      return new DockerJavaEngine(endpoint, version, facts, http,
          cfg.withApiVersion(version).build(), callTimeout);
    } catch (RuntimeException e) {
      EngineTransport.closeQuietly(http);
      throw e;
    }
  }

  /** The typed client, built on first use. */
  private DockerClient docker() {
    synchronized (typedLock) {
      if (closed) {
        throw new EngineException("the connection to the engine at " + endpoint
            + " was closed", 0, null);
      }
      if (docker == null) {
        typed = EngineTransport.transport(endpoint, typedConfig, typedTimeout,
            EngineTransport.SHARED_CONNECTIONS);
        docker = DockerClientImpl.getInstance(typedConfig, typed);
      }
      return docker;
    }
  }

  private <T> T bounded(Duration timeout, String what, java.util.function.Supplier<T> call) {
    return transport.bounded(timeout, what, call);
  }

  @Override
  public String describe() {
    return endpoint + " (API " + apiVersion + ")";
  }

  @Override
  public String endpoint() {
    return endpoint;
  }

  @Override
  public String apiVersion() {
    return apiVersion;
  }

  @Override
  public List<String> imageIds(String reference) {
    return bounded(callTimeout, "list images named " + reference, () -> doImageIds(reference));
  }

  private List<String> doImageIds(String reference) {
    try {
      List<Image> images = EngineTransport.retryingStale(
          () -> docker().listImagesCmd().withReferenceFilter(reference).exec());
      List<String> ids = new ArrayList<>();
      for (Image i : images) {
        ids.add(i.getId());
      }
      return ids;
    } catch (DockerException e) {
      throw new EngineException(
          "cannot list images named " + reference + ": " + e.getMessage(), e.getHttpStatus(), e);
    } catch (RuntimeException e) {
      throw new EngineException(
          "cannot list images named " + reference + ": " + describeFailure(e), 0, e);
    }
  }

  @Override
  public String createContainer(ContainerSpec spec) {
    return bounded(callTimeout, "create a container from " + spec.image(),
        () -> doCreateContainer(spec));
  }

  private String doCreateContainer(ContainerSpec spec) {
    byte[] body;
    try {
      body = EngineTransport.JSON.writeValueAsBytes(ContainerCreateBody.of(spec));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    JsonNode answer = transport.requestJson("POST", "/containers/create", body, 201);
    return answer.path("Id").asText();
  }

  @Override
  public InputStream attach(String id) {
    return streams.attach(id);
  }

  @Override
  public CompletableFuture<Long> waitForExit(String id, boolean nextExit) {
    return streams.waitForExit(id, nextExit);
  }

  @Override
  public ExitWait registerExitWait(String id, boolean nextExit) {
    return streams.registerExitWait(id, nextExit);
  }

  @Override
  public void start(String id) {
    bounded(callTimeout, "start container " + shortId(id), () -> {
      doStart(id);
      return null;
    });
  }

  private void doStart(String id) {
    try (DockerHttpClient.Response r =
        transport.execute("POST", "/containers/" + id + "/start", null)) {
      if (r.getStatusCode() != 204 && r.getStatusCode() != 304) {
        throw EngineTransport.failure(r, "POST /containers/" + id + "/start");
      }
    }
  }

  @Override
  public boolean stop(String id, int graceSeconds) {
    return bounded(typedTimeout, "stop container " + shortId(id), () -> doStop(id, graceSeconds));
  }

  private boolean doStop(String id, int graceSeconds) {
    try {
      EngineTransport.retryingStale(
          () -> docker().stopContainerCmd(id).withTimeout(graceSeconds).exec());
      return true;
    } catch (NotFoundException | NotModifiedException e) {
      return false;
    } catch (DockerException e) {
      throw new EngineException("cannot stop container " + shortId(id) + ": " + e.getMessage(),
          e.getHttpStatus(), e);
    } catch (RuntimeException e) {
      throw new EngineException(
          "cannot stop container " + shortId(id) + ": " + describeFailure(e), 0, e);
    }
  }

  @Override
  public boolean remove(String id) {
    return bounded(typedTimeout, "remove container " + shortId(id), () -> doRemove(id));
  }

  private boolean doRemove(String id) {
    try {
      EngineTransport.retryingStale(
          () -> docker().removeContainerCmd(id).withForce(true).withRemoveVolumes(true).exec());
      return true;
    } catch (NotFoundException e) {
      return false;
    } catch (ConflictException e) {
      // 409: the engine is already removing it (auto-remove after stop); wait until it is gone.
      return awaitGone(id);
    } catch (DockerException e) {
      throw new EngineException("cannot remove container " + shortId(id) + ": " + e.getMessage(),
          e.getHttpStatus(), e);
    } catch (RuntimeException e) {
      throw new EngineException(
          "cannot remove container " + shortId(id) + ": " + describeFailure(e), 0, e);
    }
  }

  /**
   * Waits until a container the engine is removing is gone: one {@code POST
   * /containers/{id}/wait?condition=removed}, which the engine answers once it is (404: already
   * gone), then one inspect to confirm; an engine that refuses the condition, or whose answer
   * came early, is polled as before. At most 15 s in all.
   */
  private boolean awaitGone(String id) {
    long deadline = System.nanoTime() + REMOVAL_WAIT.toNanos();
    try {
      boolean answered = transport.bounded(REMOVAL_WAIT, "wait for the removal of container "
          + shortId(id), () -> waitRemoved(id));
      if (answered && inspect(id).isEmpty()) {
        return true;
      }
    } catch (EngineException e) {
      LOG.debug("waiting for the removal of container {} failed ({}); polling instead",
          shortId(id), e.getMessage());
    }
    return pollGone(id, deadline);
  }

  /** Whether the engine answered the removal wait as done (200) or the container gone (404). */
  private boolean waitRemoved(String id) {
    try (DockerHttpClient.Response r =
        transport.execute("POST", "/containers/" + id + "/wait?condition=removed", null)) {
      EngineTransport.readBody(r);
      return r.getStatusCode() == 200 || r.getStatusCode() == 404;
    } catch (IOException e) {
      throw new EngineException("cannot wait for the removal of container " + shortId(id) + ": "
          + e, 0, e);
    }
  }

  private boolean pollGone(String id, long deadline) {
    while (System.nanoTime() < deadline) {
      if (inspect(id).isEmpty()) {
        return true;
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    throw new EngineException(
        "container " + shortId(id) + " is still present 15 s after its removal began", 409, null);
  }

  @Override
  public Optional<ContainerInfo> inspect(String id) {
    return queries.inspect(id);
  }

  @Override
  public Logs logs(String id) {
    return streams.logs(id);
  }

  @Override
  public List<ContainerSummary> listByLabel(String key, String value) {
    return bounded(typedTimeout, "list containers", () -> doListByLabel(key, value));
  }

  private List<ContainerSummary> doListByLabel(String key, String value) {
    try {
      List<Container> list = EngineTransport.retryingStale(() -> docker().listContainersCmd()
          .withShowAll(true).withLabelFilter(Map.of(key, value)).exec());
      List<ContainerSummary> out = new ArrayList<>();
      for (Container c : list) {
        out.add(new ContainerSummary(c.getId(), String.valueOf(c.getState()),
            c.getLabels() == null ? Map.of() : Map.copyOf(c.getLabels())));
      }
      return out;
    } catch (DockerException e) {
      throw new EngineException("cannot list containers: " + e.getMessage(), e.getHttpStatus(), e);
    } catch (RuntimeException e) {
      throw new EngineException("cannot list containers: " + describeFailure(e), 0, e);
    }
  }

  @Override
  public Map<String, List<String>> runtimes() {
    return queries.runtimes();
  }

  @Override
  public String defaultRuntime() {
    return queries.defaultRuntime();
  }

  @Override
  public EngineFacts facts() {
    return facts;
  }

  @Override
  public boolean rootless() {
    Boolean r = rootless;
    if (r == null) {
      r = queries.rootless();
      rootless = r;
    }
    return r;
  }

  @Override
  public void close() {
    synchronized (typedLock) {
      closed = true;
      if (docker != null) {
        EngineTransport.closeQuietly(docker);
        EngineTransport.closeQuietly(typed);
      }
    }
    // closing the stream client cuts the connections of attach and wait streams still being read
    streams.close();
    transport.close();
  }

  /**
   * A view of this connection for one user (a runner): the same plain and typed clients, the
   * facts and the cached rootless answer, but attach and wait on a stream client of its own, so
   * that closing the view cuts only its own streams. Closing the view runs {@code onClose} (once)
   * and leaves this connection open.
   *
   * @param onClose run at the view's first close, e.g. to give back a share of this connection
   */
  Engine lease(Runnable onClose) {
    return new EngineLease(this, new EngineStreams(transport), onClose);
  }

  static String shortId(String id) {
    return id.length() > 12 ? id.substring(0, 12) : id;
  }

  static String urlEncode(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }
}
