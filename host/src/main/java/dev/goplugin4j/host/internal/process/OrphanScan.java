package dev.goplugin4j.host.internal.process;

import dev.goplugin4j.host.ProcessReaper.Leftover;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The work behind {@link dev.goplugin4j.host.ProcessReaper}: judge each socket directory by its
 * {@link SocketDirOwner} record, confirm an orphaned plugin process before killing it, remove the
 * directory. Stateless and thread-safe.
 */
public final class OrphanScan {
  private static final Logger LOG = LoggerFactory.getLogger(OrphanScan.class);

  private OrphanScan() {}

  /**
   * Judges every {@code goplugin4j-<digits>} directory in the temp dir.
   *
   * @param tempDir the parent of the socket directories
   * @return one leftover per directory, by name
   */
  public static List<Leftover> scan(Path tempDir) {
    List<Leftover> out = new ArrayList<>();
    try (DirectoryStream<Path> dirs = Files.newDirectoryStream(tempDir,
        d -> SocketDirOwner.DIR_NAME.matcher(d.getFileName().toString()).matches()
            && Files.isDirectory(d, LinkOption.NOFOLLOW_LINKS))) {
      for (Path dir : dirs) {
        out.add(judge(dir));
      }
    } catch (IOException | RuntimeException e) {
      LOG.debug("cannot list {}: {}", tempDir, e.toString());
    }
    out.sort(Comparator.comparing(l -> l.socketDir().getFileName().toString()));
    return out;
  }

  /**
   * Kills each orphan's confirmed plugin (confirmed again just before) and removes its directory.
   *
   * @param tempDir the parent of the socket directories
   * @return the orphans cleaned up
   */
  public static List<Leftover> reap(Path tempDir) {
    List<Leftover> done = new ArrayList<>();
    for (Leftover l : scan(tempDir)) {
      if (!Leftover.ORPHAN.equals(l.verdict())) {
        continue;
      }
      if (l.pluginRunning()) {
        Leftover again = judge(l.socketDir());
        if (!again.pluginRunning() || !Leftover.ORPHAN.equals(again.verdict())) {
          continue; // changed under us: leave it to the next run
        }
        ProcessHandle plugin = ProcessHandle.of(l.pluginPid().getAsLong()).orElse(null);
        if (plugin != null) {
          List<ProcessHandle> tree = new ArrayList<>(ProcessTrees.destroyTree(plugin));
          tree.add(plugin);
          try {
            List<ProcessHandle> left = ProcessTrees.awaitGone(tree, ProcessRunner.KILL_TIMEOUT);
            if (!left.isEmpty()) {
              LOG.warn("orphaned plugin processes {} did not exit within {} s of SIGKILL; leaving {}",
                  left.stream().map(ProcessHandle::pid).toList(),
                  ProcessRunner.KILL_TIMEOUT.toSeconds(), l.socketDir());
              continue;
            }
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return done;
          }
          LOG.info("killed orphaned plugin process {} of {}", plugin.pid(), l.socketDir());
        }
      }
      if (SocketDirOwner.removeDir(l.socketDir())) {
        LOG.info("removed orphaned plugin socket directory {}", l.socketDir());
        done.add(l);
      }
    }
    return done;
  }

  /** The verdict on one directory. */
  static Leftover judge(Path dir) {
    Optional<Map<String, String>> record = SocketDirOwner.read(dir);
    if (record.isEmpty()) {
      return new Leftover(dir, Leftover.NO_RECORD, OptionalLong.empty(), false);
    }
    Map<String, String> r = record.get();
    OptionalLong pluginPid = parseLong(r.get(SocketDirOwner.PLUGIN_PID));
    Map<String, String> here = SocketDirOwner.machine();
    for (String key : List.of(SocketDirOwner.BOOT_ID, SocketDirOwner.PID_NAMESPACE)) {
      if (!Objects.equals(r.get(key), here.get(key))) {
        return new Leftover(dir, Leftover.OTHER_MACHINE, pluginPid, false);
      }
    }
    String timeNamespace = r.get(SocketDirOwner.TIME_NAMESPACE);
    if (timeNamespace != null && !timeNamespace.equals(here.get(SocketDirOwner.TIME_NAMESPACE))) {
      // start ticks read in another time namespace are shifted: nothing here can be confirmed
      return new Leftover(dir, Leftover.OTHER_MACHINE, pluginPid, false);
    }
    String hosts = r.getOrDefault(SocketDirOwner.HOSTS, "");
    for (String host : hosts.split(",")) {
      if (!host.isEmpty() && SocketDirOwner.hostAlive(host)) {
        return new Leftover(dir, Leftover.LIVE_HOST, pluginPid, false);
      }
    }
    if (!"process".equals(r.get(SocketDirOwner.RUNNER)) || pluginPid.isEmpty()) {
      return new Leftover(dir, Leftover.OTHER_RUNNER, pluginPid, false);
    }
    long pid = pluginPid.getAsLong();
    boolean running = ProcessHandle.of(pid).filter(ProcessTrees::isRunning).isPresent();
    if (!running) {
      return new Leftover(dir, Leftover.ORPHAN, pluginPid, false);
    }
    OptionalLong ticks = ProcStat.startTicks(pid);
    OptionalLong recordedTicks = parseLong(r.get(SocketDirOwner.PLUGIN_START_TICKS));
    if (ticks.isPresent() && recordedTicks.isPresent()
        && ticks.getAsLong() != recordedTicks.getAsLong()) {
      // the pid was reused by another process: the plugin itself is gone
      return new Leftover(dir, Leftover.ORPHAN, pluginPid, false);
    }
    boolean confirmed = ticks.isPresent() && recordedTicks.isPresent()
        && r.get(SocketDirOwner.PLUGIN_EXECUTABLE) != null
        && ProcessIdentity.executable(pid).map(r.get(SocketDirOwner.PLUGIN_EXECUTABLE)::equals)
            .orElse(false)
        && sameOwner(pid, dir)
        && ProcessIdentity.holdsListenerIn(pid, dir);
    return confirmed
        ? new Leftover(dir, Leftover.ORPHAN, pluginPid, true)
        : new Leftover(dir, Leftover.UNCONFIRMED, pluginPid, false);
  }

  private static boolean sameOwner(long pid, Path dir) {
    try {
      return Files.getAttribute(Path.of("/proc", Long.toString(pid)), "unix:uid")
          .equals(Files.getAttribute(dir, "unix:uid", LinkOption.NOFOLLOW_LINKS));
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  private static OptionalLong parseLong(String s) {
    try {
      return s == null ? OptionalLong.empty() : OptionalLong.of(Long.parseLong(s));
    } catch (NumberFormatException e) {
      return OptionalLong.empty();
    }
  }
}
