package dev.goplugin4j.cli;

import dev.goplugin4j.cli.EngineFacts.Runtime;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Judges an engine from its {@link EngineFacts}: kind and mode, registered runtimes, gVisor's
 * flags, cgroup enforcement. Pure: everything comes from the facts and the given file checks, so
 * unit tests run it on captured engine answers.
 */
final class EngineChecks {
  /** The gVisor flags the container runner needs, in the order they are suggested. */
  static final String HOST_UDS = "--host-uds";
  static final String NETWORK = "--network";
  static final String IGNORE_CGROUPS = "--ignore-cgroups";

  private final EngineFacts facts;
  private final Map<String, String> env;
  private final java.util.function.Predicate<Path> executable;
  private final java.util.function.Function<Path, String> readScript;

  /**
   * @param facts the engine
   * @param env the environment (for {@code PATH} and {@code HOME})
   * @param executable tells whether a file is an executable on this machine
   */
  EngineChecks(EngineFacts facts, Map<String, String> env,
      java.util.function.Predicate<Path> executable,
      java.util.function.Function<Path, String> readScript) {
    this.facts = facts;
    this.env = Map.copyOf(env);
    this.executable = executable;
    this.readScript = readScript;
  }

  EngineChecks(EngineFacts facts, Map<String, String> env,
      java.util.function.Predicate<Path> executable) {
    this(facts, env, executable, p -> null);
  }

  EngineChecks(EngineFacts facts, Map<String, String> env) {
    this(facts, env, Files::isExecutable, EngineChecks::scriptText);
  }

  /** The text of a small shell script (a runtime wrapper), or null when it is not one. */
  static String scriptText(Path p) {
    try {
      if (!Files.isRegularFile(p) || Files.size(p) > 64 * 1024) {
        return null;
      }
      String text = Files.readString(p);
      return text.startsWith("#!") ? text : null;
    } catch (java.io.IOException | RuntimeException e) {
      return null;
    }
  }

  /** The {@code --flags} a wrapper script passes (comment lines ignored). */
  static List<String> scriptFlags(String script) {
    List<String> out = new ArrayList<>();
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?<![\\w-])--[a-z][a-z-]*(=[^\\s\"'$;]+)?")
        .matcher(script.lines().filter(l -> !l.strip().startsWith("#"))
            .collect(Collectors.joining("\n")));
    while (m.find()) {
      out.add(m.group());
    }
    return out;
  }

  List<Check> checks() {
    List<Check> out = new ArrayList<>();
    out.add(Check.ok("engine", "kind and version",
        facts.kind() + " " + facts.version() + ", API " + facts.apiVersion()
            + (facts.operatingSystem().isEmpty() ? "" : ", on " + facts.operatingSystem())));
    out.add(Check.ok("engine", "rootful or rootless", facts.rootless()
        ? "rootless: the engine runs in a user namespace; container uid 0 is your user"
        : "rootful: the engine runs as root; container uids are host uids"));
    out.addAll(runtimeChecks());
    out.add(limitsCheck());
    return out;
  }

  private List<Check> runtimeChecks() {
    List<Check> out = new ArrayList<>();
    Map<String, Runtime> rts = facts.runtimes();
    if (rts.isEmpty()) {
      out.add(Check.warn("runtime", "registered OCI runtimes",
          "the engine reports none" + (facts.kind().equals("Podman")
              ? " (Podman's Docker-compatible API does not list them, and ignores"
                  + " ContainerConfig.runtime)" : ""),
          facts.kind().equals("Podman")
              ? "choose the runtime in containers.conf ([engine] runtime=...); for gVisor register"
                  + " a wrapper script that execs `runsc --network=none --host-uds=all`"
                  + (facts.rootless() ? " --ignore-cgroups" : "")
              : "check `docker info`: the engine should list at least runc"));
      return out;
    }
    String list = rts.values().stream()
        .map(r -> r.name() + (r.name().equals(facts.defaultRuntime()) ? " (default)" : "")
            + (r.args().isEmpty() ? "" : " " + r.args()))
        .collect(Collectors.joining(", "));
    out.add(Check.ok("runtime", "registered OCI runtimes", list));
    List<Runtime> gvisor = rts.values().stream().filter(Runtime::isGvisor).toList();
    if (gvisor.isEmpty()) {
      out.add(Check.warn("runtime", "gVisor (runsc)",
          "not registered: plugins can run under runc only, which shares the host kernel",
          "install gVisor (`apt-get install runsc`), then " + registerHow("runsc",
              "/usr/bin/runsc", List.of()) + " (scripts/setup-engine.sh does all of this)"));
      return out;
    }
    List<String> usable = gvisor.stream().map(this::effective)
        .filter(EngineChecks::makesHostSockets).map(Runtime::name).toList();
    for (Runtime r : gvisor) {
      out.addAll(gvisorChecks(r, usable));
    }
    return out;
  }

  /**
   * The runtime with the flags it really runs with: those of a wrapper script (how Podman passes
   * runtime flags) count too.
   */
  Runtime effective(Runtime registered) {
    Path exe = resolve(registered.path().isEmpty() ? registered.name() : registered.path());
    String script = exe == null ? null : readScript.apply(exe);
    if (script == null) {
      return registered;
    }
    List<String> args = new ArrayList<>(registered.args());
    args.addAll(scriptFlags(script));
    return new Runtime(registered.name(), registered.path(), args);
  }

  /** Whether a gVisor runtime lets the plugin's socket appear on the host ({@code --host-uds}). */
  static boolean makesHostSockets(Runtime r) {
    String hostUds = r.flag(HOST_UDS);
    return hostUds != null && !hostUds.isEmpty() && !hostUds.equals("none")
        && !hostUds.equals("open");
  }

  /**
   * @param usable the gVisor runtimes of this engine whose sockets appear on the host: with one of
   *     them there, another one without {@code --host-uds} is a warning (plugins can be sandboxed,
   *     only not with that runtime), unless it is the engine's default runtime
   */
  private List<Check> gvisorChecks(Runtime registered, List<String> usable) {
    List<Check> out = new ArrayList<>();
    String name = "gVisor runtime \"" + registered.name() + "\"";
    Path exe = resolve(registered.path().isEmpty() ? registered.name() : registered.path());
    String script = exe == null ? null : readScript.apply(exe);
    Runtime r = effective(registered);
    if (exe == null && !facts.endpoint().startsWith("tcp:")) {
      out.add(Check.fail("runtime", name + ": executable",
          "\"" + (r.path().isEmpty() ? r.name() : r.path()) + "\" is not an executable on this"
              + " machine: every container with this runtime fails to start",
          "install gVisor (`apt-get install runsc`) or fix \"path\" of \"" + r.name() + "\" in "
              + daemonJson()));
    } else {
      out.add(Check.ok("runtime", name + ": executable",
          exe == null ? r.path() + " (remote engine: not checked here)" : exe
              + (script == null ? "" : " (wrapper script passing " + scriptFlags(script) + ")")));
    }
    String hostUds = r.flag(HOST_UDS);
    if (!makesHostSockets(r)) {
      String detail = (hostUds == null ? "missing" : "\"" + hostUds + "\"") + " (runtimeArgs "
          + r.args() + "): the plugin cannot create its socket on the host side, so every plugin"
          + " start under this runtime times out waiting for the socket";
      String fix = registerHow(r.name(), r.path(), withFlag(r.args(), HOST_UDS + "=all"))
          + ". Use --host-uds=all with gVisor releases before 2023; \"create\" suffices on"
          + " newer ones";
      if (!usable.isEmpty() && !r.name().equals(facts.defaultRuntime())) {
        out.add(Check.warn("runtime", name + ": " + HOST_UDS, detail,
            "do not run plugins with ContainerConfig.runtime(\"" + r.name() + "\"): use "
                + usable.stream().map(u -> "\"" + u + "\"").collect(Collectors.joining(" or "))
                + ", whose sockets work; or " + fix));
      } else {
        out.add(Check.fail("runtime", name + ": " + HOST_UDS, detail, fix));
      }
    } else if (hostUds.equals("create")) {
      out.add(Check.warn("runtime", name + ": " + HOST_UDS, "create",
          "sockets appear on the host, but old gVisor (Debian 12's 2022 runsc) refuses the"
              + " plugin's chmod/chown of its socket (go-plugin then aborts when a socket group is"
              + " set), and the plugin cannot dial sockets the host creates: use the multiplexed"
              + " broker (PluginClient.multiplexBroker(true)), or " + registerHow(r.name(),
                  r.path(), withFlag(r.args(), HOST_UDS + "=all"))));
    } else {
      out.add(Check.ok("runtime", name + ": " + HOST_UDS, hostUds));
    }
    String network = r.flag(NETWORK);
    if (!"none".equals(network)) {
      out.add(Check.warn("runtime", name + ": " + NETWORK + "=none",
          network == null ? "missing" : "\"" + network + "\"",
          "old runsc (2022) on kernel 6.x refuses every start with \"cannot run with network"
              + " enabled in root network namespace\"; plugins run without network anyway: "
              + registerHow(r.name(), r.path(), withFlag(r.args(), NETWORK + "=none"))));
    } else {
      out.add(Check.ok("runtime", name + ": " + NETWORK + "=none", "set"));
    }
    if (facts.rootless()) {
      if (r.flag(IGNORE_CGROUPS) == null) {
        out.add(Check.fail("runtime", name + ": " + IGNORE_CGROUPS,
            "missing on a rootless engine: runsc cannot configure cgroups there and fails to"
                + " start containers",
            registerHow(r.name(), r.path(), withFlag(r.args(), IGNORE_CGROUPS))));
      } else {
        out.add(Check.ok("runtime", name + ": " + IGNORE_CGROUPS, "set (rootless engine)"));
      }
    }
    return out;
  }

  private Check limitsCheck() {
    String cg = "cgroup " + (facts.cgroupVersion().isEmpty() ? "?" : "v" + facts.cgroupVersion())
        + ", driver " + (facts.cgroupDriver().isEmpty() ? "?" : facts.cgroupDriver());
    if (facts.cgroupDriver().equals("none")) {
      return Check.warn("cgroup", "memory/CPU/pids limits",
          cg + ": limits accepted but not enforced (a plugin can use all memory and CPU)",
          facts.rootless()
              ? "use cgroup v2 with systemd delegation for the rootless engine, or a rootful"
                  + " engine, when limits matter"
              : "configure a cgroup driver (cgroupfs or systemd) for the engine");
    }
    List<String> missing = new ArrayList<>();
    if (!facts.memoryLimit()) {
      missing.add("memory");
    }
    if (!facts.cpuCfsQuota()) {
      missing.add("CPU quota");
    }
    if (!facts.pidsLimit()) {
      missing.add("pids");
    }
    if (!missing.isEmpty()) {
      return Check.warn("cgroup", "memory/CPU/pids limits",
          cg + ": the engine cannot enforce " + String.join(", ", missing) + " limits",
          "enable the missing cgroup controllers in the kernel (e.g. cgroup_enable=memory"
              + " swapaccount=1 on the kernel command line)");
    }
    return Check.ok("cgroup", "memory/CPU/pids limits", cg + ": enforced");
  }

  /** Where this engine's runtimes are registered. */
  String daemonJson() {
    if (facts.kind().equals("Podman")) {
      return facts.rootless() ? "~/.config/containers/containers.conf"
          : "/etc/containers/containers.conf";
    }
    return facts.rootless() ? "~/.config/docker/daemon.json" : "/etc/docker/daemon.json";
  }

  /** The daemon.json snippet and reload step that registers a runtime with these args. */
  String registerHow(String name, String path, List<String> args) {
    if (facts.kind().equals("Podman")) {
      return "register a wrapper script as runtime \"" + name + "\" in " + daemonJson()
          + " that execs `" + (path.isEmpty() ? "runsc" : path) + " " + String.join(" ", args)
          + " \"$@\"` (containers.conf cannot pass runtime arguments)";
    }
    String json = "{\"runtimes\":{\"" + name + "\":{\"path\":\""
        + (path.isEmpty() ? "/usr/bin/runsc" : path) + "\",\"runtimeArgs\":["
        + args.stream().map(a -> "\"" + a + "\"").collect(Collectors.joining(",")) + "]}}}";
    String reload = facts.rootless()
        ? "restart the rootless dockerd (or `kill -HUP` its pid)"
        : "reload dockerd: `kill -HUP $(pidof dockerd)` (running containers are not touched)";
    return "set in " + daemonJson() + ": " + json + " (merge with what is there), then " + reload;
  }

  /** The args with {@code flag} (a {@code --name=value} or {@code --name}) set, old values dropped. */
  static List<String> withFlag(List<String> args, String flag) {
    String key = flag.contains("=") ? flag.substring(0, flag.indexOf('=')) : flag;
    Set<String> out = new LinkedHashSet<>();
    for (int i = 0; i < args.size(); i++) {
      String a = args.get(i);
      if (a.equals(key) || a.startsWith(key + "=")) {
        if (a.equals(key) && flag.contains("=") && i + 1 < args.size()
            && !args.get(i + 1).startsWith("-")) {
          i++;
        }
        continue;
      }
      out.add(a);
    }
    List<String> list = new ArrayList<>(out);
    // the gVisor flags the runner needs come first, in a stable order
    List<String> result = new ArrayList<>();
    for (String k : List.of(NETWORK, HOST_UDS, IGNORE_CGROUPS)) {
      if (k.equals(key)) {
        result.add(flag);
      }
      list.stream().filter(a -> a.equals(k) || a.startsWith(k + "=")).forEach(result::add);
    }
    list.stream().filter(a -> !result.contains(a)).forEach(result::add);
    return result;
  }

  private Path resolve(String exe) {
    if (exe.contains("/")) {
      Path p = Path.of(exe);
      return executable.test(p) ? p : null;
    }
    String path = env.getOrDefault("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    for (String dir : path.split(":")) {
      if (!dir.isEmpty()) {
        Path p = Path.of(dir, exe);
        if (executable.test(p)) {
          return p;
        }
      }
    }
    return null;
  }
}
