package dev.goplugin4j.micrometer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.goplugin4j.host.PluginEvent;
import dev.goplugin4j.host.PluginSupervisor;
import dev.goplugin4j.protocol.NetAddress;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@link PluginMetrics} fed with events: the live count, exit causes, supervisor counters. */
class PluginMetricsTest {
  private static final PluginEvent.Source KV =
      new PluginEvent.Source("kv", List.of("./kv"), "process");
  private static final Instant T = Instant.EPOCH;

  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private final PluginMetrics metrics = new PluginMetrics(registry, Tags.of("app", "test"));

  private static PluginEvent.Started started() {
    return new PluginEvent.Started(KV, T, 1, "grpc", NetAddress.unix("/tmp/x.sock"), "42",
        Map.of("prepare", Duration.ofMillis(3)), Duration.ofMillis(50));
  }

  private static PluginEvent.Exited exited(int status, boolean requested) {
    return new PluginEvent.Exited(KV, T, status, requested, "", Duration.ofSeconds(1));
  }

  private double live() {
    return registry.get(PluginMetrics.LIVE).tag("plugin", "kv").tag("app", "test").gauge().value();
  }

  @Test
  void liveCountsStartedClientsUntilTheirExitOrCloseButNotBoth() {
    metrics.onEvent(started());
    metrics.onEvent(started());
    assertThat(live()).isEqualTo(2.0);
    metrics.onEvent(exited(137, false));
    assertThat(live()).isEqualTo(1.0);
    metrics.onEvent(new PluginEvent.Closed(KV, T, true, Duration.ZERO));
    assertThat(live()).as("the close after an exit").isEqualTo(1.0);
    metrics.onEvent(new PluginEvent.Detached(KV, T, Duration.ofSeconds(1)));
    assertThat(live()).isZero();
  }

  @Test
  void exitsAreCountedByCauseAndStatus() {
    metrics.onEvent(exited(0, true));
    metrics.onEvent(exited(137, false));
    metrics.onEvent(exited(3, false));
    metrics.onEvent(exited(-1, false));
    for (String[] cs : new String[][] {
        {"requested", "0"}, {"signal", "137"}, {"exit", "3"}, {"unknown", "-1"}}) {
      assertThat(registry.get(PluginMetrics.EXITS).tag("cause", cs[0]).tag("status", cs[1])
          .counter().count()).as(cs[0]).isEqualTo(1.0);
    }
  }

  @Test
  void supervisorEventsCountRestartsFailuresAndGiveUps() {
    metrics.onEvent(new PluginSupervisor.Restarting("kv", T, "crashed", 1, Duration.ofMillis(200)));
    metrics.onEvent(new PluginSupervisor.Restarted("kv", T, 1));
    metrics.onEvent(new PluginSupervisor.Restarting("kv", T, "crashed", 2, Duration.ofMillis(400)));
    metrics.onEvent(new PluginSupervisor.GaveUp("kv", T, "crashed", 3, Duration.ofMinutes(5)));
    assertThat(registry.get(PluginMetrics.SUPERVISOR_FAILURES).tag("plugin", "kv").counter()
        .count()).isEqualTo(2.0);
    assertThat(registry.get(PluginMetrics.SUPERVISOR_RESTARTS).tag("plugin", "kv").counter()
        .count()).isEqualTo(1.0);
    assertThat(registry.get(PluginMetrics.SUPERVISOR_GIVE_UPS).tag("plugin", "kv").counter()
        .count()).isEqualTo(1.0);
  }

  @Test
  void stderrLinesAreCountedByLevel() {
    metrics.onEvent(new PluginEvent.Stderr(KV, T, PluginEvent.Level.WARN, "careful"));
    metrics.onEvent(new PluginEvent.Stderr(KV, T, PluginEvent.Level.ERROR, "broken"));
    metrics.onEvent(new PluginEvent.Stderr(KV, T, PluginEvent.Level.ERROR, "still broken"));
    assertThat(registry.get(PluginMetrics.STDERR).tag("level", "warn").counter().count())
        .isEqualTo(1.0);
    assertThat(registry.get(PluginMetrics.STDERR).tag("level", "error").counter().count())
        .isEqualTo(2.0);
  }
}
