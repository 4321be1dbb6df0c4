package dev.goplugin4j.benchmarks;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.gson.JsonSyntaxException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The figures' JSON lines (the same keys on the Java and the Go side) and what is derived from
 * them: Java/Go ratio objects with the project's goals, and the Markdown table of {@code
 * docs/benchmarks.md}.
 *
 * <p>A figure line has {@code figure}, {@code impl} ({@code java}, {@code go} or {@code engine})
 * and either steady-state latency keys ({@code p50_us}, {@code p99_us}, {@code mean_us}, {@code
 * ops_per_s}, {@code samples}), per-run keys ({@code p50_ms}, {@code mean_ms}, {@code min_ms},
 * {@code max_ms}, {@code runs}), or, for transfers, per-run keys plus {@code mib_per_s} (of the
 * median transfer) and {@code mib_per_s_mean}.
 *
 * <p>Stateless and thread-safe.
 */
final class Results {
  private static final Gson GSON = new GsonBuilder().disableHtmlEscaping().create();

  /** A project goal on a ratio: which figures, the bound, and whether the ratio must stay below. */
  record Goal(String figurePrefix, double bound, boolean below, boolean strict) {
    boolean met(double ratio) {
      if (below) {
        return strict ? ratio < bound : ratio <= bound;
      }
      return strict ? ratio > bound : ratio >= bound;
    }

    String describe() {
      return (below ? (strict ? "< " : "<= ") : (strict ? "> " : ">= ")) + String.format(Locale.ROOT, "%.2f", bound);
    }
  }

  /**
   * The goals on Java/Go ratios (issues 6 and 11), most specific prefix first: the first whose
   * prefix a figure starts with applies; a NaN bound means "no ratio goal" (the figure has an
   * absolute goal in its own line, or none).
   */
  static final List<Goal> GOALS =
      List.of(
          new Goal("plugin_cold_start_fresh_process", Double.NaN, true, false),
          new Goal("fresh_jvm_first_call", Double.NaN, true, false),
          new Goal("plugin_cold_start", 1.0, true, false),
          new Goal("kv_get_roundtrip", 1.0, true, false),
          new Goal("counter_put_brokered", 1.0, true, false),
          new Goal("yamux_bulk", 1.0, false, false),
          new Goal("grpc_streaming", 1.0, false, false),
          new Goal("containers_32_", 1.0, true, false),
          new Goal("plugincontainer_java_plugin", 2.0, true, false),
          new Goal("container_cold_start", 0.95, true, true),
          new Goal("host_cost_threads", Double.NaN, true, false),
          new Goal("host_cost_heap", Double.NaN, true, false));

  private Results() {}

  /** Per-run keys ({@code p50_ms}, {@code mean_ms}, {@code min_ms}, {@code max_ms}, {@code runs}) of samples in ns. */
  static Map<String, Object> perRunNanos(List<Long> nanos) {
    List<Long> s = new ArrayList<>(nanos);
    s.sort(null);
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("p50_ms", round(median(s) / 1e6));
    m.put("mean_ms", round(s.stream().mapToLong(Long::longValue).average().orElse(Double.NaN) / 1e6));
    m.put("min_ms", round(s.get(0) / 1e6));
    m.put("max_ms", round(s.get(s.size() - 1) / 1e6));
    m.put("runs", s.size());
    return m;
  }

  /** The median of samples (the mean of the middle two for an even count). */
  static double median(List<Long> samples) {
    List<Long> s = new ArrayList<>(samples);
    s.sort(null);
    int n = s.size();
    return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2.0;
  }

  /** Rounds to three decimals. */
  static double round(double x) {
    return Math.round(x * 1000.0) / 1000.0;
  }

  /** One JSON line: {@code figure} and {@code impl} first, then the other keys sorted. */
  static String line(String figure, String impl, Map<String, ?> values) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("figure", figure);
    m.put("impl", impl);
    m.putAll(new TreeMap<>(values));
    return GSON.toJson(m);
  }

  /**
   * Parses figure lines, skipping anything that is not a JSON object with figure and impl, and
   * figures that say they were not measured ({@code error}).
   */
  static List<JsonObject> parse(List<String> lines) {
    List<JsonObject> out = new ArrayList<>();
    for (String l : lines) {
      String s = l.strip();
      if (!s.startsWith("{")) {
        continue;
      }
      try {
        JsonElement e = JsonParser.parseString(s);
        if (e.isJsonObject() && e.getAsJsonObject().has("figure") && e.getAsJsonObject().has("impl")
            && !e.getAsJsonObject().has("error")) {
          out.add(e.getAsJsonObject());
        }
      } catch (JsonSyntaxException e) {
        // not a figure line
      }
    }
    return out;
  }

  /**
   * The ratio objects, one per figure measured by both Java and Go (the last line of each wins),
   * in the order the Java figures appear.
   */
  static List<String> ratios(List<JsonObject> figures) {
    Map<String, JsonObject> java = new LinkedHashMap<>();
    Map<String, JsonObject> go = new LinkedHashMap<>();
    for (JsonObject f : figures) {
      String impl = f.get("impl").getAsString();
      if (impl.equals("java")) {
        java.put(f.get("figure").getAsString(), f);
      } else if (impl.equals("go")) {
        go.put(f.get("figure").getAsString(), f);
      }
    }
    List<String> out = new ArrayList<>();
    java.forEach(
        (name, j) -> {
          JsonObject g = go.get(name);
          if (g != null) {
            out.add(ratio(name, j, g));
          }
        });
    return out;
  }

  private static String ratio(String name, JsonObject j, JsonObject g) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("figure", name);
    double ratio;
    if (j.has("mib_per_s") && g.has("mib_per_s")) {
      double jv = num(j, "mib_per_s");
      double gv = num(g, "mib_per_s");
      ratio = jv / gv;
      m.put("metric", "median MiB/s");
      m.put("better", "higher");
      m.put("java_mib_per_s", jv);
      m.put("go_mib_per_s", gv);
      m.put("ratio_java_over_go", round(ratio));
    } else if (j.has("value") && g.has("value")) {
      double jv = num(j, "value");
      double gv = num(g, "value");
      ratio = gv == 0 ? Double.NaN : jv / gv;
      m.put("metric", j.get("unit").getAsString());
      m.put("better", j.has("better") ? j.get("better").getAsString() : "lower");
      m.put("java", jv);
      m.put("go", gv);
      m.put("ratio_java_over_go", Double.isNaN(ratio) ? null : round(ratio));
    } else if (j.has("p50_us") && g.has("p50_us")) {
      ratio = num(j, "p50_us") / num(g, "p50_us");
      m.put("metric", "p50 us/op");
      m.put("better", "lower");
      m.put("java_us", num(j, "p50_us"));
      m.put("go_us", num(g, "p50_us"));
      m.put("ratio_java_over_go", round(ratio));
      m.put("java_mean_us", num(j, "mean_us"));
      m.put("go_mean_us", num(g, "mean_us"));
      m.put("ratio_mean_java_over_go", round(num(j, "mean_us") / num(g, "mean_us")));
      m.put("java_ops_per_s", num(j, "ops_per_s"));
      m.put("go_ops_per_s", num(g, "ops_per_s"));
    } else if (j.has("p50_ms") && g.has("p50_ms")) {
      ratio = num(j, "p50_ms") / num(g, "p50_ms");
      m.put("metric", "median ms");
      m.put("better", "lower");
      m.put("java_ms", num(j, "p50_ms"));
      m.put("go_ms", num(g, "p50_ms"));
      m.put("ratio_java_over_go", round(ratio));
      m.put("java_mean_ms", num(j, "mean_ms"));
      m.put("go_mean_ms", num(g, "mean_ms"));
      m.put("ratio_mean_java_over_go", round(num(j, "mean_ms") / num(g, "mean_ms")));
    } else {
      m.put("error", "the Java and Go lines of this figure have no common metric");
      return GSON.toJson(m);
    }
    for (Goal goal : GOALS) {
      if (name.startsWith(goal.figurePrefix())) {
        if (!Double.isNaN(goal.bound()) && !Double.isNaN(ratio)) {
          m.put("goal", "ratio " + goal.describe());
          m.put("goal_met", goal.met(ratio));
        }
        break;
      }
    }
    if (!m.containsKey("goal") && j.has("goal")) {
      m.put("goal", j.get("goal").getAsString());
      m.put("goal_met", j.get("goal_met").getAsBoolean());
    }
    return GSON.toJson(m);
  }

  /**
   * The Markdown table of all figures: one row per figure, Java and Go side by side with their
   * ratio and goal where both exist, lone figures (e.g. the engine floor) on their own.
   */
  static List<String> table(List<JsonObject> figures) {
    Map<String, Map<String, JsonObject>> byFigure = new LinkedHashMap<>();
    for (JsonObject f : figures) {
      byFigure
          .computeIfAbsent(f.get("figure").getAsString(), k -> new LinkedHashMap<>())
          .put(f.get("impl").getAsString(), f);
    }
    Map<String, JsonObject> ratioByFigure = new LinkedHashMap<>();
    for (String r : ratios(figures)) {
      JsonObject o = JsonParser.parseString(r).getAsJsonObject();
      ratioByFigure.put(o.get("figure").getAsString(), o);
    }
    List<String> rows = new ArrayList<>();
    rows.add("| figure | metric | Java | Go | Java/Go | goal | met |");
    rows.add("|---|---|---:|---:|---:|---|---|");
    byFigure.forEach(
        (name, impls) -> {
          JsonObject any = impls.values().iterator().next();
          String metric;
          String key;
          if (any.has("value")) {
            metric = any.get("unit").getAsString();
            key = "value";
          } else if (any.has("mib_per_s")) {
            metric = "MiB/s (median transfer)";
            key = "mib_per_s";
          } else if (any.has("p50_us")) {
            metric = "p50 / mean µs, ops/s";
            key = "p50_us";
          } else {
            metric = "median / mean ms";
            key = "p50_ms";
          }
          JsonObject r = ratioByFigure.get(name);
          String javaCell = cell(impls.getOrDefault("java", impls.get("engine")), key);
          String goCell = cell(impls.get("go"), key);
          String ratioCell = r == null || !r.has("ratio_java_over_go") || r.get("ratio_java_over_go").isJsonNull()
              ? "" : fmt(r.get("ratio_java_over_go").getAsDouble());
          JsonObject withGoal = r != null && r.has("goal") ? r : impls.get("java");
          String goalCell = withGoal != null && withGoal.has("goal") ? withGoal.get("goal").getAsString() : "";
          String met = withGoal != null && withGoal.has("goal_met")
              ? (withGoal.get("goal_met").getAsBoolean() ? "yes" : "**no**") : "";
          String label = impls.containsKey("engine") ? name + " (engine, no host)" : name;
          rows.add("| " + label + " | " + metric + " | " + javaCell + " | " + goCell + " | " + ratioCell
              + " | " + goalCell + " | " + met + " |");
        });
    return rows;
  }

  private static String cell(JsonObject f, String key) {
    if (f == null) {
      return "—";
    }
    switch (key) {
      case "p50_us":
        return fmt(num(f, "p50_us")) + " / " + fmt(num(f, "mean_us")) + ", " + String.format(Locale.ROOT, "%.0f", num(f, "ops_per_s"));
      case "p50_ms":
        return fmt(num(f, "p50_ms")) + " / " + fmt(num(f, "mean_ms"));
      default:
        return fmt(num(f, key));
    }
  }

  private static String fmt(double x) {
    if (Math.abs(x) >= 100) {
      return String.format(Locale.ROOT, "%.0f", x);
    }
    if (Math.abs(x) >= 10) {
      return String.format(Locale.ROOT, "%.1f", x);
    }
    return String.format(Locale.ROOT, "%.2f", x);
  }

  private static double num(JsonObject o, String key) {
    JsonElement e = o.get(key);
    if (e == null || !e.isJsonPrimitive()) {
      throw new IllegalArgumentException("figure " + o.get("figure") + " (" + o.get("impl") + ") has no " + key);
    }
    return e.getAsDouble();
  }
}
