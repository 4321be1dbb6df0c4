package dev.goplugin4j.host;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.goplugin4j.host.PluginClientStartFailureTest.ScriptedRunner;
import io.grpc.Channel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Events of a client whose start fails, with the scripted runner: fast, no real plugin. */
class PluginClientEventsTest {

  private static PluginClient.Builder builder(ScriptedRunner r) {
    return PluginClient.builder()
        .handshake(1, "COOKIE", "yes")
        .plugin("p", (GrpcPlugin<Channel>) (ch, b) -> ch)
        .runner(new RunnerFactory() {
          @Override
          public Runner create(PluginCommand command, java.nio.file.Path socketDir) {
            return r;
          }

          @Override
          public String kind() {
            return "scripted";
          }
        })
        .autoMtls(false)
        .startTimeout(Duration.ofSeconds(60));
  }

  @Test
  void aFailedStartGivesStartingStderrStartFailedAndClosedInThatOrder() {
    ScriptedRunner r = new ScriptedRunner(
        "[DEBUG] not an event\n[WARN] disk almost full\n"
            + "{\"@level\":\"error\",\"@message\":\"cannot open config\",\"@module\":\"x\"}\n"
            + "[INFO] not an event either\n");
    r.exit(3);
    List<PluginEvent> events = Collections.synchronizedList(new ArrayList<>());
    PluginClient c = builder(r).listener(events::add).build();
    assertThatThrownBy(c::start).isInstanceOf(PluginStartException.class);
    c.close();

    assertThat(events.get(0)).isInstanceOf(PluginEvent.Starting.class);
    assertThat(events.get(0).source())
        .isEqualTo(new PluginEvent.Source("plugin", List.of(), "scripted"));
    assertThat(events).filteredOn(e -> e instanceof PluginEvent.Stderr)
        .extracting(e -> ((PluginEvent.Stderr) e).level() + " " + ((PluginEvent.Stderr) e).message())
        .containsExactly("WARN [WARN] disk almost full", "ERROR cannot open config");
    assertThat(events.get(events.size() - 2)).isInstanceOfSatisfying(PluginEvent.StartFailed.class,
        f -> assertThat(f.failure()).hasMessageContaining("exit status 3"));
    assertThat(events.get(events.size() - 1)).isInstanceOfSatisfying(PluginEvent.Closed.class,
        cl -> assertThat(cl.started()).isFalse());
    assertThat(events).noneMatch(e -> e instanceof PluginEvent.Exited);
  }

  @Test
  void aListenerThatThrowsDoesNotChangeWhatStartThrowsNorStopOtherListeners() {
    ScriptedRunner r = new ScriptedRunner("");
    r.exit(3);
    List<PluginEvent> events = new ArrayList<>();
    PluginClient c = builder(r)
        .listener(e -> {
          throw new IllegalStateException("listener bug");
        })
        .listener(events::add)
        .build();
    assertThatThrownBy(c::start).isInstanceOf(PluginStartException.class)
        .hasMessageContaining("exit status 3");
    assertThat(events).extracting(e -> e.getClass().getSimpleName())
        .containsExactly("Starting", "StartFailed", "Closed");
  }

  @Test
  void defaultsGiveEveryBuilderTheirListenersAndABuilderMayAddMore() {
    List<String> seen = Collections.synchronizedList(new ArrayList<>());
    PluginClientDefaults defaults = PluginClientDefaults.of(e -> seen.add("shared"));
    ScriptedRunner r1 = new ScriptedRunner("");
    r1.exit(1);
    ScriptedRunner r2 = new ScriptedRunner("");
    r2.exit(1);
    PluginClient a = builderFrom(defaults.builder(), r1).build();
    PluginClient b = builderFrom(defaults.withListener(e -> seen.add("extra")).builder(), r2)
        .build();
    assertThatThrownBy(a::start).isInstanceOf(PluginStartException.class);
    assertThatThrownBy(b::start).isInstanceOf(PluginStartException.class);
    assertThat(seen).filteredOn("shared"::equals).hasSize(6);
    assertThat(seen).filteredOn("extra"::equals).hasSize(3);
    assertThat(defaults.listeners()).hasSize(1);
    assertThat(PluginClientDefaults.none().listeners()).isEmpty();
  }

  @Test
  void aClientClosedBeforeItStartsMakesNoEvents() {
    List<PluginEvent> events = new ArrayList<>();
    PluginClient c = builder(new ScriptedRunner("")).listener(events::add).build();
    c.close();
    c.detach();
    assertThat(events).isEmpty();
  }

  @Test
  void exitedEventNamesSignalsAndExitCodes() {
    PluginEvent.Source s = new PluginEvent.Source("p", List.of(), "process");
    PluginEvent.Exited killed = new PluginEvent.Exited(s, java.time.Instant.now(), 137, true,
        "", Duration.ZERO);
    PluginEvent.Exited crashed = new PluginEvent.Exited(s, java.time.Instant.now(), 3, false,
        "", Duration.ZERO);
    PluginEvent.Exited unknown = new PluginEvent.Exited(s, java.time.Instant.now(), -1, false,
        "", Duration.ZERO);
    assertThat(killed.signal()).hasValue(9);
    assertThat(killed.exitCode()).isEmpty();
    assertThat(crashed.exitCode()).hasValue(3);
    assertThat(crashed.signal()).isEmpty();
    assertThat(unknown.exitCode()).isEmpty();
    assertThat(unknown.signal()).isEmpty();
    assertThat(new ScriptedRunner("").describeExit(137)).contains("SIGKILL");
    assertThat(new ScriptedRunner("").describeExit(0)).isEmpty();
  }

  private static PluginClient.Builder builderFrom(PluginClient.Builder b, ScriptedRunner r) {
    return b.handshake(1, "COOKIE", "yes")
        .plugin("p", (GrpcPlugin<Channel>) (ch, x) -> ch)
        .runner((cmd, dir) -> r)
        .autoMtls(false)
        .startTimeout(Duration.ofSeconds(60));
  }
}
