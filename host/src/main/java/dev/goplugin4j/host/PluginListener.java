package dev.goplugin4j.host;

/**
 * Receives the lifecycle events of a {@link PluginClient}: see {@link PluginEvent} for the
 * events, their order and their data. Register one with {@link PluginClient.Builder#listener} (or
 * for many clients at once with {@link PluginClientDefaults}), or on a built client with {@link
 * PluginClient#addListener}.
 *
 * <pre>{@code
 * PluginClient client = PluginClient.builder()
 *     .handshake(1, "BASIC_PLUGIN", "hello")
 *     .plugin("kv", new KvPlugin())
 *     .command("./kv-plugin")
 *     .listener(event -> {
 *       if (event instanceof PluginEvent.Exited exited && !exited.requested()) {
 *         log.warn("plugin {} crashed: {}", exited.source().name(), exited.hint());
 *       }
 *     })
 *     .build();
 * }</pre>
 *
 * <p><b>Threads.</b> A listener is called synchronously, on the thread where the event happens:
 * {@link PluginEvent.Starting}, {@link PluginEvent.Started}, {@link PluginEvent.StartFailed} and
 * {@link PluginEvent.Reattached} on the thread that starts the client; {@link PluginEvent.Stderr}
 * on the client's stderr reader thread; an unexpected {@link PluginEvent.Exited} on the runner's
 * exit-watching thread; {@link PluginEvent.Closed}, {@link PluginEvent.Detached} and a requested
 * {@code Exited} on the thread that closes the client. A client's events are delivered one at a
 * time and in order, never concurrently: when an event happens while another thread is delivering
 * an earlier one, that thread delivers it right after (so the call may come from that thread).
 * Listeners are not called while the client holds its internal lock, except for {@code
 * Starting}, which is delivered as the start begins (a listener for it may call the client from
 * the same thread, but must not wait for another thread that uses the client); so a listener may
 * call the client's methods, and events a listener causes (closing the client from a listener)
 * are delivered after it returns.
 *
 * <p><b>Cost.</b> Events happen only at start, stop and on stderr lines at WARN and above; RPC
 * calls are not events, and a client without listeners makes no events at all. A slow listener
 * delays the thread it runs on by exactly its own run time: the start, the close, or the reading
 * of the plugin's stderr (a plugin that writes faster than the listener takes blocks on its full
 * pipe). Keep listeners short and hand slow work to an executor of your own.
 *
 * <p><b>Failures.</b> A listener that throws never breaks the client or keeps other listeners
 * from their events: the first exception of each listener is logged at WARN (logger {@code
 * dev.goplugin4j.host.PluginClient}) with its stack trace, later ones at DEBUG, and the event is
 * otherwise ignored.
 *
 * <p>Implementations must be thread-safe when registered with several clients.
 */
@FunctionalInterface
public interface PluginListener {
  /**
   * Called once for each event of a client this listener is registered with.
   *
   * @param event the event; never null
   */
  void onEvent(PluginEvent event);
}
