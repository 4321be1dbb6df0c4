package dev.goplugin4j.cli;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.PrintStream;
import java.util.List;

/** Prints the doctor's rows as a table for people or as JSON for machines. */
final class Report {
  private Report() {}

  /** Whether no row failed. */
  static boolean passed(List<Check> checks) {
    return checks.stream().noneMatch(c -> c.status() == Check.Status.FAIL);
  }

  static void table(List<Check> checks, PrintStream out) {
    int w = Math.max(5, checks.stream().mapToInt(c -> c.name().length()).max().orElse(5));
    w = Math.min(w, 48);
    String area = "";
    for (Check c : checks) {
      if (!c.area().equals(area)) {
        area = c.area();
        out.println();
        out.println(area.toUpperCase(java.util.Locale.ROOT));
      }
      out.printf("  %-4s  %-" + w + "s  %s%n", c.status(), c.name(), c.detail());
      if (!c.fix().isEmpty()) {
        out.printf("        %-" + w + "s  fix: %s%n", "", c.fix());
      }
    }
    long fails = checks.stream().filter(c -> c.status() == Check.Status.FAIL).count();
    long warns = checks.stream().filter(c -> c.status() == Check.Status.WARN).count();
    out.println();
    out.println(fails == 0
        ? "doctor: all required checks pass" + (warns == 0 ? "" : " (" + warns + " warning"
            + (warns == 1 ? "" : "s") + ")")
        : "doctor: " + fails + " check" + (fails == 1 ? "" : "s") + " failed, " + warns
            + " warning" + (warns == 1 ? "" : "s"));
    out.flush();
  }

  static void json(List<Check> checks, PrintStream out) {
    JsonObject root = new JsonObject();
    root.addProperty("passed", passed(checks));
    JsonArray rows = new JsonArray();
    for (Check c : checks) {
      JsonObject o = new JsonObject();
      o.addProperty("area", c.area());
      o.addProperty("name", c.name());
      o.addProperty("status", c.status().name());
      o.addProperty("detail", c.detail());
      o.addProperty("fix", c.fix());
      rows.add(o);
    }
    root.add("checks", rows);
    out.println(new GsonBuilder().disableHtmlEscaping().setPrettyPrinting().create().toJson(root));
    out.flush();
  }
}
