package dev.goplugin4j.host.internal.process;

import static dev.goplugin4j.host.internal.process.Processes.WAIT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.goplugin4j.host.AttachedRunner;
import dev.goplugin4j.host.PluginCommand;
import dev.goplugin4j.host.PluginStartException;
import dev.goplugin4j.host.ReattachConfig;
import dev.goplugin4j.protocol.NetAddress;
import dev.goplugin4j.protocol.PluginException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ProcessReattacherTest {
  private final ProcessReattacher reattacher = new ProcessReattacher();
  private final List<ProcessRunner> runners = new ArrayList<>();

  @AfterEach
  void killEverything() {
    runners.forEach(ProcessRunner::kill);
  }

  @Test
  void attributesRecordTheStartTimeInEpochMillis() {
    ProcessRunner runner = sleeper();
    Instant start = runner.handle().info().startInstant().orElseThrow();

    assertThat(ProcessReattacher.attributesFor(runner.handle()))
        .isEqualTo(Map.of("start_time", Long.toString(start.toEpochMilli())));
  }

  @Test
  void reattachToALiveProcessAndKillItThroughTheAttachment() throws Exception {
    ProcessRunner runner = sleeper();
    long pid = runner.handle().pid();

    AttachedRunner attached = reattacher.reattach(config(runner));

    assertThat(attached.id()).isEqualTo(Long.toString(pid));
    assertThat(attached.kind()).isEqualTo(ReattachConfig.KIND_PROCESS);
    assertThat(attached.reattachAttributes()).isEqualTo(runner.reattachAttributes());
    NetAddress address = NetAddress.unix("/tmp/p.sock");
    assertThat(attached.pluginToHost(address)).isSameAs(address);
    assertThat(attached.hostToPlugin(address)).isSameAs(address);
    assertThat(attached.onExit()).isNotDone();

    attached.kill();

    Processes.awaitGone(pid);
    assertThat(attached.onExit().get(WAIT.toSeconds(), TimeUnit.SECONDS)).isEqualTo(-1);
    attached.kill(); // idempotent
  }

  @Test
  void killThroughTheAttachmentAlsoKillsChildProcesses() throws Exception {
    ProcessRunner runner = started("/bin/sh", "-c", "sleep 300 & echo $!; wait");
    long child = Processes.readPids(runner.stdout(), 1).get(0);
    AttachedRunner attached = reattacher.reattach(config(runner));

    attached.kill();

    Processes.awaitGone(runner.handle().pid());
    Processes.awaitGone(child);
  }

  @Test
  void onExitCompletesWhenTheProcessDiesWithoutTheAttachment() throws Exception {
    ProcessRunner runner = sleeper();
    AttachedRunner attached = reattacher.reattach(config(runner));

    runner.kill();

    assertThat(attached.onExit().get(WAIT.toSeconds(), TimeUnit.SECONDS)).isEqualTo(-1);
  }

  @Test
  void reattachToADeadPidFailsTyped() throws Exception {
    ProcessRunner runner = sleeper();
    ReattachConfig config = config(runner);
    runner.kill();

    assertThatThrownBy(() -> reattacher.reattach(config))
        .isInstanceOf(PluginStartException.class)
        .hasMessage(
            "plugin process "
                + runner.id()
                + " is not running; start a new client instead of reattaching");
  }

  @Test
  void reattachWithAnotherStartTimeRefusesAndLeavesTheProcessAlone() {
    ProcessRunner runner = sleeper();
    Instant real = runner.processStartTime().orElseThrow();
    ReattachConfig reused = config(runner.id(), real.minusSeconds(3600).toEpochMilli());

    assertThatThrownBy(() -> reattacher.reattach(reused))
        .isInstanceOf(PluginStartException.class)
        .hasMessageContaining("process " + runner.id() + " is not the plugin")
        .hasMessageContaining("pid was reused");
    assertThat(Processes.isGone(runner.handle().pid())).isFalse();
  }

  @Test
  void killOfAnAttachmentWhosePidWasReusedKillsNothing() throws Exception {
    ProcessRunner runner = sleeper();
    Instant real = runner.processStartTime().orElseThrow();
    // What an attachment made before the pid was reused looks like: same pid, another start.
    AttachedRunner stale =
        new ProcessReattacher.AttachedProcess(runner.handle(), real.minusSeconds(3600), Map.of());

    stale.kill();

    Thread.sleep(100);
    assertThat(Processes.isGone(runner.handle().pid())).isFalse();
    assertThat(stale.onExit().get(WAIT.toSeconds(), TimeUnit.SECONDS)).isEqualTo(-1);
  }

  @Test
  void startTimesWithinTheToleranceMatch() {
    ProcessRunner runner = sleeper();
    Instant real = runner.processStartTime().orElseThrow();

    AttachedRunner attached = reattacher.reattach(config(runner.id(), real.toEpochMilli() + 900));

    assertThat(attached.id()).isEqualTo(runner.id());
  }

  @Test
  void aConfigWithoutStartTimeIsRefused() {
    ProcessRunner runner = sleeper();

    assertThatThrownBy(() -> reattacher.reattach(configJson(runner.id(), "process", "")))
        .isInstanceOf(PluginStartException.class)
        .hasMessageContaining("has no \"start_time\" runner attribute");
  }

  @Test
  void aMalformedStartTimeIsRejected() {
    ProcessRunner runner = sleeper();

    assertThatThrownBy(
            () ->
                reattacher.reattach(
                    configJson(runner.id(), "process", "\"start_time\":\"yesterday\"")))
        .isInstanceOf(PluginException.class)
        .hasMessageContaining("expected epoch milliseconds");
  }

  @Test
  void aMalformedPidIsRejected() {
    assertThatThrownBy(() -> reattacher.reattach(configJson("abc", "process", "\"start_time\":\"1\"")))
        .isInstanceOf(PluginException.class)
        .hasMessageContaining("invalid runner id \"abc\"");
  }

  @Test
  void anotherRunnerKindIsRejected() {
    assertThatThrownBy(
            () -> reattacher.reattach(configJson("abc123", "container", "\"start_time\":\"1\"")))
        .isInstanceOf(PluginException.class)
        .hasMessageContaining("cannot reattach a runner of kind \"container\"");
  }

  // --- helpers

  private ProcessRunner sleeper() {
    return started("/bin/sleep", "300");
  }

  private ProcessRunner started(String... command) {
    ProcessRunner runner =
        new ProcessRunner(new PluginCommand(List.of(command), Map.of("PATH", "/usr/bin:/bin")));
    runners.add(runner);
    runner.start();
    return runner;
  }

  private static ReattachConfig config(ProcessRunner runner) {
    return config(runner.id(), Long.parseLong(runner.reattachAttributes().get("start_time")));
  }

  private static ReattachConfig config(String pid, long startMillis) {
    return configJson(pid, "process", "\"start_time\":\"" + startMillis + "\"");
  }

  /** Built from JSON, the form a later host receives. */
  private static ReattachConfig configJson(String id, String kind, String attributes) {
    return ReattachConfig.fromJson(
        "{\"protocol\":\"grpc\",\"protocol_version\":1,\"network\":\"unix\","
            + "\"address\":\"/tmp/plugin.sock\",\"runner_kind\":\""
            + kind
            + "\",\"runner_id\":\""
            + id
            + "\",\"runner_attributes\":{"
            + attributes
            + "}}");
  }
}
