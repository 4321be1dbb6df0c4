package dev.goplugin4j.host.internal.process;

import static dev.goplugin4j.host.internal.process.Processes.WAIT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.goplugin4j.host.AttachedRunner;
import dev.goplugin4j.host.PluginCommand;
import dev.goplugin4j.host.PluginStartException;
import dev.goplugin4j.host.ProcessIdentityException;
import dev.goplugin4j.host.ReattachConfig;
import dev.goplugin4j.protocol.NetAddress;
import dev.goplugin4j.protocol.PluginException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProcessReattacherTest {
  private final ProcessReattacher reattacher = new ProcessReattacher();
  private final List<ProcessRunner> runners = new ArrayList<>();

  @AfterEach
  void killEverything() {
    runners.forEach(ProcessRunner::kill);
  }

  @TempDir Path tmp;

  @Test
  void attributesRecordTheStartInEpochMillisAndInTicksAndTheExecutable() throws Exception {
    ProcessRunner runner = sleeper();
    Instant start = runner.handle().info().startInstant().orElseThrow();

    assertThat(ProcessReattacher.attributesFor(runner.handle()))
        .isEqualTo(
            Map.of(
                "start_time", Long.toString(start.toEpochMilli()),
                "start_ticks", Long.toString(ProcStat.startTicks(runner.handle().pid()).orElseThrow()),
                "executable", Path.of("/bin/sleep").toRealPath().toString()));
  }

  @Test
  void anEditedConfigNamingAProcessThatDoesNotHoldThePluginSocketIsRefusedAndNothingIsKilled() {
    ProcessRunner plugin = sleeper(); // its socket: none
    ProcessRunner unrelated = started("/bin/sleep", "301");
    // the pid, start time and executable of the unrelated process, the plugin's address
    ReattachConfig edited = config(unrelated, tmp.resolve("plugin.sock").toString());

    assertThatThrownBy(() -> reattacher.reattach(edited))
        .isInstanceOf(ProcessIdentityException.class)
        .hasMessageContaining("process " + unrelated.id() + " is not the plugin")
        .hasMessageContaining("hold a listening socket at unix:" + tmp.resolve("plugin.sock"))
        .hasMessageContaining("nothing was killed");
    assertThat(Processes.isGone(unrelated.handle().pid())).isFalse();
    assertThat(Processes.isGone(plugin.handle().pid())).isFalse();
  }

  @Test
  void anEditedConfigNamingAProcessOfAnotherExecutableIsRefusedAndNothingIsKilled()
      throws Exception {
    Listener listener = listener();
    Map<String, String> attributes = new TreeMap<>(listener.runner.reattachAttributes());
    attributes.put("executable", "/opt/plugins/the-real-plugin");

    assertThatThrownBy(() -> reattacher.reattach(config(listener, attributes)))
        .isInstanceOf(ProcessIdentityException.class)
        .hasMessageContaining("process " + listener.runner.id() + " is not the plugin")
        .hasMessageContaining("records \"/opt/plugins/the-real-plugin\"")
        .hasMessageContaining("nothing was killed");
    assertThat(Processes.isGone(listener.runner.handle().pid())).isFalse();
  }

  @Test
  void killOfAnAttachmentWithoutARecordedExecutableKillsNothing() throws Exception {
    ProcessRunner runner = sleeper();
    String real = ProcessStart.of(runner.handle().pid()).orElseThrow();
    AttachedRunner unconfirmed = new ProcessReattacher.AttachedProcess(runner.handle(), real, Map.of());

    unconfirmed.kill();

    Thread.sleep(100);
    assertThat(Processes.isGone(runner.handle().pid())).isFalse();
  }

  @Test
  void reattachToALiveProcessAndKillItThroughTheAttachment() throws Exception {
    Listener listener = listener();
    ProcessRunner runner = listener.runner;
    long pid = runner.handle().pid();

    AttachedRunner attached = reattacher.reattach(config(listener));

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
    Path socket = tmp.resolve("tree.sock");
    ProcessRunner runner =
        started("/bin/sh", "-c", "sleep 300 & echo $!; " + LISTEN + " '" + socket + "' & wait");
    long child = Processes.readPids(runner.stdout(), 1).get(0);
    awaitSocket(socket);
    AttachedRunner attached = reattacher.reattach(config(runner, socket.toString()));

    attached.kill();

    Processes.awaitGone(runner.handle().pid());
    Processes.awaitGone(child);
  }

  @Test
  void onExitCompletesWhenTheProcessDiesWithoutTheAttachment() throws Exception {
    Listener listener = listener();
    ProcessRunner runner = listener.runner;
    AttachedRunner attached = reattacher.reattach(config(listener));

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
    long real = ProcStat.startTicks(runner.handle().pid()).orElseThrow();
    // What an attachment made before the pid was reused looks like: same pid, another start.
    AttachedRunner stale =
        new ProcessReattacher.AttachedProcess(runner.handle(), "t" + (real - 1), Map.of());

    stale.kill();

    Thread.sleep(100);
    assertThat(Processes.isGone(runner.handle().pid())).isFalse();
    assertThat(stale.onExit().get(WAIT.toSeconds(), TimeUnit.SECONDS)).isEqualTo(-1);
  }

  @Test
  void withoutTicksStartTimesWithinTheToleranceMatch() throws Exception {
    Listener listener = listener();
    ProcessRunner runner = listener.runner;
    Instant real = runner.processStartTime().orElseThrow();
    Map<String, String> attributes = new TreeMap<>(runner.reattachAttributes());
    attributes.remove("start_ticks"); // a config from another OS or an older host
    attributes.put("start_time", Long.toString(real.toEpochMilli() + 900));

    AttachedRunner attached = reattacher.reattach(config(listener, attributes));

    assertThat(attached.id()).isEqualTo(runner.id());
  }

  @Test
  void withTicksAHostWhoseClockWasSteppedStillReattaches() throws Exception {
    Listener listener = listener();
    ProcessRunner runner = listener.runner;
    Instant real = runner.processStartTime().orElseThrow();
    Map<String, String> attributes = new TreeMap<>(runner.reattachAttributes());
    // the JVM that wrote the config read another boot time: its start_time is off by an hour
    attributes.put("start_time", Long.toString(real.minusSeconds(3600).toEpochMilli()));

    AttachedRunner attached = reattacher.reattach(config(listener, attributes));
    attached.kill();

    Processes.awaitGone(runner.handle().pid());
  }

  @Test
  void withTicksAnotherStartIsRefusedEvenWithinAMillisecondOfTheRecordedTime() throws Exception {
    Listener listener = listener();
    ProcessRunner runner = listener.runner;
    Map<String, String> attributes = new TreeMap<>(runner.reattachAttributes());
    long ticks = Long.parseLong(attributes.get("start_ticks"));
    attributes.put("start_ticks", Long.toString(ticks + 1));

    assertThatThrownBy(() -> reattacher.reattach(config(listener, attributes)))
        .isInstanceOf(PluginStartException.class)
        .hasMessageContaining("process " + runner.id() + " is not the plugin")
        .hasMessageContaining("(" + ticks + " clock ticks after boot)")
        .hasMessageContaining("(" + (ticks + 1) + " ticks)");
    attributes.put("start_ticks", "soon");
    assertThatThrownBy(() -> reattacher.reattach(config(listener, attributes)))
        .isInstanceOf(PluginException.class)
        .hasMessageContaining("invalid \"start_ticks\" attribute \"soon\"");
    assertThat(Processes.isGone(runner.handle().pid())).isFalse();
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

  /** A process that listens on a Unix socket, as a plugin does. */
  private static final String LISTEN =
      "/usr/bin/python3 -c 'import socket,sys,time; s=socket.socket(socket.AF_UNIX);"
          + " s.bind(sys.argv[1]); s.listen(); time.sleep(300)'";

  private record Listener(ProcessRunner runner, Path socket) {}

  private Listener listener() throws Exception {
    Path socket = tmp.resolve("plugin" + runners.size() + ".sock");
    ProcessRunner runner = started("/bin/sh", "-c", "exec " + LISTEN + " '" + socket + "'");
    awaitSocket(socket);
    return new Listener(runner, socket);
  }

  private static void awaitSocket(Path socket) throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (ProcessIdentity.listenerInodes(NetAddress.unix(socket.toString())).isEmpty()) {
      assertThat(System.nanoTime()).as("%s listens in time", socket).isLessThan(deadline);
      Thread.sleep(10);
    }
  }

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

  private static ReattachConfig config(Listener listener) {
    return config(listener, listener.runner.reattachAttributes());
  }

  private static ReattachConfig config(Listener listener, Map<String, String> attributes) {
    return withAddress(listener.runner.id(), attributes, listener.socket.toString());
  }

  private static ReattachConfig config(ProcessRunner runner, String socket) {
    return withAddress(runner.id(), runner.reattachAttributes(), socket);
  }

  private static ReattachConfig withAddress(String id, Map<String, String> attributes, String socket) {
    ReattachConfig base = configJson(id, "process", "");
    return new ReattachConfig(base.protocol(), base.protocolVersion(), NetAddress.unix(socket),
        base.runnerKind(), base.runnerId(), attributes, false, "", "", "", false);
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
