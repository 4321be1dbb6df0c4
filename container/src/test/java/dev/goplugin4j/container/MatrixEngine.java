package dev.goplugin4j.container;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The container engines of the compatibility matrix, as {@code scripts/setup-engine.sh --all}
 * sets them up: rootful Docker, rootless Docker of the test user, and Podman rootful and rootless,
 * one Podman service per OCI runtime (Podman's Docker-compatible API ignores {@code
 * HostConfig.Runtime}, so the runtime is the service's default).
 *
 * <p>A missing engine is a test failure naming the setup command, never a skip.
 */
enum MatrixEngine {
  ROOTFUL_DOCKER("rootful Docker", false, false),
  ROOTLESS_DOCKER("rootless Docker", true, false),
  ROOTFUL_PODMAN("rootful Podman", false, true),
  ROOTLESS_PODMAN("rootless Podman", true, true);

  /** The setup command that provides every engine here. */
  static final String SETUP = "scripts/setup-engine.sh --all (as root)";

  private final String label;
  private final boolean rootless;
  private final boolean podman;

  MatrixEngine(String label, boolean rootless, boolean podman) {
    this.label = label;
    this.rootless = rootless;
    this.podman = podman;
  }

  boolean rootless() {
    return rootless;
  }

  boolean podman() {
    return podman;
  }

  /** The endpoint that runs containers under {@code runtime} ({@code runc} or {@code runsc}). */
  String endpoint(String runtime) {
    if (!runtime.equals("runc") && !runtime.equals("runsc")) {
      throw new IllegalArgumentException("runtime " + runtime);
    }
    String xdg = "/run/user/" + TestUser.get().uid();
    String suffix = runtime.equals("runsc") ? "-runsc" : "";
    switch (this) {
      case ROOTFUL_DOCKER:
        return "unix:///var/run/docker.sock";
      case ROOTLESS_DOCKER:
        return "unix://" + xdg + "/docker.sock";
      case ROOTFUL_PODMAN:
        return "unix:///run/podman/podman" + suffix + ".sock";
      case ROOTLESS_PODMAN:
        return "unix://" + xdg + "/podman/podman" + suffix + ".sock";
      default:
        throw new AssertionError(this);
    }
  }

  /** Every endpoint of this engine (one per runtime for Podman). */
  List<String> endpoints() {
    Set<String> all = new LinkedHashSet<>();
    all.add(endpoint("runc"));
    all.add(endpoint("runsc"));
    return List.copyOf(all);
  }

  /**
   * The endpoint, after checking that its socket exists.
   *
   * @throws IllegalStateException naming the setup command when it does not
   */
  String requireEndpoint(String runtime) {
    String endpoint = endpoint(runtime);
    Path socket = Path.of(endpoint.substring("unix://".length()));
    if (!Files.exists(socket)) {
      throw new IllegalStateException(
          label + " (" + runtime + ") is not set up: no socket " + socket + "; run " + SETUP);
    }
    return endpoint;
  }

  @Override
  public String toString() {
    return label;
  }
}
