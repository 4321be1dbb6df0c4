package dev.goplugin4j.container.internal;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Explains a runtime the engine does not know, or a gVisor registration that cannot work. */
final class RuntimeHints {
  private RuntimeHints() {}

  static Optional<String> hint(String runtime, Map<String, List<String>> registered,
      String endpoint) {
    if (registered.isEmpty()) {
      // Podman's compatible API reports no runtimes and ignores HostConfig.Runtime.
      return Optional.of("Hint: the engine at " + endpoint + " reports no runtimes; if it is"
          + " Podman, HostConfig.Runtime is ignored: choose the runtime in containers.conf");
    }
    List<String> args = registered.get(runtime);
    if (args == null) {
      return Optional.of("Hint: runtime \"" + runtime + "\" is not registered with the engine at "
          + endpoint + " (registered: " + String.join(", ", new java.util.TreeSet<>(registered.keySet())) + "; see"
          + " `docker info`); register it under \"runtimes\" in /etc/docker/daemon.json and"
          + " reload dockerd (kill -HUP), e.g. with scripts/setup-engine.sh");
    }
    return gvisorHint(runtime, args);
  }

  /**
   * The same check for the engine's default runtime, used when the config names no runtime:
   * an engine whose default is a gVisor runtime without a usable {@code --host-uds} fails every
   * plugin just as an explicitly requested one does.
   *
   * @param defaultRuntime the engine's {@code DefaultRuntime}, empty when unknown
   */
  static Optional<String> defaultRuntimeHint(String defaultRuntime,
      Map<String, List<String>> registered) {
    if (defaultRuntime.isEmpty()) {
      return Optional.empty();
    }
    List<String> args = registered.get(defaultRuntime);
    if (args == null) {
      return Optional.empty();
    }
    return gvisorHint(defaultRuntime, args).map(h -> h.replaceFirst("^Hint: runtime",
        "Hint: the engine's default runtime"));
  }

  private static Optional<String> gvisorHint(String runtime, List<String> args) {
    if (!runtime.equals("runsc") && args.stream().noneMatch(a -> a.contains("runsc"))) {
      return Optional.empty();
    }
    Optional<String> hostUds = hostUds(args);
    if (hostUds.isEmpty()) {
      return Optional.of("Hint: runtime \"" + runtime + "\" (gVisor) is registered without"
          + " --host-uds (runtimeArgs " + args + "): the plugin's socket never appears on the"
          + " host. Add \"--host-uds=all\" (old gVisor; \"create\" suffices on newer releases)"
          + " and, on old gVisor under kernel 6.x, \"--network=none\" to runtimeArgs");
    }
    String mode = hostUds.get();
    if (!mode.equals("create") && !mode.equals("all")) {
      return Optional.of("Hint: runtime \"" + runtime + "\" (gVisor) is registered with"
          + " --host-uds=" + mode + " (runtimeArgs " + args + "), which does not let the plugin"
          + " create its socket in the shared directory (\"open\" only connects to existing"
          + " sockets). Use \"--host-uds=all\" (old gVisor; \"create\" suffices on newer"
          + " releases) in runtimeArgs and reload the engine");
    }
    return Optional.empty();
  }

  /**
   * The value of gVisor's {@code --host-uds} flag among runtime arguments ({@code --host-uds=v},
   * {@code --host-uds v}, one dash alike); empty when absent. A bare flag reads as "true".
   */
  static Optional<String> hostUds(List<String> args) {
    for (int i = 0; i < args.size(); i++) {
      String a = args.get(i);
      String flag = a.startsWith("--") ? a.substring(2) : a.startsWith("-") ? a.substring(1) : "";
      if (flag.startsWith("host-uds=")) {
        return Optional.of(flag.substring("host-uds=".length()));
      }
      if (flag.equals("host-uds")) {
        return Optional.of(i + 1 < args.size() && !args.get(i + 1).startsWith("-")
            ? args.get(i + 1) : "true");
      }
    }
    return Optional.empty();
  }

  /**
   * When a Podman service would run the container under another runtime than the one asked for:
   * Podman's Docker-compatible API (and in Podman 4.3 its libpod API too) ignores the requested
   * runtime and uses the service's default.
   */
  static Optional<String> podmanRuntimeMismatch(String runtime, EngineFacts facts,
      String endpoint) {
    if (!facts.podman() || facts.defaultRuntime().isEmpty()
        || facts.defaultRuntime().equals(runtime)) {
      return Optional.empty();
    }
    return Optional.of("the Podman service at " + endpoint + " runs every container with its"
        + " default runtime \"" + facts.defaultRuntime() + "\": Podman's Docker-compatible API"
        + " ignores the requested runtime \"" + runtime + "\" (HostConfig.Runtime), so the plugin"
        + " would not run under " + runtime + ". Point engineEndpoint at a Podman service whose"
        + " default runtime is " + runtime + ": one started with `podman --runtime " + runtime
        + " system service --time=0 unix:///run/podman/podman-" + runtime + ".sock` (as"
        + " scripts/setup-engine.sh --all does), or one whose containers.conf says [engine] runtime"
        + " = \"" + runtime + "\"");
  }
}
