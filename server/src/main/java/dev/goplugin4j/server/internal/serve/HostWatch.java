package dev.goplugin4j.server.internal.serve;

import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongConsumer;

/**
 * Notices that the process that started the plugin exited: the plugin is re-parented (to init or
 * a subreaper), so its parent pid changes. Polls every {@value #PERIOD_MILLIS} ms. Not started
 * for process 1 (a container's init) or a process that is already an orphan.
 */
final class HostWatch {
  static final long PERIOD_MILLIS = 500;

  private HostWatch() {}

  /**
   * Starts watching.
   *
   * @param onHostExit called once with the old parent pid
   * @return the polling task, or empty when there is nothing to watch
   */
  static Optional<ScheduledFuture<?>> start(ScheduledExecutorService timer, LongConsumer onHostExit) {
    ProcessHandle self = ProcessHandle.current();
    Optional<Long> parent = self.parent().map(ProcessHandle::pid);
    if (self.pid() == 1 || parent.isEmpty() || parent.get() <= 1) {
      return Optional.empty();
    }
    long original = parent.get();
    boolean[] fired = {false};
    return Optional.of(
        timer.scheduleWithFixedDelay(
            () -> {
              if (fired[0]) {
                return;
              }
              long now = ProcessHandle.current().parent().map(ProcessHandle::pid).orElse(0L);
              if (now != original) {
                fired[0] = true;
                onHostExit.accept(original);
              }
            },
            PERIOD_MILLIS,
            PERIOD_MILLIS,
            TimeUnit.MILLISECONDS));
  }
}
