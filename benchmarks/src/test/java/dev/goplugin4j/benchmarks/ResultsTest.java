package dev.goplugin4j.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ResultsTest {
  @Test
  void figureLinesPutFigureAndImplFirstAndSortTheRest() {
    String line = Results.line("kv_get_roundtrip_mtls", "java", Map.of("p50_us", 80.5, "mean_us", 90.0, "mtls", true));

    assertThat(line)
        .isEqualTo("{\"figure\":\"kv_get_roundtrip_mtls\",\"impl\":\"java\",\"mean_us\":90.0,\"mtls\":true,\"p50_us\":80.5}");
  }

  @Test
  void latencyFiguresOfBothSidesMakeOneRatioOfTheirMedians() {
    List<JsonObject> figures =
        Results.parse(
            List.of(
                "{\"figure\":\"counter_put_brokered_nomux_mtls\",\"impl\":\"java\",\"p50_us\":900,\"mean_us\":1000,\"ops_per_s\":1000}",
                "not json, e.g. a log line",
                "{\"figure\":\"counter_put_brokered_nomux_mtls\",\"impl\":\"go\",\"p50_us\":1000,\"mean_us\":1250,\"ops_per_s\":800}"));

    List<String> ratios = Results.ratios(figures);

    assertThat(ratios).hasSize(1);
    JsonObject r = JsonParser.parseString(ratios.get(0)).getAsJsonObject();
    assertThat(r.get("figure").getAsString()).isEqualTo("counter_put_brokered_nomux_mtls");
    assertThat(r.get("java_us").getAsDouble()).isEqualTo(900.0);
    assertThat(r.get("go_us").getAsDouble()).isEqualTo(1000.0);
    assertThat(r.get("ratio_java_over_go").getAsDouble()).isEqualTo(0.9);
    assertThat(r.get("ratio_mean_java_over_go").getAsDouble()).isEqualTo(0.8);
    assertThat(r.get("goal").getAsString()).isEqualTo("ratio <= 1.00");
    assertThat(r.get("goal_met").getAsBoolean()).isTrue();
  }

  @Test
  void throughputRatiosAreJavaOverGoAndTheBulkGoalWantsAtLeastOne() {
    List<JsonObject> figures =
        Results.parse(
            List.of(
                "{\"figure\":\"yamux_bulk_upload\",\"impl\":\"java\",\"mib_per_s\":800,\"p50_ms\":320,\"mean_ms\":330}",
                "{\"figure\":\"yamux_bulk_upload\",\"impl\":\"go\",\"mib_per_s\":1600,\"p50_ms\":160,\"mean_ms\":165}"));

    JsonObject r = JsonParser.parseString(Results.ratios(figures).get(0)).getAsJsonObject();

    assertThat(r.get("ratio_java_over_go").getAsDouble()).isEqualTo(0.5);
    assertThat(r.get("better").getAsString()).isEqualTo("higher");
    assertThat(r.get("goal_met").getAsBoolean()).isFalse();
  }

  @Test
  void containerColdStartGoalIsStrictlyBelowNinetyFivePercent() {
    Results.Goal goal =
        Results.GOALS.stream().filter(g -> g.figurePrefix().equals("container_cold_start")).findFirst().orElseThrow();

    assertThat(goal.met(0.94)).isTrue();
    assertThat(goal.met(0.95)).isFalse();
  }

  @Test
  void tableHasOneRowPerFigureAndShowsLoneEngineFigures() {
    List<JsonObject> figures =
        Results.parse(
            List.of(
                "{\"figure\":\"plugin_cold_start_mtls\",\"impl\":\"java\",\"p50_ms\":40,\"mean_ms\":42}",
                "{\"figure\":\"plugin_cold_start_mtls\",\"impl\":\"go\",\"p50_ms\":30,\"mean_ms\":31}",
                "{\"figure\":\"engine_floor_runc\",\"impl\":\"engine\",\"p50_ms\":500,\"mean_ms\":510}"));

    List<String> rows = Results.table(figures);

    assertThat(rows).hasSize(4);
    assertThat(rows.get(2))
        .isEqualTo("| plugin_cold_start_mtls | median / mean ms | 40.0 / 42.0 | 30.0 / 31.0 | 1.33 | ratio <= 1.00 | **no** |");
    assertThat(rows.get(3)).startsWith("| engine_floor_runc (engine, no host) | median / mean ms | 500 / 510 | — |");
  }

  @Test
  void perPluginCostsMakeRatiosOfTheirValuesAndKeepTheirAbsoluteGoal() {
    List<JsonObject> figures =
        Results.parse(
            List.of(
                "{\"figure\":\"host_cost_heap_mib_per_plugin_n16\",\"impl\":\"java\",\"value\":1.5,\"unit\":\"MiB heap per plugin\","
                    + "\"better\":\"lower\",\"goal\":\"<= 4 per plugin\",\"goal_met\":true}",
                "{\"figure\":\"host_cost_heap_mib_per_plugin_n16\",\"impl\":\"go\",\"value\":0.5,\"unit\":\"MiB heap per plugin\"}"));

    JsonObject r = JsonParser.parseString(Results.ratios(figures).get(0)).getAsJsonObject();
    List<String> rows = Results.table(figures);

    assertThat(r.get("ratio_java_over_go").getAsDouble()).isEqualTo(3.0);
    assertThat(r.get("goal").getAsString()).isEqualTo("<= 4 per plugin");
    assertThat(r.get("goal_met").getAsBoolean()).isTrue();
    assertThat(rows.get(2))
        .isEqualTo("| host_cost_heap_mib_per_plugin_n16 | MiB heap per plugin | 1.50 | 0.50 | 3.00 | <= 4 per plugin | yes |");
  }

  @Test
  void aValueOfZeroOnTheGoSideGivesNoRatio() {
    List<JsonObject> figures =
        Results.parse(
            List.of(
                "{\"figure\":\"host_cost_threads_per_plugin_n1\",\"impl\":\"java\",\"value\":6,\"unit\":\"threads per plugin\"}",
                "{\"figure\":\"host_cost_threads_per_plugin_n1\",\"impl\":\"go\",\"value\":0,\"unit\":\"threads per plugin\"}"));

    JsonObject r = JsonParser.parseString(Results.ratios(figures).get(0)).getAsJsonObject();

    assertThat(r.has("ratio_java_over_go")).isFalse();
    assertThat(Results.table(figures).get(2)).startsWith("| host_cost_threads_per_plugin_n1 | threads per plugin | 6.00 | 0.00 |  |");
  }

  @Test
  void freshJvmFiguresHaveNoRatioGoalButTheirAbsoluteOne() {
    List<JsonObject> figures =
        Results.parse(
            List.of(
                "{\"figure\":\"fresh_jvm_first_call_mtls\",\"impl\":\"java\",\"p50_ms\":900,\"mean_ms\":950,"
                    + "\"goal\":\"p50_ms <= 400\",\"goal_met\":false}",
                "{\"figure\":\"fresh_jvm_first_call_mtls\",\"impl\":\"go\",\"p50_ms\":30,\"mean_ms\":31}"));

    JsonObject r = JsonParser.parseString(Results.ratios(figures).get(0)).getAsJsonObject();

    assertThat(r.get("ratio_java_over_go").getAsDouble()).isEqualTo(30.0);
    assertThat(r.get("goal").getAsString()).isEqualTo("p50_ms <= 400");
    assertThat(r.get("goal_met").getAsBoolean()).isFalse();
  }

  @Test
  void perRunKeysOfNanosecondSamplesAreMilliseconds() {
    Map<String, Object> m = Results.perRunNanos(List.of(3_000_000L, 1_000_000L, 2_000_000L, 10_000_000L));

    assertThat(m).containsEntry("p50_ms", 2.5).containsEntry("min_ms", 1.0).containsEntry("max_ms", 10.0)
        .containsEntry("mean_ms", 4.0).containsEntry("runs", 4);
  }
}
