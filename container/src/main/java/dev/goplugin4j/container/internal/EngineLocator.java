package dev.goplugin4j.container.internal;

import dev.goplugin4j.container.EngineUnavailableException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds a container engine, trying in order: an explicit endpoint (then only it), {@code
 * DOCKER_HOST}, the rootful Docker socket, the rootless Docker socket ({@code
 * $XDG_RUNTIME_DIR/docker.sock}), Podman's rootful and rootless sockets. Each attempt is recorded;
 * when all fail, {@link EngineUnavailableException} lists them.
 */
public final class EngineLocator {
  private static final Logger LOG = LoggerFactory.getLogger(EngineLocator.class);

  /** Docker's rootful socket. */
  public static final String DOCKER_ROOTFUL = "/var/run/docker.sock";

  /** Podman's rootful socket. */
  public static final String PODMAN_ROOTFUL = "/run/podman/podman.sock";

  private final String explicit;
  private final Map<String, String> env;
  private final String dockerRootful;
  private final String podmanRootful;

  /**
   * A locator.
   *
   * @param explicit the configured endpoint, or null to discover
   * @param env the environment to read {@code DOCKER_HOST}, {@code DOCKER_CERT_PATH}, {@code
   *     DOCKER_TLS_VERIFY} and {@code XDG_RUNTIME_DIR} from
   */
  public EngineLocator(String explicit, Map<String, String> env) {
    this(explicit, env, DOCKER_ROOTFUL, PODMAN_ROOTFUL);
  }

  /** A locator with other well-known socket paths (tests). */
  public EngineLocator(String explicit, Map<String, String> env, String dockerRootful,
      String podmanRootful) {
    this.explicit = explicit;
    this.env = Map.copyOf(env);
    this.dockerRootful = dockerRootful;
    this.podmanRootful = podmanRootful;
  }

  /**
   * What decides where this locator looks: the explicit endpoint, or the environment variables
   * it reads and the well-known paths. Two locators with the same key find the same engine, so
   * an {@link EngineShare} keeps one connection per key.
   */
  String key() {
    if (explicit != null) {
      return "explicit " + explicit;
    }
    StringBuilder k = new StringBuilder("discover ").append(dockerRootful).append(' ')
        .append(podmanRootful);
    for (String name : List.of("DOCKER_HOST", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH",
        "XDG_RUNTIME_DIR", "HOME")) {
      k.append('\0').append(name).append('=').append(env.getOrDefault(name, ""));
    }
    return k.toString();
  }

  /** One place to look. {@code endpoint} is null when the place is not applicable. */
  record Candidate(String source, String endpoint, String notApplicable) {}

  List<Candidate> candidates() {
    List<Candidate> list = new ArrayList<>();
    if (explicit != null) {
      list.add(new Candidate("configured engineEndpoint", explicit, null));
      return list;
    }
    String dockerHost = env.get("DOCKER_HOST");
    list.add(dockerHost == null || dockerHost.isEmpty()
        ? new Candidate("DOCKER_HOST", null, "not set")
        : new Candidate("DOCKER_HOST", dockerHost, null));
    list.add(new Candidate("rootful Docker", "unix://" + dockerRootful, null));
    String xdg = env.get("XDG_RUNTIME_DIR");
    boolean hasXdg = xdg != null && !xdg.isEmpty();
    list.add(hasXdg
        ? new Candidate("rootless Docker", "unix://" + xdg + "/docker.sock", null)
        : new Candidate("rootless Docker ($XDG_RUNTIME_DIR/docker.sock)", null,
            "XDG_RUNTIME_DIR not set"));
    list.add(new Candidate("rootful Podman", "unix://" + podmanRootful, null));
    list.add(hasXdg
        ? new Candidate("rootless Podman", "unix://" + xdg + "/podman/podman.sock", null)
        : new Candidate("rootless Podman ($XDG_RUNTIME_DIR/podman/podman.sock)", null,
            "XDG_RUNTIME_DIR not set"));
    return list;
  }

  /**
   * Connects to the first engine that answers.
   *
   * @throws EngineUnavailableException listing every attempt when none answers
   */
  public DockerJavaEngine connect() {
    List<String> attempts = new ArrayList<>();
    RuntimeException last = null;
    for (Candidate c : candidates()) {
      if (c.endpoint() == null) {
        attempts.add(c.source() + ": " + c.notApplicable());
        continue;
      }
      Optional<String> unusable = precheck(c.endpoint());
      if (unusable.isPresent()) {
        attempts.add(c.source() + " " + c.endpoint() + ": " + unusable.get());
        continue;
      }
      try {
        String certPath = c.source().equals("DOCKER_HOST") ? tlsCertPath() : null;
        DockerJavaEngine engine = DockerJavaEngine.connect(c.endpoint(), certPath);
        LOG.debug("using container engine {} (from {})", engine.describe(), c.source());
        return engine;
      } catch (RuntimeException e) {
        last = e;
        attempts.add(c.source() + " " + c.endpoint() + ": " + e.getMessage());
        if (c.source().equals("DOCKER_HOST")) {
          LOG.warn("DOCKER_HOST={} does not answer ({}); trying the well-known sockets",
              c.endpoint(), e.getMessage());
        }
      }
    }
    StringBuilder m = new StringBuilder("no container engine could be reached; tried:");
    for (String a : attempts) {
      m.append("\n  - ").append(a);
    }
    m.append("\nStart the engine (for Docker as root without systemd: scripts/setup-engine.sh),"
        + " or point DOCKER_HOST or ContainerConfig.engineEndpoint at its socket.");
    throw new EngineUnavailableException(m.toString(), attempts, last);
  }

  private static Optional<String> precheck(String endpoint) {
    URI uri;
    try {
      uri = URI.create(endpoint);
    } catch (IllegalArgumentException e) {
      return Optional.of("not a URI (" + e.getMessage() + ")");
    }
    if ("unix".equals(uri.getScheme())) {
      Path p = Path.of(uri.getPath());
      if (!Files.exists(p)) {
        return Optional.of("no such socket");
      }
      if (!Files.isReadable(p) || !Files.isWritable(p)) {
        return Optional.of("permission denied (add the user to the engine's group)");
      }
      return Optional.empty();
    }
    if ("tcp".equals(uri.getScheme())) {
      return Optional.empty();
    }
    return Optional.of("unsupported scheme (use unix:// or tcp://)");
  }

  private String tlsCertPath() {
    String verify = env.get("DOCKER_TLS_VERIFY");
    if (verify == null || verify.isEmpty() || verify.equals("0")) {
      return null;
    }
    String path = env.get("DOCKER_CERT_PATH");
    if (path == null || path.isEmpty()) {
      String home = env.getOrDefault("HOME", System.getProperty("user.home"));
      path = home + "/.docker";
    }
    return path;
  }
}
