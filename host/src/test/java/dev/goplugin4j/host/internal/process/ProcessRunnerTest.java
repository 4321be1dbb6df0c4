package dev.goplugin4j.host.internal.process;

import static dev.goplugin4j.host.internal.process.Processes.WAIT;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.goplugin4j.host.PluginCommand;
import dev.goplugin4j.host.PluginStartException;
import dev.goplugin4j.host.ReattachConfig;
import dev.goplugin4j.host.internal.log.StderrPump;
import dev.goplugin4j.protocol.NetAddress;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

class ProcessRunnerTest {
  @TempDir Path tmp;

  private final List<ProcessRunner> runners = new ArrayList<>();

  @AfterEach
  void killEverything() {
    runners.forEach(ProcessRunner::kill);
  }

  @Test
  void childSeesExactlyTheGivenEnvironment() throws Exception {
    ProcessRunner runner =
        started(List.of("/usr/bin/env"), Map.of("PLUGIN_A", "1", "PLUGIN_B", "two words"));

    String out = new String(runner.stdout().readAllBytes(), UTF_8);

    assertThat(out.lines().sorted()).containsExactly("PLUGIN_A=1", "PLUGIN_B=two words");
    assertThat(runner.onExit().get(WAIT.toSeconds(), TimeUnit.SECONDS)).isZero();
  }

  @Test
  void theOwnerRecordIsCompletedOnTheBookkeepingExecutorAndOwnerRecordedTellsWhen()
      throws Exception {
    Path dir = Files.createDirectory(tmp.resolve("goplugin4j-4242"));
    SocketDirOwner.recordHost(dir);
    List<Runnable> jobs = new ArrayList<>();
    ProcessRunner runner = new ProcessRunner(
        new PluginCommand(List.of("/bin/sleep", "300"),
            Map.of(dev.goplugin4j.protocol.PluginEnv.UNIX_SOCKET_DIR, dir.toString())),
        null, jobs::add);
    runners.add(runner);
    runner.start();

    assertThat(runner.ownerRecorded()).isNotDone();
    assertThat(SocketDirOwner.read(dir).orElseThrow()).doesNotContainKey("plugin_pid");
    assertThat(jobs).hasSize(1);
    jobs.get(0).run();
    assertThat(runner.ownerRecorded()).isDone();
    assertThat(SocketDirOwner.read(dir).orElseThrow()).containsEntry("plugin_pid", runner.id())
        .containsEntry("runner", "process");
  }

  @Test
  void theBookkeepingJobReadsThePluginsReattachAttributesAheadAndTheyOutliveIt() throws Exception {
    List<Runnable> jobs = new ArrayList<>();
    ProcessRunner runner = new ProcessRunner(
        new PluginCommand(List.of("/bin/sleep", "300"), Map.of()), null, jobs::add);
    runners.add(runner);
    runner.start();
    Instant start = runner.processStartTime().orElseThrow();
    Map<String, String> expected = Map.of(
        ProcessReattacher.START_TIME_ATTRIBUTE, Long.toString(start.toEpochMilli()),
        ProcessReattacher.START_TICKS_ATTRIBUTE,
        Long.toString(ProcStat.startTicks(runner.handle().pid()).orElseThrow()),
        ProcessReattacher.EXECUTABLE_ATTRIBUTE, Path.of("/bin/sleep").toRealPath().toString());

    assertThat(jobs).hasSize(1);
    jobs.get(0).run();

    // the plugin's own executable, not the JDK's spawn helper: the exec was done when start returned
    assertThat(runner.reattachAttributes()).isEqualTo(expected);
    runner.kill();
    assertThat(runner.reattachAttributes()).isEqualTo(expected);
  }

  @Test
  void anOwnerRecordRemovedBeforeTheLateWriteIsNotWrittenAgain() throws Exception {
    Path dir = Files.createDirectory(tmp.resolve("goplugin4j-4343"));
    SocketDirOwner.recordHost(dir);
    List<Runnable> jobs = new ArrayList<>();
    ProcessRunner runner = new ProcessRunner(
        new PluginCommand(List.of("/bin/sleep", "300"),
            Map.of(dev.goplugin4j.protocol.PluginEnv.UNIX_SOCKET_DIR, dir.toString())),
        null, jobs::add);
    runners.add(runner);
    runner.start();
    SocketDirOwner.remove(dir); // a teardown that came first

    jobs.get(0).run();

    assertThat(SocketDirOwner.recordOf(dir)).doesNotExist();
    assertThat(runner.ownerRecorded()).isDone();
  }

  @Test
  void aRejectedBookkeepingJobIsDoneInStart() throws Exception {
    Path dir = Files.createDirectory(tmp.resolve("goplugin4j-4444"));
    SocketDirOwner.recordHost(dir);
    ProcessRunner runner = new ProcessRunner(
        new PluginCommand(List.of("/bin/sleep", "300"),
            Map.of(dev.goplugin4j.protocol.PluginEnv.UNIX_SOCKET_DIR, dir.toString())),
        null, job -> {
          throw new java.util.concurrent.RejectedExecutionException("shut down");
        });
    runners.add(runner);
    runner.start();

    assertThat(runner.ownerRecorded()).isDone();
    assertThat(SocketDirOwner.read(dir).orElseThrow()).containsEntry("plugin_pid", runner.id());
  }

  @Test
  void stdoutAndStderrAreSeparate() throws Exception {
    ProcessRunner runner = sh("echo out; echo err >&2; echo out2");

    assertThat(new String(runner.stdout().readAllBytes(), UTF_8)).isEqualTo("out\nout2\n");
    assertThat(new String(runner.stderr().readAllBytes(), UTF_8)).isEqualTo("err\n");
  }

  @Test
  void stdinIsEmpty() throws Exception {
    ProcessRunner runner = sh("cat; echo done");

    assertThat(new String(runner.stdout().readAllBytes(), UTF_8)).isEqualTo("done\n");
  }

  @Test
  void onExitCompletesWithTheExitStatusAndDiagnoseReportsIt() throws Exception {
    ProcessRunner runner = sh("exit 3");

    assertThat(runner.onExit().get(WAIT.toSeconds(), TimeUnit.SECONDS)).isEqualTo(3);
    assertThat(runner.diagnose())
        .startsWith("plugin process /bin/sh (pid " + runner.id() + ") exited with status 3");
  }

  @Test
  void diagnoseExplainsAGoPanicStatus() throws Exception {
    ProcessRunner runner = sh("exit 2");
    runner.onExit().get(WAIT.toSeconds(), TimeUnit.SECONDS);

    assertThat(runner.diagnose()).contains("exited with status 2 (a Go program exits with 2 on a panic");
  }

  @Test
  void diagnoseSaysAProcessIsStillRunningAndDescribesTheExecutable() {
    ProcessRunner runner = started(List.of("/bin/sleep", "300"), Map.of());

    assertThat(runner.diagnose())
        .startsWith("plugin process /bin/sleep (pid " + runner.id() + ") is still running")
        .contains("Additional notes about plugin:", "Mode: r", "Owner: ", "Format: ELF, architecture");
  }

  @Test
  void completingTheReturnedExitFutureDoesNotAffectTheRunner() throws Exception {
    ProcessRunner runner = started(List.of("/bin/sleep", "300"), Map.of());

    runner.onExit().complete(42);

    assertThat(runner.onExit()).isNotDone();
    runner.kill();
    assertThat(runner.onExit().get(WAIT.toSeconds(), TimeUnit.SECONDS)).isEqualTo(128 + 9);
  }

  @Test
  void idIsThePidAndNameTheExecutable() {
    ProcessRunner runner = started(List.of("/bin/sleep", "300"), Map.of());

    assertThat(runner.id()).isEqualTo(Long.toString(runner.handle().pid()));
    assertThat(runner.name()).isEqualTo("/bin/sleep");
    assertThat(runner.kind()).isEqualTo(ReattachConfig.KIND_PROCESS);
  }

  @Test
  void addressesAreNotTranslated() {
    ProcessRunner runner = new ProcessRunner(new PluginCommand(List.of("/bin/true"), Map.of()));
    NetAddress address = NetAddress.unix("/tmp/plugin.sock");

    assertThat(runner.pluginToHost(address)).isSameAs(address);
    assertThat(runner.hostToPlugin(address)).isSameAs(address);
  }

  @Test
  void processStartTimeIsReportedAndRecordedForReattach() throws Exception {
    Instant before = Instant.now().minusSeconds(2);
    ProcessRunner runner = started(List.of("/bin/sleep", "300"), Map.of());

    Instant start = runner.processStartTime().orElseThrow();

    assertThat(start).isAfter(before).isBefore(Instant.now().plusSeconds(2));
    assertThat(runner.reattachAttributes())
        .containsOnly(
            Map.entry(ProcessReattacher.START_TIME_ATTRIBUTE, Long.toString(start.toEpochMilli())),
            Map.entry(ProcessReattacher.START_TICKS_ATTRIBUTE,
                Long.toString(ProcStat.startTicks(runner.handle().pid()).orElseThrow())),
            Map.entry(
                ProcessReattacher.EXECUTABLE_ATTRIBUTE,
                java.nio.file.Path.of("/bin/sleep").toRealPath().toString()));
  }

  @Test
  void workingDirectoryIsTheConfiguredOne() throws Exception {
    ProcessRunner runner = new ProcessRunner(new PluginCommand(List.of("/bin/pwd"), Map.of()), tmp);
    runners.add(runner);
    runner.start();

    assertThat(new String(runner.stdout().readAllBytes(), UTF_8).trim())
        .isEqualTo(tmp.toRealPath().toString());
  }

  @Test
  void relativeExecutableResolvesAgainstTheWorkingDirectory() throws Exception {
    Path script = tmp.resolve("plugin.sh");
    Files.writeString(script, "#!/bin/sh\necho relative\n");
    Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwx------"));
    ProcessRunner runner = new ProcessRunner(new PluginCommand(List.of("./plugin.sh"), Map.of()), tmp);
    runners.add(runner);
    runner.start();

    assertThat(new String(runner.stdout().readAllBytes(), UTF_8)).isEqualTo("relative\n");
  }

  @Test
  void killAlsoKillsChildProcesses() throws Exception {
    // A child and a grandchild, each printing its pid.
    ProcessRunner runner =
        sh("sleep 300 & echo $!; sh -c 'sleep 300 & echo $!; wait' & echo $!; wait");
    List<Long> pids = Processes.readPids(runner.stdout(), 3);
    assertThat(pids).allSatisfy(pid -> assertThat(Processes.isGone(pid)).isFalse());
    assertThat(runner.handle().descendants().map(ProcessHandle::pid)).containsAll(pids);

    runner.kill();

    assertThat(runner.handle().isAlive()).isFalse();
    for (long pid : pids) {
      Processes.awaitGone(pid);
    }
    // Descendants die first, so the shell may see its children gone and exit by itself.
    assertThat(runner.onExit().get(WAIT.toSeconds(), TimeUnit.SECONDS)).isIn(0, 128 + 9);
  }

  @Test
  void diagnoseNamesTheSignalThatKilledTheProcess() throws Exception {
    ProcessRunner runner = started(List.of("/bin/sleep", "300"), Map.of());

    runner.kill();

    assertThat(runner.onExit().get(WAIT.toSeconds(), TimeUnit.SECONDS)).isEqualTo(128 + 9);
    assertThat(runner.diagnose()).contains("exited with status 137 (killed by signal 9, SIGKILL");
  }

  @Test
  void killIsIdempotent() throws Exception {
    ProcessRunner runner = started(List.of("/bin/sleep", "300"), Map.of());

    runner.kill();
    runner.kill();

    assertThat(runner.onExit().get(WAIT.toSeconds(), TimeUnit.SECONDS)).isEqualTo(137);
  }

  @Test
  void killAfterTheProcessExitedIsFine() throws Exception {
    ProcessRunner runner = sh("exit 0");
    assertThat(runner.onExit().get(WAIT.toSeconds(), TimeUnit.SECONDS)).isZero();

    runner.kill();

    assertThat(runner.onExit().get()).isZero();
  }

  @Test
  void killClosesThePipes() throws Exception {
    ProcessRunner runner = started(List.of("/bin/sleep", "300"), Map.of());

    runner.kill();

    assertThatThrownBy(() -> runner.stderr().read()).isInstanceOf(IOException.class);
  }

  @Test
  void killBeforeStartMakesStartRefuse() throws Exception {
    ProcessRunner runner = new ProcessRunner(new PluginCommand(List.of("/bin/true"), Map.of()));

    runner.kill();

    assertThat(runner.onExit().get(WAIT.toSeconds(), TimeUnit.SECONDS)).isEqualTo(-1);
    assertThatThrownBy(runner::start)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("killed before it started");
  }

  @Test
  void startTwiceIsRefused() {
    ProcessRunner runner = started(List.of("/bin/sleep", "300"), Map.of());

    assertThatThrownBy(runner::start).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void streamsAndIdAreUnavailableBeforeStart() {
    ProcessRunner runner = new ProcessRunner(new PluginCommand(List.of("/bin/true"), Map.of()));

    assertThatThrownBy(runner::stdout).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(runner::id).isInstanceOf(IllegalStateException.class);
    assertThat(runner.diagnose()).isEqualTo("plugin process /bin/true was not started");
  }

  @Test
  void anEmptyCommandLineIsRejected() {
    assertThatThrownBy(() -> new ProcessRunner(new PluginCommand(List.of(), Map.of())))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void missingExecutableFailsTypedAndSaysSo() throws Exception {
    Path missing = tmp.resolve("no-such-plugin");
    ProcessRunner runner = new ProcessRunner(new PluginCommand(List.of(missing.toString()), Map.of()));

    assertThatThrownBy(runner::start)
        .isInstanceOf(PluginStartException.class)
        .hasMessageContaining("plugin executable " + missing + " does not exist")
        .hasMessageContaining("check the command path");
    assertThat(runner.diagnose()).contains("does not exist");
    assertThat(runner.onExit().get(WAIT.toSeconds(), TimeUnit.SECONDS)).isEqualTo(-1);
    runner.kill();
  }

  @Test
  void nonExecutableFileFailsTypedAndSaysHowToFixIt() throws Exception {
    Path plugin = tmp.resolve("plugin");
    Files.writeString(plugin, "#!/bin/sh\necho hi\n");
    Files.setPosixFilePermissions(plugin, PosixFilePermissions.fromString("rw-r--r--"));
    ProcessRunner runner = new ProcessRunner(new PluginCommand(List.of(plugin.toString()), Map.of()));

    assertThatThrownBy(runner::start)
        .isInstanceOf(PluginStartException.class)
        .hasMessageContaining("is not executable")
        .hasMessageContaining("chmod +x " + plugin)
        .hasMessageContaining("Mode: rw-r--r--");
  }

  @Test
  void directoryAsExecutableFailsTyped() {
    ProcessRunner runner = new ProcessRunner(new PluginCommand(List.of(tmp.toString()), Map.of()));

    assertThatThrownBy(runner::start)
        .isInstanceOf(PluginStartException.class)
        .hasMessageContaining("is a directory");
  }

  @Test
  void bareNameNotInPathFailsTyped() {
    ProcessRunner runner =
        new ProcessRunner(new PluginCommand(List.of("goplugin4j-no-such-plugin"), Map.of()));

    assertThatThrownBy(runner::start)
        .isInstanceOf(PluginStartException.class)
        .hasMessageContaining("\"goplugin4j-no-such-plugin\" was not found in PATH");
  }

  @Test
  void bareNameIsFoundInTheHostPath() throws Exception {
    ProcessRunner runner = started(List.of("echo", "from", "path"), Map.of());

    assertThat(new String(runner.stdout().readAllBytes(), UTF_8)).isEqualTo("from path\n");
  }

  @Test
  void stderrPumpOfARealProcessLogsEverythingAndItsThreadEnds() throws Exception {
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    ch.qos.logback.classic.Logger logger = context.getLogger("test.process.stderr");
    logger.setLevel(Level.TRACE);
    logger.setAdditive(false);
    ListAppender<ILoggingEvent> appender = new ListAppender<>();
    appender.start();
    logger.addAppender(appender);
    ProcessRunner runner =
        sh("echo '[WARN] careful' >&2; echo '{\"@level\":\"info\",\"@message\":\"hi\"}' >&2;"
            + " echo 'panic: boom' >&2; echo 'goroutine 1' >&2; exit 2");

    StderrPump pump = StderrPump.start("sh", runner.stderr(), logger, null);
    try {
      assertThat(pump.awaitDrained(WAIT)).isTrue();
      assertThat(appender.list.stream().map(e -> e.getLevel() + " " + e.getFormattedMessage()))
          .containsExactly("WARN [WARN] careful", "INFO hi", "ERROR panic: boom", "ERROR goroutine 1");
      assertThat(pump.recentLines()).hasSize(4);
    } finally {
      runner.kill();
      pump.close();
      logger.detachAppender(appender);
    }
    assertThat(threadsNamed(StderrPump.THREAD_NAME_PREFIX + "sh")).isEmpty();
  }

  @Test
  void stderrPumpThreadEndsWhenItsProcessIsKilled() throws Exception {
    ProcessRunner runner = started(List.of("/bin/sleep", "300"), Map.of());
    StderrPump pump =
        StderrPump.start("sleeper", runner.stderr(), LoggerFactory.getLogger("test.sleeper"), null);

    runner.kill();
    pump.close();

    assertThat(pump.drained()).isCompleted();
    assertThat(threadsNamed(StderrPump.THREAD_NAME_PREFIX + "sleeper")).isEmpty();
  }

  // --- helpers

  private ProcessRunner sh(String script) {
    return started(List.of("/bin/sh", "-c", script), Map.of("PATH", "/usr/bin:/bin"));
  }

  private ProcessRunner started(List<String> command, Map<String, String> env) {
    ProcessRunner runner = new ProcessRunner(new PluginCommand(command, env));
    runners.add(runner);
    runner.start();
    return runner;
  }

  private static List<String> threadsNamed(String name) throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    List<String> found;
    do {
      Thread[] threads = new Thread[Thread.activeCount() + 16];
      int n = Thread.enumerate(threads);
      found =
          Arrays.stream(threads, 0, n)
              .filter(t -> t.getName().equals(name))
              .map(Thread::getName)
              .collect(Collectors.toList());
      if (!found.isEmpty()) {
        Thread.sleep(10);
      }
    } while (!found.isEmpty() && System.nanoTime() < deadline);
    return found;
  }

  @Test
  void aSpawnHelperKilledBySignalIsReportedAsAKillNotAsABadBinary() {
    String message = ProcessRunner.spawnFailure(java.nio.file.Path.of("/opt/p/plugin"),
        new java.io.IOException("Cannot run program \"/opt/p/plugin\": error=0, Failed to exec"
            + " spawn helper: pid: 4242, signal: 9"), false);

    assertThat(message)
        .startsWith("plugin process /opt/p/plugin was killed while the JDK was spawning it")
        .contains("spawn helper (pid 4242)")
        .contains("signal 9, SIGKILL")
        .contains("the plugin binary is not at fault")
        .doesNotContain("check that it is a plugin binary");
  }

  @Test
  void aSpawnCancelledByCloseSaysSo() {
    String message = ProcessRunner.spawnFailure(java.nio.file.Path.of("/opt/p/plugin"),
        new java.io.IOException("Failed to exec spawn helper: pid: 1, exit value: 1"), true);

    assertThat(message)
        .startsWith("the start of plugin process /opt/p/plugin was cancelled: the client was closed")
        .doesNotContain("check that it is a plugin binary");
  }

  @Test
  void anyOtherSpawnFailurePointsAtTheBinary() {
    String message = ProcessRunner.spawnFailure(java.nio.file.Path.of("/opt/p/plugin"),
        new java.io.IOException("error=8, Exec format error"), false);

    assertThat(message).contains("check that it is a plugin binary built for this OS");
  }
}
