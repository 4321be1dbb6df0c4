package dev.goplugin4j.cli;

import dev.goplugin4j.container.internal.Engine;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code goplugin4j doctor}: checks the machine for running plugins in containers. */
@Command(
    name = "doctor",
    mixinStandardHelpOptions = true,
    description = {
        "Check this machine for running plugins in containers: engine discovery, engine kind and"
            + " mode, OCI runtimes and gVisor's flags, cgroup limits, POSIX ACLs and socket path"
            + " length where socket directories are made, and (with --probe) which socket"
            + " permission strategy works, by starting tiny probe containers.",
        "Each row is OK, WARN or FAIL (with the fix), INFO or SKIP. Exit status 0 when no"
            + " required check fails, 1 otherwise."})
final class DoctorCommand implements Callable<Integer> {
  private final CliContext ctx;

  @Option(names = "--json", description = "Print JSON instead of a table.")
  boolean json;

  @Option(names = "--engine", paramLabel = "ENDPOINT",
      description = "Check only this engine (unix:///path or tcp://host:port), as"
          + " ContainerConfig.engineEndpoint does. Default: discover.")
  String engine;

  @Option(names = "--socket-dir", paramLabel = "DIR",
      description = "Where hosts make socket directories (PluginClient.Builder.unixSocketTempDir)."
          + " Default: java.io.tmpdir (${DEFAULT-VALUE}).")
  Path socketDir = Path.of(System.getProperty("java.io.tmpdir"));

  @Option(names = "--probe",
      description = "Start probe containers (runc, and gVisor when registered) to find which"
          + " socket permission strategy works for this engine and user. Builds a tiny local"
          + " image (goplugin4j-probe) on first use.")
  boolean probe;

  DoctorCommand(CliContext ctx) {
    this.ctx = ctx;
  }

  @Override
  public Integer call() {
    List<Check> checks = new ArrayList<>();
    if (!json) {
      ctx.progress("looking for a container engine");
    }
    Discovery.Result found = Discovery.run(engine, ctx.env());
    checks.addAll(found.checks());
    EngineFacts facts = null;
    if (found.engine().isPresent()) {
      try (Engine e = found.engine().get(); EngineApi api = EngineApi.open(e.endpoint(), ctx.env())) {
        facts = EngineFacts.parse(e.endpoint(), api.get("/version"),
            api.get("/v" + e.apiVersion() + "/info"));
        checks.addAll(new EngineChecks(facts, ctx.env()).checks());
      }
    } else {
      checks.add(Check.skip("engine", "engine, runtimes, cgroups", "no engine answers"));
    }
    checks.addAll(HostChecks.checks(socketDir));
    if (probe) {
      if (facts == null) {
        checks.add(Check.skip("sockets", "socket permission strategies", "no engine answers"));
      } else {
        checks.addAll(new StrategyProbe(ctx, facts, socketDir, json).run());
      }
    } else {
      checks.add(Strategies.expected(facts, HostChecks.euid()));
    }
    if (json) {
      Report.json(checks, ctx.out());
    } else {
      Report.table(checks, ctx.out());
    }
    return Report.passed(checks) ? 0 : 1;
  }
}
