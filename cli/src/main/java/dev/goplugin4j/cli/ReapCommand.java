package dev.goplugin4j.cli;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.goplugin4j.container.ContainerReaper;
import dev.goplugin4j.container.internal.Engine;
import dev.goplugin4j.container.internal.EngineLocator;
import dev.goplugin4j.container.internal.HostId;
import dev.goplugin4j.container.internal.Labels;
import dev.goplugin4j.host.ProcessReaper;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code goplugin4j reap}: lists, and with {@code --remove} removes, orphaned plugin containers
 * and the socket directories (and confirmed plugin processes) of process plugins whose hosts are
 * gone.
 */
@Command(
    name = "reap",
    mixinStandardHelpOptions = true,
    description = {
        "List the plugin containers goplugin4j made (label dev.goplugin4j.managed=true) and"
            + " whether their owning host process is gone; with --remove, remove the orphans"
            + " (ContainerReaper). Containers of live hosts and of other machines are left alone,"
            + " and so are containers whose owner is gone but which a live host reattached"
            + " (verdict 'reattached').",
        "Needs to read the hosts' <socket dir>.hosts/ directories to see reattaching hosts: run"
            + " it as the hosts' user or as root.",
        "Also lists the socket directories (goplugin4j-<digits>) that hosts made for process"
            + " plugins in the temp dir (or --socket-parent), by their owner record; with --remove,"
            + " kills an orphan's plugin process when its identity is confirmed (pid, start time,"
            + " executable, owner, listening socket in the dir) and removes the directory"
            + " (ProcessReaper). Removing a container also removes its socket directory."})
final class ReapCommand implements Callable<Integer> {
  private final CliContext ctx;

  @Option(names = "--remove", description = "Remove the orphans (running ones are killed).")
  boolean remove;

  @Option(names = "--engine", paramLabel = "ENDPOINT",
      description = "Engine endpoint (unix:// or tcp://). Default: discover.")
  String engine;

  @Option(names = "--json", description = "Print JSON.")
  boolean json;

  @Option(names = "--socket-parent", paramLabel = "DIR",
      description = "Where hosts make socket directories (their unixSocketTempDir); repeatable."
          + " Default: the system temp dir.")
  List<Path> socketParents = new ArrayList<>();

  @Option(names = "--no-containers", description = "Leave containers out (no engine needed).")
  boolean noContainers;

  @Option(names = "--no-processes", description = "Leave process plugins' socket directories out.")
  boolean noProcesses;

  ReapCommand(CliContext ctx) {
    this.ctx = ctx;
  }

  /**
   * One plugin container.
   *
   * @param id the container ID
   * @param plugin the plugin label
   * @param owner the owner label
   * @param state the engine's state
   * @param verdict {@code orphan}, {@code live host}, {@code reattached} (owner gone, a live host
   *     reattached), {@code other machine} or {@code no owner label}
   */
  record Row(String id, String plugin, String owner, String state, String verdict) {}

  @Override
  public Integer call() {
    List<Row> rows = new ArrayList<>();
    List<String> removed = List.of();
    if (!noContainers) {
      ContainerReaper reaper =
          engine == null ? ContainerReaper.create() : ContainerReaper.create(engine);
      try (Engine e = new EngineLocator(engine, ctx.env()).connect()) {
        List<String> orphanIds = reaper.findOrphans();
        for (Engine.ContainerSummary c : e.listByLabel(Labels.MANAGED, "true")) {
          String owner = c.labels().getOrDefault(Labels.OWNER, "");
          Optional<HostId> id = HostId.parse(owner);
          String verdict = id.isEmpty() ? "no owner label"
              : id.get().isAlive()
                  .map(alive -> alive ? "live host"
                      : orphanIds.contains(c.id()) ? "orphan" : "reattached")
                  .orElse("other machine");
          rows.add(new Row(c.id(), c.labels().getOrDefault(Labels.PLUGIN, ""), owner, c.state(),
              verdict));
        }
      }
      if (remove) {
        long orphans = rows.stream().filter(r -> r.verdict().equals("orphan")).count();
        if (orphans > 0) {
          ctx.progress("removing " + orphans + " orphaned container" + (orphans == 1 ? "" : "s"));
        }
        removed = reaper.reapOrphans();
      }
    }
    List<ProcessReaper.Leftover> dirs = new ArrayList<>();
    List<Path> dirsRemoved = new ArrayList<>();
    if (!noProcesses) {
      List<Path> parents = socketParents.isEmpty()
          ? List.of(Path.of(System.getProperty("java.io.tmpdir"))) : socketParents;
      for (Path parent : parents) {
        ProcessReaper reaper = ProcessReaper.create(parent);
        List<ProcessReaper.Leftover> gone = remove ? reaper.reapOrphans() : List.of();
        gone.forEach(l -> dirsRemoved.add(l.socketDir()));
        dirs.addAll(gone);
        dirs.addAll(reaper.find());
      }
    }
    JsonObject all = new JsonObject();
    print(rows, removed, all);
    printDirs(dirs, dirsRemoved, all);
    if (json) {
      ctx.out().println(new GsonBuilder().setPrettyPrinting().create().toJson(all));
      ctx.out().flush();
    }
    return 0;
  }

  private void printDirs(List<ProcessReaper.Leftover> dirs, List<Path> dirsRemoved, JsonObject o) {
    if (noProcesses) {
      return;
    }
    if (json) {
      JsonArray list = new JsonArray();
      for (ProcessReaper.Leftover l : dirs) {
        JsonObject d = new JsonObject();
        d.addProperty("socket_dir", l.socketDir().toString());
        boolean gone = dirsRemoved.contains(l.socketDir());
        d.addProperty("verdict", l.verdict());
        l.pluginPid().ifPresent(pid -> d.addProperty("plugin_pid", pid));
        d.addProperty("plugin_running", l.pluginRunning() && !gone);
        d.addProperty("removed", gone);
        list.add(d);
      }
      o.add("socket_dirs", list);
      return;
    } else if (dirs.isEmpty()) {
      ctx.out().println("no plugin socket directories");
    } else {
      ctx.out().printf("%-48s  %-18s  %s%n", "SOCKET DIR", "VERDICT", "PLUGIN PID");
      for (ProcessReaper.Leftover l : dirs) {
        boolean gone = dirsRemoved.contains(l.socketDir());
        ctx.out().printf("%-48s  %-18s  %s%n", l.socketDir(), gone ? "removed" : l.verdict(),
            l.pluginPid().isPresent()
                ? l.pluginPid().getAsLong() + (l.pluginRunning() ? gone ? " (killed)" : " (running)" : "")
                : "");
      }
      long orphans = dirs.stream()
          .filter(l -> l.verdict().equals(ProcessReaper.Leftover.ORPHAN)).count();
      if (!remove && orphans > 0) {
        ctx.out().println(orphans + " orphaned socket director" + (orphans == 1 ? "y" : "ies")
            + ": `goplugin4j reap --remove` removes " + (orphans == 1 ? "it" : "them"));
      }
    }
    ctx.out().flush();
  }

  private void print(List<Row> rows, List<String> removed, JsonObject o) {
    if (noContainers) {
      return;
    }
    if (json) {
      JsonArray list = new JsonArray();
      for (Row r : rows) {
        JsonObject c = new JsonObject();
        c.addProperty("id", r.id());
        c.addProperty("plugin", r.plugin());
        c.addProperty("owner", r.owner());
        c.addProperty("state", r.state());
        c.addProperty("verdict", r.verdict());
        c.addProperty("removed", removed.contains(r.id()));
        list.add(c);
      }
      o.add("containers", list);
      JsonArray rm = new JsonArray();
      removed.forEach(rm::add);
      o.add("removed", rm);
      return;
    } else if (rows.isEmpty()) {
      ctx.out().println("no plugin containers");
    } else {
      ctx.out().printf("%-12s  %-10s  %-14s  %-24s  %s%n", "CONTAINER", "STATE", "VERDICT",
          "PLUGIN", "OWNER (host/pid/start ms)");
      for (Row r : rows) {
        ctx.out().printf("%-12s  %-10s  %-14s  %-24s  %s%n", r.id().substring(0,
            Math.min(12, r.id().length())), r.state(),
            removed.contains(r.id()) ? "removed" : r.verdict(), r.plugin(), r.owner());
      }
      long orphans = rows.stream().filter(r -> r.verdict().equals("orphan")).count();
      if (!remove && orphans > 0) {
        ctx.out().println(orphans + " orphan" + (orphans == 1 ? "" : "s")
            + ": `goplugin4j reap --remove` removes " + (orphans == 1 ? "it" : "them"));
      }
    }
    ctx.out().flush();
  }
}
