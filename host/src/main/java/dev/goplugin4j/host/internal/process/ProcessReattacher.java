package dev.goplugin4j.host.internal.process;

import dev.goplugin4j.host.AttachedRunner;
import dev.goplugin4j.host.PluginStartException;
import dev.goplugin4j.host.ProcessIdentityException;
import dev.goplugin4j.host.ReattachConfig;
import dev.goplugin4j.host.Reattacher;
import dev.goplugin4j.protocol.NetAddress;
import dev.goplugin4j.protocol.PluginException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Re-acquires a plugin process from a {@link ReattachConfig} of kind {@value
 * ReattachConfig#KIND_PROCESS}: the runner id is the pid, and the attribute {@value
 * #START_TIME_ATTRIBUTE} its start time, so a pid reused by another process is never taken for the
 * plugin, neither when reattaching nor when killing.
 *
 * <p>On Linux the start is also recorded in clock ticks since boot ({@value
 * #START_TICKS_ATTRIBUTE}), and compared exactly: the JDK's start instants add the boot time each
 * JVM reads once from {@code /proc/stat}, in whole seconds, and it moves when the wall clock is
 * stepped, so two JVMs may disagree about the same process by a second or by the size of the step
 * (see {@link ProcessStart}). A config without ticks (another OS, an older host) is compared in
 * milliseconds with a tolerance of {@link #START_TIME_TOLERANCE}; a pid reused within that second
 * of the plugin's start is not a realistic risk.
 *
 * <p>A pid and a start time can be edited to name any process. Before it reattaches (and so
 * before anything could be killed) it also checks, on Linux, that the process runs the executable
 * recorded at start ({@value #EXECUTABLE_ATTRIBUTE}) and that it or a descendant holds the
 * listening socket at the config's address; otherwise it throws {@link ProcessIdentityException}
 * and touches nothing. {@link AttachedProcess#kill()} kills only a process whose start time and
 * executable it confirms again.
 *
 * <p>Stateless and thread-safe.
 */
public final class ProcessReattacher implements Reattacher {
  /** Runner attribute holding the process start time, epoch milliseconds in decimal. */
  public static final String START_TIME_ATTRIBUTE = "start_time";

  /**
   * Runner attribute holding the process start in clock ticks since boot ({@code /proc/<pid>/stat},
   * Linux only), in decimal; compared exactly when present.
   */
  public static final String START_TICKS_ATTRIBUTE = "start_ticks";

  /**
   * Runner attribute holding the process's executable as {@code /proc/<pid>/exe} named it at
   * start; compared again before reattaching and before killing.
   */
  public static final String EXECUTABLE_ATTRIBUTE = "executable";

  /** Largest difference between the recorded and the observed start time still taken as equal. */
  public static final Duration START_TIME_TOLERANCE = Duration.ofSeconds(1);

  private static final Logger LOG = LoggerFactory.getLogger(ProcessReattacher.class);
  private static final boolean PROC_AVAILABLE = Files.isDirectory(Path.of("/proc/self/fd"));

  /** Creates the reattacher. */
  public ProcessReattacher() {}

  /**
   * The runner attributes to record for a process in its reattach config.
   *
   * @param process the plugin process; not null
   * @return {@value #START_TIME_ATTRIBUTE} → start time in epoch milliseconds, and (on Linux)
   *     {@value #START_TICKS_ATTRIBUTE} → start in clock ticks since boot and {@value
   *     #EXECUTABLE_ATTRIBUTE} → the executable; without an entry the JDK or {@code /proc}
   *     cannot tell on this OS (reattaching then refuses without the start time, with a clear
   *     message)
   */
  public static Map<String, String> attributesFor(ProcessHandle process) {
    Objects.requireNonNull(process, "process");
    Map<String, String> attributes = new TreeMap<>();
    process
        .info()
        .startInstant()
        .ifPresent(start -> attributes.put(START_TIME_ATTRIBUTE, Long.toString(start.toEpochMilli())));
    ProcStat.startTicks(process.pid())
        .ifPresent(ticks -> attributes.put(START_TICKS_ATTRIBUTE, Long.toString(ticks)));
    ProcessIdentity.executable(process.pid())
        .ifPresent(exe -> attributes.put(EXECUTABLE_ATTRIBUTE, exe));
    return Map.copyOf(attributes);
  }

  /**
   * Finds the process and checks it is the one recorded.
   *
   * @param config a config of kind {@value ReattachConfig#KIND_PROCESS}; not null
   * @return a runner attached to the process; its exit status is unknown ({@code -1})
   * @throws PluginStartException if the process is not running, is another process with the same
   *     pid, or its identity cannot be verified
   * @throws PluginException if the config is not a process config or its pid is malformed
   */
  @Override
  public AttachedRunner reattach(ReattachConfig config) {
    Objects.requireNonNull(config, "config");
    if (!ReattachConfig.KIND_PROCESS.equals(config.runnerKind())) {
      throw new PluginException(
          "the process reattacher cannot reattach a runner of kind \""
              + config.runnerKind()
              + "\"; configure the reattacher of that runner (for example the container runner's)");
    }
    long pid = parsePid(config.runnerId());
    String recorded = config.runnerAttributes().get(START_TIME_ATTRIBUTE);
    if (recorded == null) {
      throw new PluginStartException(
          "the reattach config for plugin process "
              + pid
              + " has no \""
              + START_TIME_ATTRIBUTE
              + "\" runner attribute, so the process cannot be told apart from another one that"
              + " reused its pid; refusing to reattach. Start a new client instead");
    }
    Instant expected = parseStartTime(pid, recorded);
    String start = startToken(pid, config, expected);
    Optional<ProcessHandle> handle = ProcessHandle.of(pid).filter(ProcessTrees::isRunning);
    if (handle.isEmpty()) {
      throw notRunning(pid);
    }
    Instant actual = startInstant(handle.get(), pid);
    if (!ProcessStart.matches(pid, start)) {
      throw new PluginStartException(
          "process "
              + pid
              + " is not the plugin: it started at "
              + actual
              + (start.startsWith(ProcessStart.TICKS)
                  ? " (" + ProcStat.startTicks(pid).orElse(-1) + " clock ticks after boot)"
                  : "")
              + " but the reattach config records "
              + expected
              + (start.startsWith(ProcessStart.TICKS)
                  ? " (" + start.substring(ProcessStart.TICKS.length()) + " ticks)"
                  : "")
              + "; the plugin exited and its pid was reused. Start a new client instead of"
              + " reattaching");
    }
    confirmIdentity(pid, config);
    String socketDir = config.runnerAttributes().get("socket_dir");
    if (socketDir != null) {
      // this host now uses the plugin too: ProcessReaper must not take it for an orphan
      SocketDirOwner.addHost(Path.of(socketDir));
    }
    return new AttachedProcess(handle.get(), start, config.runnerAttributes());
  }

  /**
   * The start time matched; a config can be edited to match any process's pid and start time, so
   * check what an unrelated process cannot fake without being the plugin: the executable recorded
   * at start, and that the process (or a descendant) holds the listening socket the config names.
   * Without {@code /proc} neither can be checked: then the attachment is taken, but {@link
   * AttachedProcess#kill()} re-checks and kills only what it can confirm.
   */
  private static void confirmIdentity(long pid, ReattachConfig config) {
    if (!PROC_AVAILABLE) {
      return;
    }
    String recordedExe = config.runnerAttributes().get(EXECUTABLE_ATTRIBUTE);
    if (recordedExe != null) {
      Optional<String> exe = ProcessIdentity.executable(pid);
      if (exe.isEmpty() || !exe.get().equals(recordedExe)) {
        throw new ProcessIdentityException(
            "process " + pid + " is not the plugin, or its identity cannot be confirmed: it runs "
                + exe.map(e -> "\"" + e + "\"").orElse("an executable this user cannot see")
                + " but the reattach config records \"" + recordedExe + "\". The pid and start"
                + " time match, so the config may have been edited, or the plugin binary was"
                + " replaced on disk. Refusing to reattach; nothing was killed. Start a new client"
                + " instead");
      }
    }
    if (!ProcessIdentity.holdsListener(pid, config.address())) {
      throw new ProcessIdentityException(
          "process " + pid + " is not the plugin, or its identity cannot be confirmed: neither it"
              + " nor its children hold a listening socket at " + config.address()
              + ", the plugin's address in the reattach config. The config may have been edited,"
              + " or the plugin stopped serving. Refusing to reattach; nothing was killed. Start a"
              + " new client instead");
    }
  }

  private static long parsePid(String runnerId) {
    try {
      long pid = Long.parseLong(runnerId);
      if (pid > 0) {
        return pid;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new PluginException(
        "invalid runner id \"" + runnerId + "\" in a process reattach config: expected a pid");
  }

  private static Instant parseStartTime(long pid, String recorded) {
    try {
      return Instant.ofEpochMilli(Long.parseLong(recorded));
    } catch (NumberFormatException e) {
      throw new PluginException(
          "invalid \""
              + START_TIME_ATTRIBUTE
              + "\" attribute \""
              + recorded
              + "\" in the reattach config of process "
              + pid
              + ": expected epoch milliseconds",
          e);
    }
  }

  /**
   * The {@link ProcessStart} token to compare the process with: its ticks when the config records
   * them, else its milliseconds.
   */
  private static String startToken(long pid, ReattachConfig config, Instant millis) {
    String ticks = config.runnerAttributes().get(START_TICKS_ATTRIBUTE);
    if (ticks == null) {
      return Long.toString(millis.toEpochMilli());
    }
    String token = ProcessStart.TICKS + ticks;
    if (!ProcessStart.isToken(token)) {
      throw new PluginException(
          "invalid \"" + START_TICKS_ATTRIBUTE + "\" attribute \"" + ticks
              + "\" in the reattach config of process " + pid
              + ": expected clock ticks since boot, in decimal");
    }
    return token;
  }

  private static Instant startInstant(ProcessHandle handle, long pid) {
    return handle
        .info()
        .startInstant()
        .orElseThrow(
            () ->
                new PluginStartException(
                    "cannot verify that process "
                        + pid
                        + " is the plugin: this JDK does not report process start times on "
                        + System.getProperty("os.name")
                        + "; refusing to reattach rather than risk killing an unrelated process"));
  }

  private static PluginStartException notRunning(long pid) {
    return new PluginStartException(
        "plugin process "
            + pid
            + " is not running; start a new client instead of reattaching");
  }

  /**
   * A plugin process this JVM did not start (or no longer owns as a {@link Process}), identified
   * by pid and recorded start ({@link ProcessStart} token). Package-private for tests that
   * simulate a reused pid.
   */
  static final class AttachedProcess implements AttachedRunner {
    private final ProcessHandle handle;
    private final String startTime;
    private final Map<String, String> attributes;
    private final CompletableFuture<Integer> exit = new CompletableFuture<>();

    AttachedProcess(ProcessHandle handle, String startTime, Map<String, String> attributes) {
      this.handle = handle;
      this.startTime = startTime;
      this.attributes = Map.copyOf(attributes);
      handle.onExit().whenComplete((h, e) -> exit.complete(-1));
    }

    /** Completes with {@code -1} (the status of a process that is not our child is unknown). */
    @Override
    public CompletableFuture<Integer> onExit() {
      return exit.copy();
    }

    /**
     * Kills the process tree, after checking again that the pid still belongs to the plugin (start
     * time, and the executable recorded at start): if it has been reused, the plugin is gone and
     * nothing is killed; if the identity cannot be confirmed (no executable recorded, or no
     * {@code /proc}), nothing is killed and a warning says so.
     */
    @Override
    public void kill() {
      long pid = handle.pid();
      Optional<ProcessHandle> current = ProcessHandle.of(pid).filter(ProcessTrees::isRunning);
      if (current.isEmpty()) {
        exit.complete(-1);
        return;
      }
      if (!ProcessStart.matches(pid, startTime)) {
        LOG.warn(
            "not killing process {}: it started at {}, not at {} as the plugin did; the plugin is"
                + " gone and its pid was reused",
            pid,
            ProcessStart.of(pid).map(ProcessStart::describe).orElse("an unknown time"),
            ProcessStart.describe(startTime));
        exit.complete(-1);
        return;
      }
      String recordedExe = attributes.get(EXECUTABLE_ATTRIBUTE);
      if (!PROC_AVAILABLE || recordedExe == null
          || !ProcessIdentity.executable(pid).map(recordedExe::equals).orElse(false)) {
        LOG.warn(
            "not killing process {}: its identity as the plugin cannot be confirmed (executable {}"
                + " recorded, {} now); kill it yourself if it is the plugin",
            pid,
            recordedExe == null ? "not" : "\"" + recordedExe + "\"",
            ProcessIdentity.executable(pid).map(e -> "\"" + e + "\"").orElse("unknown"));
        exit.complete(-1);
        return;
      }
      List<ProcessHandle> descendants = ProcessTrees.destroyTree(current.get());
      try {
        if (!ProcessTrees.awaitGone(List.of(current.get()), ProcessRunner.KILL_TIMEOUT).isEmpty()) {
          throw new PluginException(
              "plugin process "
                  + pid
                  + " did not exit within "
                  + ProcessRunner.KILL_TIMEOUT.toSeconds()
                  + " s of SIGKILL; it is probably stuck in the kernel (uninterruptible I/O)");
        }
        List<ProcessHandle> left = ProcessTrees.awaitGone(descendants, ProcessRunner.KILL_TIMEOUT);
        if (!left.isEmpty()) {
          LOG.warn(
              "child processes {} of plugin process {} did not exit within {} s of SIGKILL",
              left.stream().map(ProcessHandle::pid).toList(),
              pid,
              ProcessRunner.KILL_TIMEOUT.toSeconds());
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new PluginException(
            "interrupted while waiting for plugin process " + pid + " to exit", e);
      }
      exit.complete(-1);
    }

    @Override
    public String id() {
      return Long.toString(handle.pid());
    }

    @Override
    public String kind() {
      return ReattachConfig.KIND_PROCESS;
    }

    @Override
    public Map<String, String> reattachAttributes() {
      return attributes;
    }

    @Override
    public NetAddress pluginToHost(NetAddress pluginAddress) {
      return pluginAddress;
    }

    @Override
    public NetAddress hostToPlugin(NetAddress hostAddress) {
      return hostAddress;
    }

    @Override
    public String toString() {
      return "AttachedProcess[pid " + handle.pid() + "]";
    }
  }
}
