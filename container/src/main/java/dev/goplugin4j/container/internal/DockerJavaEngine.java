package dev.goplugin4j.container.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.exception.ConflictException;
import com.github.dockerjava.api.exception.DockerException;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.exception.NotModifiedException;
import com.github.dockerjava.api.model.Container;
import com.github.dockerjava.api.model.Image;
import com.github.dockerjava.core.DefaultDockerClientConfig;
import com.github.dockerjava.core.DockerClientImpl;
import com.github.dockerjava.httpclient5.ApacheDockerHttpClient;
import com.github.dockerjava.transport.DockerHttpClient;
import com.github.dockerjava.transport.DockerHttpClient.Request;
import com.github.dockerjava.transport.DockerHttpClient.Response;
import dev.goplugin4j.container.EndpointConfig;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link Engine} over docker-java's Apache httpclient5 transport. Typed calls (stop, remove,
 * listings) go through docker-java's {@link DockerClient}, so "already gone" is recognised by
 * exception type ({@link NotFoundException}); what docker-java 3.5.3 cannot express (a bind mount
 * with {@code NonRecursive}, {@code NetworkingConfig}, the wait condition, an attach that must be
 * accepted before start) is sent as raw Engine API requests through the same transport.
 */
public final class DockerJavaEngine implements Engine {
  private static final Logger LOG = LoggerFactory.getLogger(DockerJavaEngine.class);

  /** The newest API version whose request shapes this adapter knows. */
  static final String MAX_API_VERSION = "1.43";

  /** The oldest API version with what the runner needs ({@code BindOptions.NonRecursive}). */
  static final String MIN_API_VERSION = "1.40";

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

  /** How long connecting to the engine's socket may take. */
  static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final AtomicInteger THREAD_IDS = new AtomicInteger();

  private final String endpoint;
  private final String apiVersion;
  private final EngineFacts facts;
  /** Plain calls, bounded by {@link #CALL_TIMEOUT}. */
  private final DockerHttpClient http;
  /** Attach and wait: their answers take as long as the container runs, so no response timeout. */
  private final DockerHttpClient streams;
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
      DockerHttpClient http, DockerHttpClient streams, DefaultDockerClientConfig typedConfig,
      Duration callTimeout) {
    this.endpoint = endpoint;
    this.apiVersion = apiVersion;
    this.facts = facts;
    this.http = http;
    this.streams = streams;
    this.typedConfig = typedConfig;
    this.callTimeout = callTimeout;
    this.typedTimeout = callTimeout.plus(MAX_KILL_GRACE);
  }

  /**
   * Connects to an engine and negotiates the API version: the lower of the engine's and {@value
   * #MAX_API_VERSION}, refusing engines older than {@value #MIN_API_VERSION}. One {@code GET
   * /_ping} (as Docker's Go client negotiates): its {@code API-Version} header gives the version
   * and a {@code Libpod-API-Version} header tells Podman. Only Podman, or an engine whose ping
   * carries no version, is also asked {@code GET /version}, which Docker answers slowly (it runs
   * {@code runc --version} each time).
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
    DockerHttpClient http = transport(endpoint, probeConfig, callTimeout);
    try {
      Map<String, String> ping = bounded(endpoint, callTimeout, "GET /_ping",
          () -> ping(http, endpoint));
      EngineFacts facts;
      String version;
      if (pingNeedsVersion(ping)) {
        // Podman (whose default runtime only /version names), or an engine that does not say
        JsonNode versionInfo = bounded(endpoint, callTimeout, "GET /version",
            () -> version(http, endpoint));
        version = negotiate(versionInfo, endpoint);
        facts = facts(versionInfo);
      } else {
        version = negotiate(ping.get("api-version"), endpoint);
        facts = new EngineFacts(false, "");
      }
      return new DockerJavaEngine(endpoint, version, facts, http,
          transport(endpoint, probeConfig, null), cfg.withApiVersion(version).build(),
          callTimeout);
    } catch (RuntimeException e) {
      closeQuietly(http);
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
        typed = transport(endpoint, typedConfig, typedTimeout);
        docker = DockerClientImpl.getInstance(typedConfig, typed);
      }
      return docker;
    }
  }

  /** A transport; {@code responseTimeout} null for none (streams last as long as a container). */
  private static DockerHttpClient transport(String endpoint, DefaultDockerClientConfig config,
      Duration responseTimeout) {
    ApacheDockerHttpClient.Builder b = new ApacheDockerHttpClient.Builder()
        .dockerHost(URI.create(endpoint))
        .sslConfig(config.getSSLConfig())
        .maxConnections(32)
        .connectionTimeout(CONNECT_TIMEOUT);
    if (responseTimeout != null) {
      b.responseTimeout(responseTimeout);
    }
    return b.build();
  }

  private <T> T bounded(Duration timeout, String what, java.util.function.Supplier<T> call) {
    return bounded(endpoint, timeout, what, call);
  }

  /**
   * Runs an engine call on this thread, bounded by {@code timeout}: docker-java's Unix socket
   * ignores the transport's socket timeouts (it wraps a blocking {@code SocketChannel}), so a
   * watchdog interrupts the thread, which closes the stuck connection (an interruptible channel)
   * and fails the call. The interrupt flag is cleared again afterwards.
   */
  static <T> T bounded(String endpoint, Duration timeout, String what,
      java.util.function.Supplier<T> call) {
    Watchdog w = Watchdog.arm(timeout);
    try {
      return call.get();
    } catch (RuntimeException e) {
      if (w.fired()) {
        throw new EngineException("cannot " + what.replaceFirst("^(GET|POST) ", "call $1 ")
            + ": the engine at " + endpoint + " did not answer in time (" + timeout.toSeconds()
            + " s): check that it is healthy, e.g. with `docker info`, and restart it if it hangs",
            0, e);
      }
      throw e;
    } finally {
      w.disarm();
    }
  }

  /** Interrupts the calling thread once the timeout passes, unless disarmed before. */
  private static final class Watchdog {
    private final Thread thread = Thread.currentThread();
    private boolean done;
    private boolean fired;

    static Watchdog arm(Duration timeout) {
      Watchdog w = new Watchdog();
      CompletableFuture.delayedExecutor(timeout.toMillis(),
          java.util.concurrent.TimeUnit.MILLISECONDS).execute(w::fire);
      return w;
    }

    private synchronized void fire() {
      if (!done) {
        fired = true;
        thread.interrupt();
      }
    }

    synchronized boolean fired() {
      return fired;
    }

    void disarm() {
      boolean f;
      synchronized (this) {
        done = true;
        f = fired;
      }
      if (f) {
        Thread.interrupted(); // ours, not the caller's
      }
    }
  }

  /**
   * Whether the headers of {@code GET /_ping} (names in lower case) leave {@code GET /version} to
   * ask: for Podman ({@code Libpod-API-Version}), whose default runtime only {@code /version}
   * names, and for an engine whose ping gives no {@code API-Version}.
   */
  static boolean pingNeedsVersion(Map<String, String> ping) {
    return ping.getOrDefault("api-version", "").isEmpty()
        || ping.containsKey("libpod-api-version");
  }

  /** The headers of {@code GET /_ping}, names in lower case. */
  private static Map<String, String> ping(DockerHttpClient http, String endpoint) {
    try (Response r = http.execute(Request.builder().method(Request.Method.GET).path("/_ping")
        .build())) {
      byte[] body = readBody(r);
      if (r.getStatusCode() != 200) {
        throw new EngineException(
            "GET /_ping answered " + r.getStatusCode() + ": " + text(body), r.getStatusCode(),
            null);
      }
      Map<String, String> headers = new TreeMap<>();
      r.getHeaders().forEach((k, v) -> {
        if (k != null && v != null && !v.isEmpty()) {
          headers.put(k.toLowerCase(java.util.Locale.ROOT), v.get(0));
        }
      });
      return headers;
    } catch (IOException | RuntimeException e) {
      if (e instanceof EngineException) {
        throw (EngineException) e;
      }
      throw new EngineException(describeFailure(e), 0, e);
    }
  }

  private static JsonNode version(DockerHttpClient http, String endpoint) {
    try (Response r = http.execute(Request.builder().method(Request.Method.GET).path("/version")
        .build())) {
      byte[] body = r.getBody().readAllBytes();
      if (r.getStatusCode() != 200) {
        throw new EngineException(
            "GET /version answered " + r.getStatusCode() + ": " + text(body), r.getStatusCode(),
            null);
      }
      return JSON.readTree(body);
    } catch (IOException | RuntimeException e) {
      if (e instanceof EngineException) {
        throw (EngineException) e;
      }
      throw new EngineException(describeFailure(e), 0, e);
    }
  }

  /**
   * Podman's {@code /version} lists the components "Podman Engine" and "OCI Runtime (name)"; Docker
   * lists "Engine", "containerd", "runc"...
   */
  static EngineFacts facts(JsonNode version) {
    boolean podman = false;
    String runtime = "";
    for (JsonNode c : version.path("Components")) {
      String name = c.path("Name").asText("");
      if (name.startsWith("Podman")) {
        podman = true;
      } else if (name.startsWith("OCI Runtime (") && name.endsWith(")")) {
        runtime = name.substring("OCI Runtime (".length(), name.length() - 1);
      }
    }
    return new EngineFacts(podman, podman ? runtime : "");
  }

  /** Docker: {@code name=rootless} among {@code SecurityOptions}; Podman: {@code Rootless}. */
  static boolean rootless(JsonNode info) {
    if (info.path("Rootless").asBoolean(false)) {
      return true;
    }
    for (JsonNode o : info.path("SecurityOptions")) {
      if (o.asText("").equals("name=rootless")) {
        return true;
      }
    }
    return false;
  }

  private static String negotiate(JsonNode v, String endpoint) {
    return negotiate(v.path("ApiVersion").asText(""), endpoint);
  }

  /** The API version to speak with an engine that speaks {@code server} (empty: unknown). */
  static String negotiate(String server, String endpoint) {
    if (server.isEmpty()) {
      throw new EngineException(endpoint + " is not a Docker Engine API (no ApiVersion)", 0, null);
    }
    if (compareVersions(server, MIN_API_VERSION) < 0) {
      throw new EngineException(
          "the engine at " + endpoint + " speaks API " + server + ", older than the "
              + MIN_API_VERSION + " the container runner needs (Docker 19.03+, Podman 3+)",
          0, null);
    }
    return compareVersions(server, MAX_API_VERSION) < 0 ? server : MAX_API_VERSION;
  }

  static int compareVersions(String a, String b) {
    String[] x = a.split("\\.");
    String[] y = b.split("\\.");
    for (int i = 0; i < Math.max(x.length, y.length); i++) {
      int p = i < x.length ? parseOr0(x[i]) : 0;
      int q = i < y.length ? parseOr0(y[i]) : 0;
      if (p != q) {
        return Integer.compare(p, q);
      }
    }
    return 0;
  }

  private static int parseOr0(String s) {
    try {
      return Integer.parseInt(s);
    } catch (NumberFormatException e) {
      return 0;
    }
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
      List<Image> images = docker().listImagesCmd().withReferenceFilter(reference).exec();
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
      body = JSON.writeValueAsBytes(createBody(spec));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    JsonNode answer = requestJson("POST", "/containers/create", body, 201);
    return answer.path("Id").asText();
  }

  /** The Engine API {@code ContainerCreateRequest} body. */
  static ObjectNode createBody(ContainerSpec s) {
    ObjectNode c = JSON.createObjectNode();
    c.put("Image", s.image());
    strings(c.putArray("Env"), s.env());
    if (s.entrypoint() != null) {
      strings(c.putArray("Entrypoint"), s.entrypoint());
    }
    if (s.cmd() != null) {
      strings(c.putArray("Cmd"), s.cmd());
    }
    c.put("AttachStdin", false);
    c.put("AttachStdout", true);
    c.put("AttachStderr", true);
    c.put("OpenStdin", false);
    c.put("Tty", false);
    c.put("NetworkDisabled", s.networkDisabled());
    ObjectNode labels = c.putObject("Labels");
    new TreeMap<>(s.labels()).forEach(labels::put);

    ObjectNode h = c.putObject("HostConfig");
    if (s.networkDisabled()) {
      // Podman's compatible API ignores NetworkDisabled (the container would get a network, and
      // rootless a slirp4netns); NetworkMode none is honoured by Docker and Podman alike.
      h.put("NetworkMode", "none");
    }
    h.put("AutoRemove", s.autoRemove());
    h.putObject("RestartPolicy").put("Name", "no");
    if (!s.runtime().isEmpty()) {
      h.put("Runtime", s.runtime());
    }
    h.put("NanoCpus", s.nanoCpus());
    h.put("Memory", s.memory());
    if (!s.cgroupParent().isEmpty()) {
      h.put("CgroupParent", s.cgroupParent());
    }
    strings(h.putArray("CapDrop"), s.capDrop());
    if (!s.capAdd().isEmpty()) {
      strings(h.putArray("CapAdd"), s.capAdd());
    }
    if (!s.groupAdd().isEmpty()) {
      strings(h.putArray("GroupAdd"), s.groupAdd());
    }
    if (!s.securityOpt().isEmpty()) {
      strings(h.putArray("SecurityOpt"), s.securityOpt());
    }
    if (s.pidsLimit() > 0) {
      h.put("PidsLimit", s.pidsLimit());
    }
    h.put("ReadonlyRootfs", s.readOnlyRootFs());
    if (!s.tmpfs().isEmpty()) {
      ObjectNode t = h.putObject("Tmpfs");
      s.tmpfs().forEach(t::put);
    }
    ObjectNode mount = h.putArray("Mounts").addObject();
    mount.put("Type", "bind");
    mount.put("Source", s.bindSource());
    mount.put("Target", s.bindTarget());
    mount.put("ReadOnly", false);
    mount.put("Consistency", "default");
    ObjectNode bind = mount.putObject("BindOptions");
    // Private propagation, and only this directory: nothing mounted below it on the host
    // becomes visible in the container.
    bind.put("Propagation", "private");
    bind.put("NonRecursive", true);

    if (!s.endpoints().isEmpty()) {
      ObjectNode eps = c.putObject("NetworkingConfig").putObject("EndpointsConfig");
      for (Map.Entry<String, EndpointConfig> e : new TreeMap<>(s.endpoints()).entrySet()) {
        EndpointConfig ep = e.getValue();
        ObjectNode n = eps.putObject(e.getKey());
        if (!ep.networkId().isEmpty()) {
          n.put("NetworkID", ep.networkId());
        }
        if (!ep.aliases().isEmpty()) {
          strings(n.putArray("Aliases"), ep.aliases());
        }
        if (!ep.links().isEmpty()) {
          strings(n.putArray("Links"), ep.links());
        }
        if (!ep.ipv4Address().isEmpty() || !ep.ipv6Address().isEmpty()) {
          ObjectNode ipam = n.putObject("IPAMConfig");
          if (!ep.ipv4Address().isEmpty()) {
            ipam.put("IPv4Address", ep.ipv4Address());
          }
          if (!ep.ipv6Address().isEmpty()) {
            ipam.put("IPv6Address", ep.ipv6Address());
          }
        }
        if (!ep.driverOpts().isEmpty()) {
          ObjectNode o = n.putObject("DriverOpts");
          new TreeMap<>(ep.driverOpts()).forEach(o::put);
        }
      }
    }
    return c;
  }

  private static void strings(ArrayNode a, List<String> values) {
    values.forEach(a::add);
  }

  @Override
  public InputStream attach(String id) {
    // bounded until the engine accepts the attachment; the stream itself is not
    Response r = bounded(callTimeout, "attach to container " + shortId(id), () -> execute(streams,
        "POST", "/containers/" + id + "/attach?stream=1&stdout=1&stderr=1&logs=0", null));
    if (r.getStatusCode() != 200 && r.getStatusCode() != 101) {
      throw failure(r, "POST /containers/" + id + "/attach");
    }
    return new ResponseStream(r);
  }

  @Override
  public CompletableFuture<Long> waitForExit(String id, boolean nextExit) {
    String condition = nextExit ? "next-exit" : "not-running";
    Response r = bounded(callTimeout, "wait for container " + shortId(id), () -> execute(streams,
        "POST", "/containers/" + id + "/wait?condition=" + condition, null));
    if (r.getStatusCode() != 200) {
      throw failure(r, "POST /containers/" + id + "/wait");
    }
    // The engine sends the headers once the wait is registered, and the body at exit.
    CompletableFuture<Long> exit = new CompletableFuture<>();
    Thread t =
        daemonThread(
            "goplugin4j-container-wait-" + shortId(id),
            () -> {
              try (r) {
                JsonNode status = JSON.readTree(r.getBody());
                String error = status.path("Error").path("Message").asText("");
                if (!error.isEmpty()) {
                  LOG.debug("wait for container {} reported: {}", shortId(id), error);
                }
                exit.complete(status.path("StatusCode").asLong(-1));
              } catch (IOException | RuntimeException e) {
                exit.completeExceptionally(e);
              }
            });
    t.start();
    return exit;
  }

  @Override
  public void start(String id) {
    bounded(callTimeout, "start container " + shortId(id), () -> {
      doStart(id);
      return null;
    });
  }

  private void doStart(String id) {
    try (Response r = execute("POST", "/containers/" + id + "/start", null)) {
      if (r.getStatusCode() != 204 && r.getStatusCode() != 304) {
        throw failure(r, "POST /containers/" + id + "/start");
      }
    }
  }

  @Override
  public boolean stop(String id, int graceSeconds) {
    return bounded(typedTimeout, "stop container " + shortId(id), () -> doStop(id, graceSeconds));
  }

  private boolean doStop(String id, int graceSeconds) {
    try {
      docker().stopContainerCmd(id).withTimeout(graceSeconds).exec();
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
      docker().removeContainerCmd(id).withForce(true).withRemoveVolumes(true).exec();
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

  private boolean awaitGone(String id) {
    long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
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
    return bounded(callTimeout, "inspect container " + shortId(id), () -> doInspect(id));
  }

  private Optional<ContainerInfo> doInspect(String id) {
    try (Response r = execute("GET", "/containers/" + id + "/json", null)) {
      if (r.getStatusCode() == 404) {
        return Optional.empty();
      }
      byte[] body = readBody(r);
      if (r.getStatusCode() != 200) {
        throw new EngineException("GET /containers/" + shortId(id) + "/json answered "
            + r.getStatusCode() + ": " + text(body), r.getStatusCode(), null);
      }
      return Optional.of(toInfo(JSON.readTree(body)));
    } catch (IOException e) {
      throw new EngineException("cannot inspect container " + shortId(id) + ": " + e, 0, e);
    }
  }

  private static ContainerInfo toInfo(JsonNode j) {
    JsonNode state = j.path("State");
    JsonNode config = j.path("Config");
    Map<String, String> labels = new TreeMap<>();
    config.path("Labels").fields().forEachRemaining(e -> labels.put(e.getKey(),
        e.getValue().asText()));
    Map<String, String> binds = new LinkedHashMap<>();
    for (JsonNode m : j.path("Mounts")) {
      if ("bind".equals(m.path("Type").asText())) {
        binds.put(m.path("Destination").asText(), m.path("Source").asText());
      }
    }
    return new ContainerInfo(
        j.path("Id").asText(),
        config.path("Image").asText(),
        state.path("Status").asText(""),
        state.path("Running").asBoolean(false),
        state.path("ExitCode").asLong(0),
        state.path("Error").asText(""),
        state.path("OOMKilled").asBoolean(false),
        textList(config.path("Entrypoint")),
        textList(config.path("Cmd")),
        labels,
        binds,
        j);
  }

  private static List<String> textList(JsonNode n) {
    List<String> out = new ArrayList<>();
    if (n.isArray()) {
      n.forEach(e -> out.add(e.asText()));
    } else if (n.isTextual()) {
      out.add(n.asText());
    }
    return out;
  }

  @Override
  public Logs logs(String id) {
    return bounded(callTimeout, "read the logs of container " + shortId(id), () -> doLogs(id));
  }

  private Logs doLogs(String id) {
    try (Response r = execute("GET", "/containers/" + id + "/logs?stdout=1&stderr=1", null)) {
      if (r.getStatusCode() != 200) {
        throw failure(r, "GET /containers/" + id + "/logs");
      }
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      ByteArrayOutputStream err = new ByteArrayOutputStream();
      FrameDemuxer.copy(r.getBody(), out, err);
      return new Logs(out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new EngineException("cannot read logs of container " + shortId(id) + ": " + e, 0, e);
    }
  }

  @Override
  public List<ContainerSummary> listByLabel(String key, String value) {
    return bounded(typedTimeout, "list containers", () -> doListByLabel(key, value));
  }

  private List<ContainerSummary> doListByLabel(String key, String value) {
    try {
      List<Container> list =
          docker().listContainersCmd().withShowAll(true).withLabelFilter(Map.of(key, value)).exec();
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
    return bounded(callTimeout, "GET /info", () -> doRuntimes());
  }

  private Map<String, List<String>> doRuntimes() {
    JsonNode info = requestJson("GET", "/info", null, 200);
    Map<String, List<String>> out = new TreeMap<>();
    Iterator<Map.Entry<String, JsonNode>> it = info.path("Runtimes").fields();
    while (it.hasNext()) {
      Map.Entry<String, JsonNode> e = it.next();
      out.put(e.getKey(), textList(e.getValue().path("runtimeArgs")));
    }
    return out;
  }

  @Override
  public String defaultRuntime() {
    return bounded(callTimeout, "GET /info", () -> doDefaultRuntime());
  }

  private String doDefaultRuntime() {
    return requestJson("GET", "/info", null, 200).path("DefaultRuntime").asText("");
  }

  @Override
  public EngineFacts facts() {
    return facts;
  }

  @Override
  public boolean rootless() {
    Boolean r = rootless;
    if (r == null) {
      r = rootless(bounded(callTimeout, "GET /info",
          () -> requestJson("GET", "/info", null, 200)));
      rootless = r;
    }
    return r;
  }

  @Override
  public void close() {
    synchronized (typedLock) {
      closed = true;
      if (docker != null) {
        closeQuietly(docker);
        closeQuietly(typed);
      }
    }
    closeQuietly(http);
    // closing the pool cuts the connections of attach and wait streams still being read
    closeQuietly(streams);
  }

  private JsonNode requestJson(String method, String path, byte[] body, int expected) {
    try (Response r = execute(method, path, body)) {
      byte[] answer = readBody(r);
      if (r.getStatusCode() != expected) {
        throw new EngineException(method + " " + path + " answered " + r.getStatusCode() + ": "
            + text(answer), r.getStatusCode(), null);
      }
      return JSON.readTree(answer);
    } catch (IOException e) {
      throw new EngineException(method + " " + path + " failed: " + e, 0, e);
    }
  }

  private static byte[] readBody(Response r) throws IOException {
    InputStream in = r.getBody();
    return in == null ? new byte[0] : in.readAllBytes();
  }

  private Response execute(String method, String path, byte[] body) {
    return execute(http, method, path, body);
  }

  private Response execute(DockerHttpClient client, String method, String path, byte[] body) {
    Request.Builder b = Request.builder().method(method).path("/v" + apiVersion + path);
    if (body != null) {
      b.bodyBytes(body).putHeader("Content-Type", "application/json");
    }
    try {
      return client.execute(b.build());
    } catch (RuntimeException e) {
      throw new EngineException(method + " " + path + " on " + endpoint + " failed: "
          + describeFailure(e), 0, e);
    }
  }

  private static EngineException failure(Response r, String what) {
    String body;
    try (r) {
      body = text(readBody(r));
    } catch (IOException | RuntimeException e) {
      body = "(no body: " + e + ")";
    }
    return new EngineException(what + " answered " + r.getStatusCode() + ": " + body,
        r.getStatusCode(), null);
  }

  /** The engine's error message from a JSON error body, else the body as text. */
  private static String text(byte[] body) {
    String s = new String(body, StandardCharsets.UTF_8).strip();
    try {
      JsonNode n = JSON.readTree(s);
      if (n != null && n.has("message")) {
        return n.get("message").asText();
      }
    } catch (IOException | RuntimeException e) {
      // not JSON: keep the text
    }
    return s;
  }

  static String describeFailure(Throwable e) {
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    String msg = root.getMessage();
    String hint = root instanceof java.net.SocketTimeoutException
        ? " (the engine did not answer in time: check that it is healthy, e.g. with `docker info`,"
            + " and restart it if it hangs)"
        : "";
    return root.getClass().getSimpleName() + (msg == null ? "" : ": " + msg) + hint;
  }

  static String shortId(String id) {
    return id.length() > 12 ? id.substring(0, 12) : id;
  }

  static String urlEncode(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  private static Thread daemonThread(String name, Runnable r) {
    ThreadFactory f = run -> {
      Thread t = new Thread(run, name + "-" + THREAD_IDS.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
    return f.newThread(r);
  }

  private static void closeQuietly(AutoCloseable c) {
    try {
      c.close();
    } catch (Exception e) {
      LOG.debug("close failed", e);
    }
  }

  /** A response body that closes its response. */
  private static final class ResponseStream extends InputStream {
    private final Response response;
    private final InputStream in;

    ResponseStream(Response response) {
      this.response = response;
      this.in = response.getBody();
    }

    @Override
    public int read() throws IOException {
      return in.read();
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      return in.read(b, off, len);
    }

    @Override
    public void close() {
      response.close();
    }
  }
}
