package dev.goplugin4j.host;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.goplugin4j.host.PluginClientStartFailureTest.ScriptedRunner;
import io.grpc.Channel;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/** The supervisor's contract without a real plugin (the restart arithmetic: RestartPolicyTest). */
class PluginSupervisorTest {

  private static Supplier<PluginClient.Builder> failing(AtomicInteger starts) {
    return () -> {
      starts.incrementAndGet();
      ScriptedRunner r = new ScriptedRunner("");
      r.exit(3);
      return PluginClient.builder()
          .handshake(1, "COOKIE", "yes")
          .plugin("p", (GrpcPlugin<Channel>) (ch, b) -> ch)
          .runner((cmd, dir) -> r)
          .autoMtls(false)
          .startTimeout(Duration.ofSeconds(60));
    };
  }

  @Test
  void theBuilderChecksItsArgumentsAtOnce() {
    PluginSupervisor.Builder b = PluginSupervisor.builder();
    assertThatThrownBy(() -> b.plugin("", failing(new AtomicInteger())))
        .isInstanceOf(IllegalArgumentException.class);
    b.plugin("a", failing(new AtomicInteger()));
    assertThatThrownBy(() -> b.plugin("a", failing(new AtomicInteger())))
        .hasMessageContaining("already added");
    assertThatThrownBy(() -> b.restartBackoff(Duration.ofSeconds(2), Duration.ofSeconds(1)))
        .hasMessageContaining("shorter than the initial");
    assertThatThrownBy(() -> b.restartBackoff(Duration.ZERO, Duration.ofSeconds(1)))
        .hasMessageContaining("initial must be positive");
    assertThatThrownBy(() -> b.giveUpAfter(0, Duration.ofMinutes(1)))
        .hasMessageContaining("failures must be >= 1");
    assertThatThrownBy(() -> b.healthCheckInterval(Duration.ofMillis(10)))
        .hasMessageContaining("at least 100 ms");
    assertThatThrownBy(() -> b.waitForRestart(Duration.ofSeconds(-1)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> b.drainTimeout(Duration.ofSeconds(-1)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> PluginSupervisor.builder().build())
        .isInstanceOf(IllegalStateException.class);
  }

  @Test
  void callsBeforeStartAndForUnknownNamesSayWhatIsWrong() {
    try (PluginSupervisor s = PluginSupervisor.builder()
        .plugin("a", failing(new AtomicInteger())).build()) {
      assertThat(s.names()).containsExactly("a");
      assertThat(s.status("a").state()).isEqualTo(PluginSupervisor.State.NEW);
      assertThatThrownBy(() -> s.call("a", c -> c)).isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("call start() first");
      assertThatThrownBy(() -> s.call("b", c -> c)).isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("known: [a]");
    }
  }

  @Test
  void aFirstStartThatFailsThrowsAndClosesTheSupervisor() {
    AtomicInteger starts = new AtomicInteger();
    PluginSupervisor s = PluginSupervisor.builder().plugin("a", failing(starts)).build();
    assertThatThrownBy(s::start).isInstanceOf(PluginStartException.class)
        .hasMessageContaining("exit status 3");
    assertThat(starts).hasValue(1);
    assertThat(s.status("a").state()).isEqualTo(PluginSupervisor.State.CLOSED);
    assertThatThrownBy(s::start).isInstanceOf(IllegalStateException.class);
    s.close();
    s.close();
  }

  @Test
  void anUnstartedSupervisorMakesNoThreadAndClosesQuietly() {
    long before = Thread.getAllStackTraces().keySet().stream()
        .filter(t -> t.getName().startsWith("goplugin4j-supervisor")).count();
    PluginSupervisor s = PluginSupervisor.builder().plugin("a", failing(new AtomicInteger()))
        .build();
    s.close();
    long after = Thread.getAllStackTraces().keySet().stream()
        .filter(t -> t.getName().startsWith("goplugin4j-supervisor")).count();
    assertThat(after).isEqualTo(before);
    assertThat(s.status("a").state()).isEqualTo(PluginSupervisor.State.CLOSED);
  }
}
