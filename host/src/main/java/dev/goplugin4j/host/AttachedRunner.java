package dev.goplugin4j.host;

import java.util.concurrent.CompletableFuture;

/**
 * A running plugin the host can wait for and kill: a process it started, a container, or
 * something it reattached to. The counterpart of go-plugin's {@code runner.AttachedRunner}.
 *
 * <p>Implementations must be thread-safe.
 */
public interface AttachedRunner extends AddrTranslator {
  /**
   * Completes when the plugin has stopped, whether it exited by itself or was killed.
   *
   * @return a future of the exit status ({@code -1} when the runner cannot know it, for example
   *     for a reattached process that is not our child); never completes exceptionally
   */
  CompletableFuture<Integer> onExit();

  /**
   * Stops the plugin at once and releases everything the runner holds for it (process tree,
   * container, pipes). Returns when it is gone. Idempotent: a plugin already gone is success.
   *
   * @throws dev.goplugin4j.protocol.PluginException if the plugin could not be stopped
   */
  void kill();

  /**
   * Frees what this JVM holds for the plugin (threads, streams, engine connections) without
   * stopping the plugin: the host calls it when it {@linkplain PluginClient#detach() detaches},
   * so that a later host can reattach. Afterwards only {@link #id()}, {@link #kind()} and {@link
   * #reattachAttributes()} are meaningful: {@link #onExit()} no longer follows the plugin (it may
   * never complete) and {@link #kill()} need not reach it; to stop the plugin later, reattach
   * and kill. Idempotent; does nothing after {@link #kill()}. Must not throw.
   *
   * <p>Default: nothing, for runners that hold no resources of their own beyond the plugin.
   */
  default void release() {}

  /**
   * A unique identifier of the running plugin: a pid, a container id.
   *
   * @return the id; not null
   */
  String id();

  /**
   * The kind recorded in a {@link ReattachConfig} for this runner, so a later host can pick the
   * matching {@link Reattacher}. Default {@code "custom"}.
   *
   * @return the kind, e.g. {@value ReattachConfig#KIND_PROCESS} or {@value
   *     ReattachConfig#KIND_CONTAINER}
   */
  default String kind() {
    return "custom";
  }

  /**
   * Extra data a {@link Reattacher} needs to find and verify this plugin later (a process start
   * time, a socket directory). Default none.
   *
   * @return the attributes; not null
   */
  default java.util.Map<String, String> reattachAttributes() {
    return java.util.Map.of();
  }

  /**
   * What an exit status usually means for this runner, for the client's {@link
   * PluginEvent.Exited#hint()} (go-plugin's container runner words the same hints in its {@code
   * Diagnose}). Called once per exit, on the thread that saw it; must be quick (no engine calls)
   * and must not throw. Default: the signal's name for a status of 128 + signal, else empty.
   *
   * @param status the status {@link #onExit()} completed with; {@code -1} when unknown
   * @return a short sentence, or empty
   */
  default String describeExit(int status) {
    if (status > 128 && status <= 128 + 64) {
      int signal = status - 128;
      return "killed by signal " + signal + (signal == 9 ? " (SIGKILL)" : signal == 15 ? " (SIGTERM)"
          : signal == 6 ? " (SIGABRT)" : signal == 11 ? " (SIGSEGV)" : "");
    }
    return "";
  }
}
