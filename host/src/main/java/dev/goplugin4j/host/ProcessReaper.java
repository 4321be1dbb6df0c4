package dev.goplugin4j.host;

import dev.goplugin4j.host.internal.process.OrphanScan;
import dev.goplugin4j.host.internal.process.SocketDirOwner;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.OptionalLong;

/**
 * Finds and cleans up what hosts that died (crashed, {@code kill -9}) left of their process
 * plugins: the socket directories {@code <temp dir>/goplugin4j-<digits>/} and the plugin
 * processes still running in them. The counterpart, for process plugins, of the container
 * module's {@code ContainerReaper}. Runs only when asked.
 *
 * <p>How it knows: a host records itself beside each socket directory it creates ({@code
 * <dir>.owner}: its pid and start time; the plugin's pid, start time in clock ticks and
 * executable; the hosts that reattached later). A directory is an orphan when every host recorded
 * there is gone, on this boot and in this pid namespace (records of other machines or
 * containers are left alone). Directories without a trusted record (not a regular file owned by
 * the directory's owner), or whose runner is not a process (a container's: {@code
 * ContainerReaper} removes those with their container) are listed and never touched.
 *
 * <p>What it kills: an orphan's plugin process only when its identity is confirmed: the pid runs,
 * with exactly the recorded start time, the recorded executable, under the directory owner's uid,
 * and it (or a descendant) holds a listening socket in that directory. Anything less and the
 * directory is left as it is, with the verdict {@code unconfirmed plugin}. Directories are
 * deleted without following links, and only when their name is {@code goplugin4j-<digits>} and
 * they are real directories.
 *
 * <pre>{@code
 * List<ProcessReaper.Leftover> cleaned = ProcessReaper.create().reapOrphans();
 * }</pre>
 *
 * <p>Linux only (it reads {@code /proc}); elsewhere it finds nothing to kill. Immutable and
 * thread-safe.
 */
public final class ProcessReaper {
  private final Path tempDir;

  private ProcessReaper(Path tempDir) {
    this.tempDir = tempDir;
  }

  /**
   * A reaper of the system temp dir ({@code java.io.tmpdir}), where hosts make socket dirs by
   * default.
   *
   * @return the reaper
   */
  public static ProcessReaper create() {
    return new ProcessReaper(Path.of(System.getProperty("java.io.tmpdir")));
  }

  /**
   * A reaper of the directory hosts were configured to make socket dirs in ({@code
   * PluginClient.Builder#unixSocketTempDir}).
   *
   * @param socketTempDir the parent of the socket directories; not null
   * @return the reaper
   */
  public static ProcessReaper create(Path socketTempDir) {
    return new ProcessReaper(Objects.requireNonNull(socketTempDir, "socketTempDir"));
  }

  /**
   * One socket directory and what the reaper makes of it.
   *
   * @param socketDir the directory
   * @param verdict {@value #ORPHAN} (every host gone; removable), {@value #LIVE_HOST}, {@value
   *     #UNCONFIRMED} (hosts gone, but a process runs under the plugin's pid whose identity
   *     cannot be confirmed: left alone), {@value #OTHER_RUNNER} (not a process plugin, e.g. a
   *     container's), {@value #OTHER_MACHINE} (recorded on another boot or pid namespace) or
   *     {@value #NO_RECORD}
   * @param pluginPid the recorded plugin pid, if any
   * @param pluginRunning whether that plugin was found running, confirmed
   */
  public record Leftover(Path socketDir, String verdict, OptionalLong pluginPid, boolean pluginRunning) {
    /** Verdict: every host is gone; {@link #reapOrphans()} kills the plugin and removes the dir. */
    public static final String ORPHAN = "orphan";
    /** Verdict: a recorded host still runs. */
    public static final String LIVE_HOST = "live host";
    /** Verdict: hosts gone, a process with the plugin's pid runs but is not confirmed. */
    public static final String UNCONFIRMED = "unconfirmed plugin";
    /** Verdict: not a process plugin's directory. */
    public static final String OTHER_RUNNER = "other runner";
    /** Verdict: recorded on another boot or in another pid namespace. */
    public static final String OTHER_MACHINE = "other machine";
    /** Verdict: no trusted owner record. */
    public static final String NO_RECORD = "no owner record";

    /** Validates. */
    public Leftover {
      Objects.requireNonNull(socketDir, "socketDir");
      Objects.requireNonNull(verdict, "verdict");
      Objects.requireNonNull(pluginPid, "pluginPid");
    }
  }

  /**
   * Every plugin socket directory in the temp dir, with its verdict; changes nothing.
   *
   * @return the directories, by name
   */
  public List<Leftover> find() {
    return OrphanScan.scan(tempDir);
  }

  /**
   * Kills each orphan's confirmed plugin process (its whole tree) and removes the orphan's socket
   * directory and owner record.
   *
   * @return the orphans cleaned up
   */
  public List<Leftover> reapOrphans() {
    return OrphanScan.reap(tempDir);
  }

  /**
   * Removes a plugin socket directory and its owner record, safely: only a real directory (not a
   * symbolic link) named {@code goplugin4j-<digits>}, its content deleted without following any
   * link. For reapers of other runners (containers) once their plugin is gone.
   *
   * @param socketDir the directory; not null
   * @return whether the directory is gone (false, logged, when it was refused or could not be
   *     deleted)
   */
  public static boolean removeSocketDir(Path socketDir) {
    return SocketDirOwner.removeDir(Objects.requireNonNull(socketDir, "socketDir"));
  }
}
