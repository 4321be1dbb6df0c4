package dev.goplugin4j.cli;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.goplugin4j.container.ContainerReaper;
import dev.goplugin4j.container.internal.Engine;
import dev.goplugin4j.container.internal.EngineLocator;
import dev.goplugin4j.container.internal.HostId;
import dev.goplugin4j.container.internal.Labels;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code goplugin4j reap}: lists, and with {@code --remove} removes, orphaned plugin containers. */
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
            + " it as the hosts' user or as root."})
final class ReapCommand implements Callable<Integer> {
  private final CliContext ctx;

  @Option(names = "--remove", description = "Remove the orphans (running ones are killed).")
  boolean remove;

  @Option(names = "--engine", paramLabel = "ENDPOINT",
      description = "Engine endpoint (unix:// or tcp://). Default: discover.")
  String engine;

  @Option(names = "--json", description = "Print JSON.")
  boolean json;

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
    ContainerReaper reaper = engine == null ? ContainerReaper.create() : ContainerReaper.create(engine);
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
    List<String> removed = List.of();
    if (remove) {
      long orphans = rows.stream().filter(r -> r.verdict().equals("orphan")).count();
      if (orphans > 0) {
        ctx.progress("removing " + orphans + " orphaned container" + (orphans == 1 ? "" : "s"));
      }
      removed = reaper.reapOrphans();
    }
    print(rows, removed);
    return 0;
  }

  private void print(List<Row> rows, List<String> removed) {
    if (json) {
      JsonObject o = new JsonObject();
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
      ctx.out().println(new GsonBuilder().setPrettyPrinting().create().toJson(o));
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
