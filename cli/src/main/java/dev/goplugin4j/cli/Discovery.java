package dev.goplugin4j.cli;

import dev.goplugin4j.container.EngineUnavailableException;
import dev.goplugin4j.container.internal.Engine;
import dev.goplugin4j.container.internal.EngineLocator;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Engine discovery as the container runner does it, with every place reported. Each place is
 * tried through the runner's own {@link EngineLocator} (as an explicit endpoint), so the checks
 * and error texts are the library's; the chosen engine is the one the locator itself picks.
 */
final class Discovery {
  private Discovery() {}

  /**
   * One place to look.
   *
   * @param source what it is ({@code DOCKER_HOST}, {@code rootful Docker}, ...)
   * @param endpoint the endpoint, or null when the place does not apply
   * @param why why it does not apply, or null
   */
  record Place(String source, String endpoint, String why) {}

  /** Result of discovery: the rows, and the engine the runner would use (to be closed), if any. */
  record Result(List<Check> checks, Optional<Engine> engine) {}

  /** The places in the runner's order (see docs/containers.md, "Finding the engine"). */
  static List<Place> places(String explicit, Map<String, String> env) {
    List<Place> list = new ArrayList<>();
    if (explicit != null) {
      list.add(new Place("--engine", explicit, null));
      return list;
    }
    String dockerHost = env.get("DOCKER_HOST");
    list.add(dockerHost == null || dockerHost.isEmpty()
        ? new Place("DOCKER_HOST", null, "not set")
        : new Place("DOCKER_HOST", dockerHost, null));
    list.add(new Place("rootful Docker", "unix://" + EngineLocator.DOCKER_ROOTFUL, null));
    String xdg = env.get("XDG_RUNTIME_DIR");
    boolean hasXdg = xdg != null && !xdg.isEmpty();
    list.add(hasXdg ? new Place("rootless Docker", "unix://" + xdg + "/docker.sock", null)
        : new Place("rootless Docker", null, "XDG_RUNTIME_DIR not set"));
    list.add(new Place("rootful Podman", "unix://" + EngineLocator.PODMAN_ROOTFUL, null));
    list.add(hasXdg
        ? new Place("rootless Podman", "unix://" + xdg + "/podman/podman.sock", null)
        : new Place("rootless Podman", null, "XDG_RUNTIME_DIR not set"));
    return list;
  }

  /** Tries every place, then lets the runner's locator choose. */
  static Result run(String explicit, Map<String, String> env) {
    List<Check> checks = new ArrayList<>();
    Engine chosen;
    String failure = null;
    try {
      chosen = new EngineLocator(explicit, env).connect();
    } catch (EngineUnavailableException e) {
      chosen = null;
      failure = String.join("; ", e.attempts());
    }
    for (Place p : places(explicit, env)) {
      String name = p.source() + (p.endpoint() == null ? "" : " " + p.endpoint());
      if (p.endpoint() == null) {
        checks.add(Check.info("discovery", p.source(), "skipped: " + p.why()));
        continue;
      }
      if (chosen != null && chosen.endpoint().equals(p.endpoint())) {
        checks.add(Check.ok("discovery", name, "answers (API " + chosen.apiVersion()
            + "): chosen"));
        // places after the chosen one are never tried by the runner, but worth knowing
        continue;
      }
      String reason = tryOne(p.endpoint(), env);
      if (reason == null) {
        checks.add(Check.info("discovery", name, chosen == null
            ? "answers" : "answers too, but not used (the runner takes the first that answers;"
                + " set DOCKER_HOST or ContainerConfig.engineEndpoint to choose it)"));
      } else if (p.source().equals("DOCKER_HOST") || p.source().equals("--engine")) {
        checks.add(Check.warn("discovery", name, reason, p.source().equals("--engine")
            ? "start the engine at " + p.endpoint() + ", or give the endpoint of one that runs"
            : "DOCKER_HOST points at an engine that does not answer (the runner warns and tries"
                + " the well-known sockets): start it, or fix or unset DOCKER_HOST"));
      } else {
        checks.add(Check.info("discovery", name, reason));
      }
    }
    if (chosen == null) {
      checks.add(Check.fail("discovery", "container engine", "none answers",
          "start the engine (Docker as root without systemd: scripts/setup-engine.sh, or"
              + " `dockerd >/var/log/dockerd.log 2>&1 &`), or point DOCKER_HOST (or --engine) at"
              + " its socket. Tried: " + failure));
    }
    return new Result(checks, Optional.ofNullable(chosen));
  }

  /** Null when the endpoint answers, else why not, in the runner's words. */
  private static String tryOne(String endpoint, Map<String, String> env) {
    try {
      new EngineLocator(endpoint, env).connect().close();
      return null;
    } catch (EngineUnavailableException e) {
      String a = e.attempts().isEmpty() ? e.getMessage() : e.attempts().get(0);
      String prefix = "configured engineEndpoint " + endpoint + ": ";
      return a.startsWith(prefix) ? a.substring(prefix.length()) : a;
    }
  }
}
