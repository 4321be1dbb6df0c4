package dev.goplugin4j.host.internal.process;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;

/**
 * Finds and kills the processes that still hold a plugin's stdout or stderr pipe after the plugin
 * itself is gone (Linux, through {@code /proc}).
 *
 * <p>Why: a plugin that forks a helper and exits leaves the helper holding the write ends of its
 * stdout and stderr. The helper is no longer the plugin's descendant (it was re-parented to init
 * or a subreaper), so a tree kill misses it, and the host's reader threads block on the pipes
 * until it dies; the JDK's process reaper thread blocks too. The only reliable handle on such a
 * helper is the pipe itself: {@code /proc/<pid>/fd/<n>} names it as {@code pipe:[<inode>]}.
 *
 * <p>What is killed, and why that is safe: only a process other than this JVM that holds one of
 * the recorded pipe inodes and that started no earlier than the plugin (start times compared in
 * the kernel's own clock ticks): such a process got the pipe from the plugin. The
 * inodes are recorded right after the spawn and only when this JVM itself holds the same inode
 * (its read end), so a plugin that points its fd 1 at someone else's pipe cannot make us kill
 * that pipe's users. Stateless and thread-safe.
 */
final class PipeHolders {
  private static final Path PROC = Path.of("/proc");
  private static final Path SELF_FD = PROC.resolve("self").resolve("fd");
  private static final int MAX_ROUNDS = 10;

  private PipeHolders() {}

  /**
   * This JVM's open file descriptors, by number, to take just before a spawn and give to {@link
   * #record}. Only the names of {@code /proc/self/fd}: a host with thousands of sockets open pays
   * a directory listing per spawn, not a {@code readlink} per descriptor (~8 times the cost: at
   * 2,000 descriptors 1.3 against 11 ms per look, and a spawn takes two). The listing stays open
   * until {@link FdSnapshot#close()}: closed before the spawn, its own descriptor's number would
   * be the lowest free one, the very number the spawn's first pipe gets.
   *
   * @return the snapshot; its {@link FdSnapshot#fds()} is empty without {@code /proc}
   */
  static FdSnapshot fdSnapshot() {
    DirectoryStream<Path> dir;
    try {
      dir = Files.newDirectoryStream(SELF_FD);
    } catch (IOException | RuntimeException e) {
      return new FdSnapshot(null, Set.of());
    }
    Set<String> fds = new HashSet<>();
    try {
      for (Path fd : dir) {
        fds.add(fd.getFileName().toString());
      }
    } catch (RuntimeException e) {
      fds.clear();
    }
    return new FdSnapshot(dir, fds);
  }

  /**
   * This JVM's open file descriptors, by number, to take just after a spawn and give to {@link
   * #record}.
   *
   * @return the descriptor numbers; empty without {@code /proc}
   */
  static Set<String> ownFds() {
    try (FdSnapshot now = fdSnapshot()) {
      return now.fds();
    }
  }

  /**
   * The descriptor numbers of {@code /proc/self/fd}, with the listing held open. Not
   * thread-safe; close it once the spawn is done.
   */
  static final class FdSnapshot implements AutoCloseable {
    private final DirectoryStream<Path> dir;
    private final Set<String> fds;

    private FdSnapshot(DirectoryStream<Path> dir, Set<String> fds) {
      this.dir = dir;
      this.fds = fds;
    }

    /** The descriptor numbers, the listing's own included. */
    Set<String> fds() {
      return fds;
    }

    @Override
    public void close() {
      if (dir != null) {
        try {
          dir.close();
        } catch (IOException e) {
          // nothing was written; the descriptor is released either way
        }
      }
    }
  }

  /** The {@code pipe:[inode]} targets in an fd directory; empty when it cannot be read. */
  private static Set<String> pipesOf(Path fdDir) {
    Set<String> pipes = new LinkedHashSet<>();
    try (DirectoryStream<Path> fds = Files.newDirectoryStream(fdDir)) {
      for (Path fd : fds) {
        readLink(fd).filter(PipeHolders::isPipe).ifPresent(pipes::add);
      }
    } catch (IOException | RuntimeException e) {
      return new LinkedHashSet<>();
    }
    return pipes;
  }

  /**
   * The pipes of a just-spawned child's stdout and stderr, whose read ends this JVM holds.
   *
   * <p>The pipes this JVM opened during the spawn are those behind the descriptors that are in
   * {@code after} and not in {@code before}; only they are read ({@code readlink}). While the
   * child runs, its own fds 1 and 2 tell which of them are its stdout and stderr. When another
   * thread of this JVM closed a descriptor during the spawn and the spawn's pipe got its number,
   * the number is in both sets: then the child's pipes are looked up among all of this JVM's
   * descriptors, and count when this JVM holds them. A child that already exited has no fds
   * left; then the pipes opened during the spawn count, less any held by another live
   * descendant of this JVM (a plugin spawned by someone else at the same moment). Callers
   * serialize their spawns, so that a concurrent spawn of ours cannot be mistaken for this one.
   *
   * @param pid the child
   * @param before {@link #fdSnapshot()} taken just before the spawn and still open
   * @param after {@link #ownFds()} taken just after it: the JDK closes our read ends as soon as
   *     it reaps a child that exited, so a later look may find nothing
   * @return {@code pipe:[inode]} link targets; empty without {@code /proc}
   */
  static Set<String> record(long pid, Set<String> before, Set<String> after) {
    Set<String> fresh = new LinkedHashSet<>();
    for (String fd : after) {
      if (!before.contains(fd)) {
        readLink(SELF_FD.resolve(fd)).filter(PipeHolders::isPipe).ifPresent(fresh::add);
      }
    }
    Set<String> child = new LinkedHashSet<>();
    boolean childReadable = false;
    Path childFds = PROC.resolve(Long.toString(pid)).resolve("fd");
    for (int fd = 1; fd <= 2; fd++) {
      Optional<String> target = readLink(childFds.resolve(Integer.toString(fd)));
      childReadable |= target.isPresent();
      target.filter(PipeHolders::isPipe).ifPresent(child::add);
    }
    if (childReadable) {
      if (!fresh.containsAll(child)) {
        // a reused descriptor number hid one of the spawn's pipes: look at every descriptor
        child.retainAll(pipesOf(SELF_FD));
      }
      return Set.copyOf(child);
    }
    if (fresh.isEmpty()) {
      return Set.of();
    }
    ProcessHandle.current()
        .descendants()
        .filter(h -> h.pid() != pid)
        .forEach(h -> fresh.removeAll(pipesOf(PROC.resolve(Long.toString(h.pid())).resolve("fd"))));
    return Set.copyOf(fresh);
  }

  /**
   * The processes other than this JVM that hold one of the pipes and started no earlier than the
   * plugin.
   *
   * @param pipes from {@link #record}
   * @param pluginStartTicks the plugin's start time in clock ticks since boot ({@link
   *     ProcStat#startTicks}), compared exactly with the holders' own
   * @param pidFloor no process started after the plugin has this pid or a smaller one ({@link
   *     PidOrder#floorNow()}): those pids are skipped without reading their start; 0 looks at all
   */
  static List<ProcessHandle> holders(Set<String> pipes, long pluginStartTicks, long pidFloor) {
    List<ProcessHandle> found = new ArrayList<>();
    if (pipes.isEmpty()) {
      return found;
    }
    long self = ProcessHandle.current().pid();
    try (DirectoryStream<Path> procs = Files.newDirectoryStream(PROC, "[0-9]*")) {
      for (Path proc : procs) {
        long pid;
        try {
          pid = Long.parseLong(proc.getFileName().toString());
        } catch (NumberFormatException e) {
          continue;
        }
        if (pid == self || pid <= pidFloor) {
          continue;
        }
        // The start first, the fds only of what is left: nearly every process started before
        // the plugin, and one read of its stat is cheaper than a readlink of each of its fds
        // (two exceptions each where we may not look: ~540 per kill on a shared 2-core machine
        // with 87 processes, a third of a close's CPU). The pipe, the test that matters, still
        // comes last, so a pid reused between the two reads is only taken if it holds the pipe.
        OptionalLong ticks = ProcStat.startTicks(pid);
        if (ticks.isEmpty() || ticks.getAsLong() < pluginStartTicks) {
          continue;
        }
        if (holdsAny(proc.resolve("fd"), pipes)) {
          ProcessHandle.of(pid).ifPresent(found::add);
        }
      }
    } catch (IOException | RuntimeException e) {
      return found;
    }
    return found;
  }

  /**
   * SIGKILLs every {@linkplain #holders holder} of the pipes, in rounds (a holder may fork while
   * we look), and waits for them to be gone.
   *
   * <p>On a machine with many processes the search's cost is reading the start of each; {@code
   * order} lets it skip the pids below the plugin's when no process started since can have one
   * ({@link PidOrder}: with 1,000 processes, a close's search took ~30 ms of CPU before).
   *
   * @param order the plugin's place in the kernel's pid order; {@link PidOrder#UNKNOWN} looks at
   *     every pid
   * @return the holders still running at the deadline (empty on success)
   * @throws InterruptedException if interrupted
   */
  static List<ProcessHandle> kill(Set<String> pipes, long pluginStartTicks, PidOrder order,
      Duration timeout) throws InterruptedException {
    Set<ProcessHandle> killed = new LinkedHashSet<>();
    for (int round = 0; round < MAX_ROUNDS; round++) {
      List<ProcessHandle> fresh =
          holders(pipes, pluginStartTicks, pipes.isEmpty() ? 0 : order.floorNow());
      fresh.removeIf(killed::contains);
      if (fresh.isEmpty()) {
        break;
      }
      for (ProcessHandle h : fresh) {
        killed.addAll(ProcessTrees.destroyTree(h));
        killed.add(h);
      }
    }
    return ProcessTrees.awaitGone(killed, timeout);
  }

  private static boolean holdsAny(Path fdDir, Set<String> pipes) {
    try (DirectoryStream<Path> fds = Files.newDirectoryStream(fdDir)) {
      for (Path fd : fds) {
        Optional<String> target = readLink(fd);
        if (target.isPresent() && pipes.contains(target.get())) {
          return true;
        }
      }
    } catch (IOException | RuntimeException e) {
      // gone, or not ours to read
    }
    return false;
  }

  private static boolean isPipe(String target) {
    return target.startsWith("pipe:[");
  }

  private static Optional<String> readLink(Path link) {
    try {
      return Optional.of(Files.readSymbolicLink(link).toString());
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    }
  }
}
