package dev.goplugin4j.testkit;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * Detects what a test leaked: threads whose name starts with a prefix, and child processes of this
 * JVM, that were not there when the snapshot was taken; with {@link #snapshotWithFds}, also file
 * descriptors of this JVM.
 *
 * <pre>{@code
 * Leaks leaks = Leaks.snapshotWithFds("goplugin4j-");
 * try (PluginClient client = ...) { ... }
 * leaks.assertNoneWithin(Duration.ofSeconds(5));
 * }</pre>
 *
 * <p>File descriptors are read from {@code /proc/self/fd} (Linux): each open fd and what it points
 * to ({@code socket:[inode]}, {@code pipe:[inode]}, {@code anon_inode:[eventpoll]}, a file path).
 * A leak is an fd whose number and target were not both there at the snapshot, so an fd closed
 * and its number reused for something else counts as new. Descriptors the JVM itself opens lazily
 * and keeps for its lifetime are not counted: jar and jmod files (class loading), the runtime image,
 * shared libraries, {@code /dev/random} and {@code /dev/urandom} (SecureRandom), and the directory
 * handle used to list {@code /proc/self/fd}. Everything else is polled until the timeout, so fds
 * that other threads close a little later (event loops shutting down, process reapers) settle
 * first.
 *
 * <p>goplugin4j's host keeps the threads its clients share (a pool, a timer, event loops) for
 * about a second after the last client closes, for the next start to find them. Both the snapshot
 * and each check first end that linger when no client is open (through the host's internal hook,
 * when the host is on the class path), so a check sees what the code under test left, at once.
 *
 * <p>Test classes using it must not run tests in parallel. Immutable and thread-safe.
 */
public final class Leaks {
  private static final Path PROC_FD = Path.of("/proc/self/fd");
  private static final String SHARED_RESOURCES =
      "dev.goplugin4j.host.internal.shared.SharedResources";

  private final String threadPrefix;
  private final Set<Long> threadsBefore;
  private final Set<Long> childrenBefore;
  /** fd number to target at the snapshot, or null when fds are not watched. */
  private final Map<Integer, String> fdsBefore;

  private Leaks(
      String threadPrefix, Set<Long> threadsBefore, Set<Long> childrenBefore, Map<Integer, String> fdsBefore) {
    this.threadPrefix = threadPrefix;
    this.threadsBefore = threadsBefore;
    this.childrenBefore = childrenBefore;
    this.fdsBefore = fdsBefore;
  }

  /**
   * Records the live threads named {@code threadPrefix...} and the live child processes.
   *
   * @param threadPrefix the prefix of the thread names to watch; not null (empty watches all)
   * @return the snapshot
   */
  public static Leaks snapshot(String threadPrefix) {
    Objects.requireNonNull(threadPrefix, "threadPrefix");
    releaseSharedThreads();
    return new Leaks(threadPrefix, threadIds(threadPrefix), childPids(), null);
  }

  /**
   * As {@link #snapshot}, and also records this JVM's open file descriptors, so {@link
   * #assertNoneWithin} reports sockets, pipes, anonymous inodes (epoll, eventfd) and files opened
   * since and not closed (see the class description for what is not counted).
   *
   * @param threadPrefix the prefix of the thread names to watch; not null (empty watches all)
   * @return the snapshot
   * @throws IllegalStateException if {@code /proc/self/fd} cannot be read (not Linux, or no
   *     procfs): fd leaks cannot be checked there, which is a test failure, not a skip
   */
  public static Leaks snapshotWithFds(String threadPrefix) {
    Objects.requireNonNull(threadPrefix, "threadPrefix");
    // JDK 25 opens a JVM-lifetime unnamed socket on first use of Unix-domain NIO: take it before
    // the snapshot, so that it never counts as a leak of the code under test
    try {
      java.nio.channels.ServerSocketChannel.open(java.net.StandardProtocolFamily.UNIX).close();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    releaseSharedThreads();
    Map<Integer, String> fds = openFds();
    return new Leaks(threadPrefix, threadIds(threadPrefix), childPids(), Map.copyOf(fds));
  }

  /**
   * Whether this snapshot watches file descriptors.
   *
   * @return true when made by {@link #snapshotWithFds}
   */
  public boolean watchesFds() {
    return fdsBefore != null;
  }

  /**
   * Waits until every watched thread and child process that appeared since the snapshot is gone,
   * polling every 50 ms.
   *
   * @param timeout how long to wait; positive
   * @throws AssertionError naming each leaked thread (with the top of its stack), process (with
   *     its command line) and, when watched, file descriptor (with its target; for a Unix socket
   *     also its path) when some are still there after the timeout
   */
  public void assertNoneWithin(Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      List<String> leaked = leaked();
      if (leaked.isEmpty()) {
        return;
      }
      if (System.nanoTime() - deadline > 0) {
        throw new AssertionError(
            "leaked after " + timeout.toMillis() + " ms:\n  " + String.join("\n  ", leaked));
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted while waiting for leaks to go away", e);
      }
    }
  }

  private List<String> leaked() {
    releaseSharedThreads();
    List<String> leaked = new ArrayList<>();
    for (Map.Entry<Thread, StackTraceElement[]> e : Thread.getAllStackTraces().entrySet()) {
      Thread t = e.getKey();
      if (t.isAlive() && t.getName().startsWith(threadPrefix) && !threadsBefore.contains(t.getId())) {
        StackTraceElement[] stack = e.getValue();
        leaked.add(
            "thread \"" + t.getName() + "\" (" + t.getState() + ")"
                + (stack.length > 0 ? " at " + stack[0] : ""));
      }
    }
    ProcessHandle.current()
        .children()
        .filter(ProcessHandle::isAlive)
        .filter(p -> !childrenBefore.contains(p.pid()))
        .forEach(
            p ->
                leaked.add(
                    "process "
                        + p.pid()
                        + " "
                        + p.info().commandLine().or(() -> p.info().command()).orElse("(command unknown)")));
    if (fdsBefore != null) {
      leaked.addAll(leakedFds());
    }
    return leaked;
  }

  private List<String> leakedFds() {
    Map<Integer, String> now = openFds();
    List<String> leaked = new ArrayList<>();
    Map<String, String> unixPaths = null;
    for (Map.Entry<Integer, String> e : now.entrySet()) {
      String target = e.getValue();
      if (target.equals(fdsBefore.get(e.getKey())) || jvmInternal(target)) {
        continue;
      }
      String detail = "";
      if (target.startsWith("socket:[")) {
        if (unixPaths == null) {
          unixPaths = unixSocketPaths();
        }
        String path = unixPaths.get(target.substring("socket:[".length(), target.length() - 1));
        detail = path == null ? "" : " (unix socket " + (path.isEmpty() ? "unnamed" : path) + ")";
      }
      leaked.add("fd " + e.getKey() + " -> " + target + detail);
    }
    return leaked;
  }

  /** What the JVM opens by itself on first use and keeps open for its lifetime. */
  private static boolean jvmInternal(String target) {
    String t = target.toLowerCase(Locale.ROOT);
    return t.endsWith(".jar")
        || t.endsWith(".jmod")
        || t.endsWith("/lib/modules")
        || t.endsWith(".so")
        || t.contains(".so.")
        || t.equals("/dev/random")
        || t.equals("/dev/urandom")
        || t.matches("/proc/(self|\\d+)/fd");
  }

  /** fd number to link target; fds that close while being read are left out. */
  private static Map<Integer, String> openFds() {
    Map<Integer, String> fds = new TreeMap<>();
    try (DirectoryStream<Path> dir = Files.newDirectoryStream(PROC_FD)) {
      for (Path p : dir) {
        int fd;
        try {
          fd = Integer.parseInt(p.getFileName().toString());
        } catch (NumberFormatException e) {
          continue;
        }
        try {
          fds.put(fd, Files.readSymbolicLink(p).toString());
        } catch (IOException e) {
          // closed between the listing and the readlink: not open any more
        }
      }
    } catch (IOException e) {
      throw new IllegalStateException(
          "cannot list " + PROC_FD + " to check for leaked file descriptors (" + e
              + "); fd leak checks need Linux with /proc mounted", e);
    }
    return fds;
  }

  /** Unix socket inode to its path ("" when unnamed), from /proc/self/net/unix. */
  private static Map<String, String> unixSocketPaths() {
    Map<String, String> paths = new HashMap<>();
    try {
      List<String> lines = Files.readAllLines(Path.of("/proc/self/net/unix"));
      for (String line : lines.subList(Math.min(1, lines.size()), lines.size())) {
        String[] f = line.trim().split("\\s+");
        if (f.length >= 7) {
          paths.put(f[6], f.length >= 8 ? f[7] : "");
        }
      }
    } catch (IOException | RuntimeException e) {
      // only a nicer message is lost
    }
    return paths;
  }

  /**
   * Ends the linger of the host's shared threads now, if no client is open: {@code
   * SharedResources.releaseIdleNow()}, found by name so that the testkit needs no host.
   */
  private static void releaseSharedThreads() {
    Class<?> holder;
    try {
      holder = Class.forName(SHARED_RESOURCES);
    } catch (ClassNotFoundException e) {
      return; // no host here: nothing lingers
    }
    try {
      holder.getMethod("releaseIdleNow").invoke(null);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("cannot end the linger of the host's shared threads through "
          + SHARED_RESOURCES + ".releaseIdleNow(): " + e, e);
    }
  }

  private static Set<Long> threadIds(String prefix) {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(t -> t.getName().startsWith(prefix))
        .map(Thread::getId)
        .collect(Collectors.toUnmodifiableSet());
  }

  private static Set<Long> childPids() {
    return ProcessHandle.current().children()
        .map(ProcessHandle::pid)
        .collect(Collectors.toUnmodifiableSet());
  }
}
