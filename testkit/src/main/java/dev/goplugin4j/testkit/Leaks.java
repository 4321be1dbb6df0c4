package dev.goplugin4j.testkit;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Detects what a test leaked: threads whose name starts with a prefix, and child processes of this
 * JVM, that were not there when the snapshot was taken.
 *
 * <pre>{@code
 * Leaks leaks = Leaks.snapshot("goplugin4j-");
 * try (PluginClient client = ...) { ... }
 * leaks.assertNoneWithin(Duration.ofSeconds(5));
 * }</pre>
 *
 * <p>Test classes using it must not run tests in parallel. Immutable and thread-safe.
 */
public final class Leaks {
  private final String threadPrefix;
  private final Set<Long> threadsBefore;
  private final Set<Long> childrenBefore;

  private Leaks(String threadPrefix, Set<Long> threadsBefore, Set<Long> childrenBefore) {
    this.threadPrefix = threadPrefix;
    this.threadsBefore = threadsBefore;
    this.childrenBefore = childrenBefore;
  }

  /**
   * Records the live threads named {@code threadPrefix...} and the live child processes.
   *
   * @param threadPrefix the prefix of the thread names to watch; not null (empty watches all)
   * @return the snapshot
   */
  public static Leaks snapshot(String threadPrefix) {
    Objects.requireNonNull(threadPrefix, "threadPrefix");
    return new Leaks(threadPrefix, threadIds(threadPrefix), childPids());
  }

  /**
   * Waits until every watched thread and child process that appeared since the snapshot is gone,
   * polling every 50 ms.
   *
   * @param timeout how long to wait; positive
   * @throws AssertionError naming each leaked thread (with the top of its stack) and process
   *     (with its command line) when some are still alive after the timeout
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
    return leaked;
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
