package dev.goplugin4j.host.internal.client;

import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client's JVM shutdown hook: registered while the client is started, removed when it is
 * closed or detached, and when the JVM exits with the client still open it closes it, waiting at
 * most {@link #WAIT_SECONDS} s so that a hung engine or plugin cannot hold the exit. The close
 * runs on a daemon thread of its own: when the wait ends first, the JVM exits without it.
 *
 * <p>Each client has its own hook, so there is no registry to share and the JVM runs the hooks
 * of many clients at once. Thread-safe.
 */
final class JvmExitHook {
  /** The longest the hook waits for the client's close. */
  static final int WAIT_SECONDS = 10;

  private static final Logger LOG = LoggerFactory.getLogger(JvmExitHook.class);

  private final Thread hook;
  private final String name;

  private JvmExitHook(String name, Runnable close) {
    this.name = name;
    this.hook = new Thread(() -> run(name, close), "goplugin4j-exit-" + name);
  }

  /**
   * Registers a hook that runs {@code close} when the JVM exits.
   *
   * @param name the plugin's name, for the thread and the log
   * @param close what closes the client; must be idempotent
   * @return the hook, or null when the JVM is already exiting (nothing to register then: the
   *     caller's own close follows)
   */
  static JvmExitHook register(String name, Runnable close) {
    JvmExitHook h = new JvmExitHook(name, close);
    try {
      Runtime.getRuntime().addShutdownHook(h.hook);
      return h;
    } catch (IllegalStateException e) {
      LOG.debug("not registering an exit hook for plugin {}: the JVM is exiting", name);
      return null;
    }
  }

  /** Removes the hook; harmless while the JVM exits (the hook itself may be the caller). */
  void remove() {
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException e) {
      // the JVM is exiting: the hooks run (this one may be what called us)
    }
  }

  private static void run(String name, Runnable close) {
    Thread closer = new Thread(() -> {
      try {
        close.run();
      } catch (RuntimeException | Error e) {
        LOG.warn("closing plugin {} at JVM exit failed: {}", name, e.toString());
      }
    }, "goplugin4j-exit-close-" + name);
    closer.setDaemon(true);
    closer.start();
    try {
      closer.join(TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (closer.isAlive()) {
      LOG.warn("plugin {} was not closed within {} s of the JVM's exit; it may be left running"
          + " (ProcessReaper and ContainerReaper find what it leaves)", name, WAIT_SECONDS);
    } else {
      LOG.debug("closed plugin {} at JVM exit", name);
    }
  }

  @Override
  public String toString() {
    return "JvmExitHook[" + name + "]";
  }
}
