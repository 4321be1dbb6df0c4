package dev.goplugin4j.host.internal.process;

import dev.goplugin4j.host.PluginCommand;
import dev.goplugin4j.host.PluginStartException;
import dev.goplugin4j.host.ReattachConfig;
import dev.goplugin4j.host.Runner;
import dev.goplugin4j.host.RunnerFactory;
import dev.goplugin4j.protocol.NetAddress;
import dev.goplugin4j.protocol.PluginEnv;
import dev.goplugin4j.protocol.PluginException;
import java.io.Closeable;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a plugin as a local child process: go-plugin's {@code CmdRunner}.
 *
 * <p>The child gets exactly the environment in the {@link PluginCommand} (nothing inherited from
 * this JVM beyond it), stdin from {@code /dev/null}, and the working directory given here (default:
 * this JVM's). {@link #kill()} kills the whole process tree, so helpers the plugin spawned do not
 * outlive it. Addresses are not translated.
 *
 * <p>Thread-safe.
 */
public final class ProcessRunner implements Runner {
  /** How long {@link #kill()} waits for the killed process to exit: 10 s. */
  public static final Duration KILL_TIMEOUT = Duration.ofSeconds(10);

  private static final Logger LOG = LoggerFactory.getLogger(ProcessRunner.class);
  private static final File DEV_NULL = new File("/dev/null");
  /**
   * Serializes our spawns, so that the pipes each one opens are told apart ({@link
   * PipeHolders#record}); a spawn takes about a millisecond.
   */
  private static final Object SPAWN_LOCK = new Object();

  /** The JDK's (17 to 25) message when its spawn helper died of a signal. */
  private static final Pattern SPAWN_HELPER_SIGNAL =
      Pattern.compile("spawn helper: pid: (\\d+), signal: (\\d+)");

  private final PluginCommand command;
  private final Path workingDirectory;
  private final String name;
  private final CompletableFuture<Integer> exit = new CompletableFuture<>();
  private final Executor bookkeeping;
  /** The owner record's write after the spawn; done when there is none or it ran in start(). */
  private volatile CompletableFuture<Void> ownerRecorded = CompletableFuture.completedFuture(null);
  /**
   * The reattach attributes, read by the bookkeeping job after the spawn; null until then (or
   * without bookkeeping), and {@link #reattachAttributes()} reads them itself.
   */
  private volatile Map<String, String> attributes;

  // Guarded by this.
  private Process process;
  private Path executable;
  private String startError;
  private boolean killed;
  /** Our stdout/stderr pipes with the child, to find who still holds them after it exits. */
  private Set<String> pipes = Set.of();
  /** No later than the child's start, in clock ticks since boot; -1 when unknown (no /proc). */
  private long startTicks = -1;
  private PidOrder pidOrder = PidOrder.UNKNOWN;
  /** Set before kill() waits for the lock, so a start in progress can tell it was cancelled. */
  private volatile boolean killRequested;

  /**
   * A runner for the command, in this JVM's working directory.
   *
   * @param command the command line (not empty) and the complete environment; not null
   * @throws IllegalArgumentException if the command line is empty
   */
  public ProcessRunner(PluginCommand command) {
    this(command, null);
  }

  /**
   * A runner for the command.
   *
   * @param command the command line (not empty) and the complete environment; not null
   * @param workingDirectory the child's working directory; null for this JVM's. Relative
   *     executable paths resolve against it.
   * @throws IllegalArgumentException if the command line is empty
   */
  public ProcessRunner(PluginCommand command, Path workingDirectory) {
    this(command, workingDirectory, null);
  }

  /**
   * A runner for the command that writes the socket directory's owner record on another thread.
   *
   * <p>After the spawn, the runner completes the directory's owner record ({@link SocketDirOwner})
   * with the plugin's pid, start and executable: a read and an atomic rewrite of a file beside
   * the directory, 1-3 ms on an ext4 disk, while the plugin needs about as long to print its
   * handshake line. With {@code bookkeeping} that write runs there, beside the plugin's start,
   * and {@link #ownerRecorded()} tells when it is done; without it, in {@link #start()}. The same
   * job reads the {@linkplain #reattachAttributes() reattach attributes} ahead.
   *
   * @param command the command line (not empty) and the complete environment; not null
   * @param workingDirectory the child's working directory; null for this JVM's
   * @param bookkeeping runs the owner record's write; null to write it in {@link #start()}. A
   *     rejected job is run in {@link #start()} instead.
   * @throws IllegalArgumentException if the command line is empty
   */
  public ProcessRunner(PluginCommand command, Path workingDirectory, Executor bookkeeping) {
    this.bookkeeping = bookkeeping;
    this.command = Objects.requireNonNull(command, "command");
    if (command.command().isEmpty()) {
      throw new IllegalArgumentException(
          "the process runner needs a command line: the plugin executable and its arguments");
    }
    this.workingDirectory = workingDirectory;
    this.name = command.command().get(0);
  }

  /**
   * A factory of process runners, for {@code PluginClient} configuration.
   *
   * @param workingDirectory the children's working directory; null for this JVM's
   * @return a factory that ignores the socket directory (the child sees the host's file system)
   */
  public static RunnerFactory factory(Path workingDirectory) {
    return (command, socketDir) -> new ProcessRunner(command, workingDirectory);
  }

  /**
   * Starts the process.
   *
   * @throws PluginStartException if the executable is missing, not executable, or cannot be run;
   *     the message says how to fix it
   * @throws IllegalStateException if called twice, or after {@link #kill()}
   */
  @Override
  public synchronized void start() {
    if (process != null || startError != null) {
      throw new IllegalStateException("runner for " + name + " was already started");
    }
    if (killed) {
      throw new IllegalStateException("runner for " + name + " was killed before it started");
    }
    try {
      executable = resolveExecutable();
      ProcessBuilder builder = new ProcessBuilder(command.command());
      builder.environment().clear();
      builder.environment().putAll(command.env());
      if (workingDirectory != null) {
        builder.directory(workingDirectory.toFile());
      }
      builder.redirectInput(
          DEV_NULL.exists() ? ProcessBuilder.Redirect.from(DEV_NULL) : ProcessBuilder.Redirect.PIPE);
      // Before the spawn, outside its lock: counts read earlier only count more tasks.
      PidOrder counts = PidOrder.before();
      synchronized (SPAWN_LOCK) {
        // Before the spawn: the child may exit and be reaped before we could read its start.
        startTicks = ProcStat.uptimeTicks().orElse(-1);
        try (PipeHolders.FdSnapshot before = PipeHolders.fdSnapshot()) {
          try {
            process = builder.start();
          } catch (IOException | RuntimeException e) {
            boolean cancelled = killRequested || Thread.currentThread().isInterrupted();
            throw new PluginStartException(spawnFailure(executable, e, cancelled), e);
          }
          pidOrder = counts.spawned(process.pid());
          pipes = PipeHolders.record(process.pid(), before.fds(), PipeHolders.ownFds());
        }
      }
    } catch (PluginStartException e) {
      startError = e.getMessage();
      exit.complete(-1);
      throw e;
    }
    if (!DEV_NULL.exists()) {
      closeQuietly(process.getOutputStream());
    }
    Process p = process;
    LOG.debug("started plugin process {} (pid {}), output pipes {}", executable, p.pid(), pipes);
    String socketDir = command.env().get(PluginEnv.UNIX_SOCKET_DIR);
    Runnable record = socketDir == null ? () -> { } : () -> ProcStat.startTicks(p.pid())
        .ifPresent(ticks -> SocketDirOwner.recordPlugin(Path.of(socketDir), p.pid(), ticks));
    if (bookkeeping == null) {
      record.run();
    } else {
      try {
        // a zombie keeps its stat, and a record removed meanwhile is not written again. The
        // reattach attributes too (/proc reads that were 0.1-0.2 ms at the end of a start):
        // the exec is done when start() returns, so they name the plugin, as read later would
        ownerRecorded = CompletableFuture.runAsync(() -> {
          try {
            attributes = ProcessReattacher.attributesFor(p.toHandle());
          } catch (RuntimeException e) {
            LOG.debug("cannot read the reattach attributes of pid {} ahead: {}", p.pid(),
                e.toString());
          }
          record.run();
        }, bookkeeping);
      } catch (RejectedExecutionException e) {
        record.run();
      }
    }
    p.onExit().whenComplete((done, error) -> exit.complete(error == null ? p.exitValue() : -1));
  }

  /**
   * When the socket directory's owner record names the started process: at once unless the
   * record is written on the {@code bookkeeping} executor. Never completes exceptionally (the
   * record is best effort); completing the returned future from outside has no effect.
   *
   * @return the write's completion
   */
  public CompletableFuture<Void> ownerRecorded() {
    return ownerRecorded.copy();
  }

  /**
   * Why the JDK could not spawn the process, told as it happened: a start cancelled by {@link
   * #kill()} or an interrupt, the JDK's spawn helper killed by a signal before it ran the plugin
   * (nothing wrong with the binary), or else a binary that cannot run here. Package-private for
   * tests.
   */
  static String spawnFailure(Path executable, Exception e, boolean cancelled) {
    String what = String.valueOf(e.getMessage());
    if (cancelled) {
      return "the start of plugin process " + executable + " was cancelled: the client was closed"
          + " (or the runner killed or interrupted) while the JDK was spawning the process ("
          + what + "). The plugin binary is not at fault; nothing was left running";
    }
    Matcher signal = SPAWN_HELPER_SIGNAL.matcher(what);
    if (signal.find()) {
      int sig = Integer.parseInt(signal.group(2));
      return "plugin process " + executable + " was killed while the JDK was spawning it: the"
          + " JDK's spawn helper (pid " + signal.group(1) + "), which runs the plugin binary, got"
          + " signal " + sig + signalName(sig) + " before the plugin ran. Something killed this"
          + " JVM's new child during the spawn (a kill of the plugin's pid or of this JVM's"
          + " children, or the kernel's out-of-memory killer); the plugin binary is not at fault."
          + " Start the client again";
    }
    return "could not start plugin process " + executable + ": " + what
        + "; check that it is a plugin binary built for this OS and architecture\n"
        + ExecutableNotes.describe(executable);
  }

  /** The executable as the JDK will run it, validated; the JDK searches the parent's PATH. */
  private Path resolveExecutable() {
    Path base = workingDirectory != null ? workingDirectory : Path.of("").toAbsolutePath();
    if (name.contains(File.separator)) {
      Path exe = base.resolve(name).normalize();
      checkExecutable(exe);
      return exe;
    }
    String pathVar = Objects.requireNonNullElse(System.getenv("PATH"), "");
    for (String dir : pathVar.split(File.pathSeparator)) {
      Path candidate = base.resolve(dir.isEmpty() ? "." : dir).resolve(name);
      if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
        return candidate;
      }
    }
    throw new PluginStartException(
        "plugin executable \""
            + name
            + "\" was not found in PATH ("
            + pathVar
            + "); configure its absolute path, or a relative path such as ./"
            + name);
  }

  private void checkExecutable(Path exe) {
    if (!Files.exists(exe)) {
      throw new PluginStartException(
          "plugin executable "
              + exe
              + " does not exist; check the command path"
              + (Path.of(name).isAbsolute() ? "" : " (relative paths resolve against " + exe.getParent() + ")")
              + " and that the plugin was built");
    }
    if (Files.isDirectory(exe)) {
      throw new PluginStartException(
          "plugin executable " + exe + " is a directory; the command must name the plugin binary");
    }
    if (!Files.isExecutable(exe)) {
      throw new PluginStartException(
          "plugin executable "
              + exe
              + " is not executable by this user; make it executable with: chmod +x "
              + exe
              + "\n"
              + ExecutableNotes.describe(exe));
    }
  }

  /**
   * What is known about the process, for start failures: its exit status with a hint, or that it
   * still runs, or why it could not start; plus notes about the executable.
   */
  @Override
  public String diagnose() {
    try {
      Process p;
      Path exe;
      String error;
      synchronized (this) {
        p = process;
        exe = executable;
        error = startError;
      }
      if (error != null) {
        return error;
      }
      if (p == null) {
        return "plugin process " + name + " was not started";
      }
      String state;
      if (p.isAlive()) {
        state = "plugin process " + exe + " (pid " + p.pid() + ") is still running";
      } else {
        int status = p.exitValue();
        state =
            "plugin process " + exe + " (pid " + p.pid() + ") exited with status " + status
                + exitHint(status);
      }
      String notes = ExecutableNotes.describe(exe);
      return notes.isEmpty() ? state : state + "\n" + notes;
    } catch (RuntimeException e) {
      return "plugin process " + name + ": no diagnosis (" + e + ")";
    }
  }

  /** The same hint as the diagnosis gives, without its parentheses. */
  @Override
  public String describeExit(int status) {
    String hint = exitHint(status);
    return hint.isEmpty() ? "" : hint.substring(2, hint.length() - 1);
  }

  private static String exitHint(int status) {
    if (status == 1) {
      return " (a go-plugin plugin exits with 1 when started without the host's magic cookie, or"
          + " when it fails to serve; see its stderr)";
    }
    if (status == 2) {
      return " (a Go program exits with 2 on a panic; see its stderr)";
    }
    if (status > 128 && status < 128 + 65) {
      int signal = status - 128;
      return " (killed by signal " + signal + signalName(signal) + ")";
    }
    return "";
  }

  private static String signalName(int signal) {
    switch (signal) {
      case 1:
        return ", SIGHUP";
      case 2:
        return ", SIGINT";
      case 6:
        return ", SIGABRT";
      case 9:
        return ", SIGKILL: killed, possibly by the kernel for lack of memory";
      case 11:
        return ", SIGSEGV";
      case 13:
        return ", SIGPIPE";
      case 15:
        return ", SIGTERM";
      default:
        return "";
    }
  }

  /**
   * The plugin's stdout.
   *
   * @throws IllegalStateException before a successful {@link #start()}
   */
  @Override
  public InputStream stdout() {
    return started().getInputStream();
  }

  /**
   * The plugin's stderr.
   *
   * @throws IllegalStateException before a successful {@link #start()}
   */
  @Override
  public InputStream stderr() {
    return started().getErrorStream();
  }

  /** The executable as configured (first element of the command line). */
  @Override
  public String name() {
    return name;
  }

  /**
   * Completes with the exit status when the process has exited: on Linux 128 + signal number when
   * killed by a signal; {@code -1} when the process could not be started or the runner was killed
   * before starting. Never completes exceptionally; completing the returned future from outside has
   * no effect on the runner.
   */
  @Override
  public CompletableFuture<Integer> onExit() {
    return exit.copy();
  }

  /**
   * Kills the process tree with SIGKILL: descendants first, then the process, then (on Linux) any
   * process the plugin left behind that still holds its stdout or stderr pipe, even after the
   * plugin exited (see {@code PipeHolders}), so the host's readers of those pipes end; waits up to
   * {@link #KILL_TIMEOUT} for them to exit and closes the pipes. Output not yet read is discarded: wait for
   * the stderr pump to drain first when the last lines matter. Idempotent; fine after the process
   * exited, before it started (then {@link #start()} refuses) and after a failed start.
   *
   * @throws PluginException if the process did not exit in time, or the wait was interrupted (the
   *     interrupt flag is then set)
   */
  @Override
  public void kill() {
    killRequested = true;
    Process p;
    Set<String> ownPipes;
    long since;
    PidOrder order;
    synchronized (this) {
      killed = true;
      p = process;
      ownPipes = pipes;
      since = startTicks;
      order = pidOrder;
    }
    if (p == null) {
      exit.complete(-1);
      return;
    }
    try {
      List<ProcessHandle> descendants =
          p.isAlive() ? ProcessTrees.destroyTree(p.toHandle()) : List.of();
      if (!p.waitFor(KILL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
        throw new PluginException(
            "plugin process "
                + p.pid()
                + " did not exit within "
                + KILL_TIMEOUT.toSeconds()
                + " s of SIGKILL; it is probably stuck in the kernel (uninterruptible I/O)");
      }
      List<ProcessHandle> left = new ArrayList<>(ProcessTrees.awaitGone(descendants, KILL_TIMEOUT));
      // Helpers the plugin left behind (re-parented, so not in its tree) that still hold its
      // stdout or stderr: our readers would block on them until they die.
      if (since >= 0) {
        left.addAll(PipeHolders.kill(ownPipes, since, order, KILL_TIMEOUT));
      }
      if (!left.isEmpty()) {
        LOG.warn(
            "child processes {} of plugin process {} did not exit within {} s of SIGKILL",
            left.stream().map(ProcessHandle::pid).toList(),
            p.pid(),
            KILL_TIMEOUT.toSeconds());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new PluginException(
          "interrupted while waiting for plugin process " + p.pid() + " to exit", e);
    } finally {
      closeQuietly(p.getOutputStream());
      closeQuietly(p.getInputStream());
      closeQuietly(p.getErrorStream());
    }
  }

  /**
   * The pid in decimal.
   *
   * @throws IllegalStateException before a successful {@link #start()}
   */
  @Override
  public String id() {
    return Long.toString(started().pid());
  }

  /** {@value ReattachConfig#KIND_PROCESS}. */
  @Override
  public String kind() {
    return ReattachConfig.KIND_PROCESS;
  }

  /**
   * What {@link ProcessReattacher} needs to verify the process later: {@link
   * ProcessReattacher#attributesFor(ProcessHandle)}.
   *
   * @throws IllegalStateException before a successful {@link #start()}
   */
  @Override
  public Map<String, String> reattachAttributes() {
    Map<String, String> read = attributes;
    return read != null ? read : ProcessReattacher.attributesFor(handle());
  }

  /**
   * The process's handle, for reattach attributes.
   *
   * @return the handle
   * @throws IllegalStateException before a successful {@link #start()}
   */
  public ProcessHandle handle() {
    return started().toHandle();
  }

  /**
   * When the process started, as the OS reports it.
   *
   * @return the start instant, or empty when the JDK cannot tell on this OS
   * @throws IllegalStateException before a successful {@link #start()}
   */
  public Optional<Instant> processStartTime() {
    return started().info().startInstant();
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
    return "ProcessRunner[" + name + "]";
  }

  private synchronized Process started() {
    if (process == null) {
      throw new IllegalStateException("plugin process " + name + " has not been started");
    }
    return process;
  }

  private static void closeQuietly(Closeable c) {
    try {
      c.close();
    } catch (IOException e) {
      LOG.debug("closing a plugin process pipe failed: {}", e.toString());
    }
  }
}
