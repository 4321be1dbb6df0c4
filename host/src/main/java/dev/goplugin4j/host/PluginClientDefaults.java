package dev.goplugin4j.host;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Settings shared by many {@link PluginClient} builders, such as the listeners of a metrics
 * binder or an application-wide event log: make one, keep it where the application keeps its
 * other configuration, and start every builder from it. There is no global default: what a
 * client gets is what its builder was given.
 *
 * <pre>{@code
 * PluginClientDefaults defaults = PluginClientDefaults.of(metricsListener, auditListener);
 * PluginClient kv = defaults.builder()
 *     .handshake(1, "BASIC_PLUGIN", "hello")
 *     .plugin("kv", new KvPlugin())
 *     .command("./kv-plugin")
 *     .build();
 * }</pre>
 *
 * <p>Immutable and thread-safe.
 */
public final class PluginClientDefaults {
  private static final PluginClientDefaults NONE = new PluginClientDefaults(List.of());

  private final List<PluginListener> listeners;

  private PluginClientDefaults(List<PluginListener> listeners) {
    this.listeners = listeners;
  }

  /**
   * Defaults with nothing set.
   *
   * @return the empty defaults
   */
  public static PluginClientDefaults none() {
    return NONE;
  }

  /**
   * Defaults that register the given listeners, in this order, on every builder made from them.
   *
   * @param listeners not null, no null elements; may be empty
   * @return the defaults
   */
  public static PluginClientDefaults of(PluginListener... listeners) {
    Objects.requireNonNull(listeners, "listeners");
    List<PluginListener> l = new ArrayList<>();
    for (PluginListener x : listeners) {
      l.add(Objects.requireNonNull(x, "listeners element"));
    }
    return new PluginClientDefaults(List.copyOf(l));
  }

  /**
   * These defaults plus one more listener, registered after the others.
   *
   * @param listener not null
   * @return new defaults; this instance is unchanged
   */
  public PluginClientDefaults withListener(PluginListener listener) {
    List<PluginListener> l = new ArrayList<>(listeners);
    l.add(Objects.requireNonNull(listener, "listener"));
    return new PluginClientDefaults(List.copyOf(l));
  }

  /**
   * The listeners every builder made from these defaults starts with.
   *
   * @return an immutable list, in registration order
   */
  public List<PluginListener> listeners() {
    return listeners;
  }

  /**
   * A new {@link PluginClient.Builder} with these defaults applied; set the rest as usual
   * (further {@link PluginClient.Builder#listener} calls add to these listeners).
   *
   * @return a new builder
   */
  public PluginClient.Builder builder() {
    PluginClient.Builder b = PluginClient.builder();
    listeners.forEach(b::listener);
    return b;
  }
}
