package dev.goplugin4j.server.internal.serve;

import java.nio.file.Path;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongConsumer;

/**
 * Notices that the process that started the plugin exited: the plugin is re-parented (to init or
 * a subreaper), so its parent pid changes. When the parent is a shell (a host that runs plugins
 * with {@code sh -c} and a command without {@code exec}), the shell's parent is the host: it is
 * watched the same way. Polls every {@value #PERIOD_MILLIS} ms. Not started for process 1 (a
 * container's init) or a process that is already an orphan.
 */
final class HostWatch {
  static final long PERIOD_MILLIS = 500;
  private static final Set<String> SHELLS = Set.of("sh", "dash", "bash", "ash", "busybox");

  private HostWatch() {}

  /**
   * Starts watching.
   *
   * @param onHostExit called once with the pid of the process that went away
   * @return the polling task, or empty when there is nothing to watch
   */
  static Optional<ScheduledFuture<?>> start(ScheduledExecutorService timer, LongConsumer onHostExit) {
    ProcessHandle self = ProcessHandle.current();
    Optional<ProcessHandle> parent = self.parent();
    if (self.pid() == 1 || parent.isEmpty() || parent.get().pid() <= 1) {
      return Optional.empty();
    }
    long parentPid = parent.get().pid();
    long grandparentPid = isShell(parent.get())
        ? parent.get().parent().map(ProcessHandle::pid).filter(p -> p > 1).orElse(-1L)
        : -1L;
    boolean[] fired = {false};
    return Optional.of(
        timer.scheduleWithFixedDelay(
            () -> {
              if (fired[0]) {
                return;
              }
              long now = ProcessHandle.current().parent().map(ProcessHandle::pid).orElse(0L);
              if (now != parentPid) {
                fired[0] = true;
                onHostExit.accept(parentPid);
                return;
              }
              if (grandparentPid > 0) {
                long shellParent = ProcessHandle.of(parentPid).flatMap(ProcessHandle::parent)
                    .map(ProcessHandle::pid).orElse(0L);
                if (shellParent != grandparentPid) {
                  fired[0] = true;
                  onHostExit.accept(grandparentPid);
                }
              }
            },
            PERIOD_MILLIS,
            PERIOD_MILLIS,
            TimeUnit.MILLISECONDS));
  }

  private static boolean isShell(ProcessHandle p) {
    return p.info().command()
        .map(c -> Path.of(c).getFileName().toString())
        .map(SHELLS::contains)
        .orElse(false);
  }
}
