package dev.goplugin4j.host;

import io.grpc.ClientInterceptor;
import io.grpc.ServerInterceptor;
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
  private static final PluginClientDefaults NONE =
      new PluginClientDefaults(List.of(), List.of(), List.of());

  private final List<PluginListener> listeners;
  private final List<ClientInterceptor> interceptors;
  private final List<ServerInterceptor> serverInterceptors;

  private PluginClientDefaults(List<PluginListener> listeners,
      List<ClientInterceptor> interceptors, List<ServerInterceptor> serverInterceptors) {
    this.listeners = listeners;
    this.interceptors = interceptors;
    this.serverInterceptors = serverInterceptors;
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
    return new PluginClientDefaults(List.copyOf(l), List.of(), List.of());
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
    return new PluginClientDefaults(List.copyOf(l), interceptors, serverInterceptors);
  }

  /**
   * These defaults plus gRPC client interceptors for every channel of every client (see {@link
   * PluginClient.Builder#interceptors}), added after the others.
   *
   * @param interceptors not null, no null elements; thread-safe
   * @return new defaults; this instance is unchanged
   */
  public PluginClientDefaults withInterceptors(ClientInterceptor... interceptors) {
    Objects.requireNonNull(interceptors, "interceptors");
    List<ClientInterceptor> l = new ArrayList<>(this.interceptors);
    for (ClientInterceptor x : interceptors) {
      l.add(Objects.requireNonNull(x, "interceptors element"));
    }
    return new PluginClientDefaults(listeners, List.copyOf(l), serverInterceptors);
  }

  /**
   * These defaults plus gRPC server interceptors for every server a client serves to its plugin
   * through the broker (see {@link PluginClient.Builder#serverInterceptors}), added after the
   * others.
   *
   * @param interceptors not null, no null elements; thread-safe
   * @return new defaults; this instance is unchanged
   */
  public PluginClientDefaults withServerInterceptors(ServerInterceptor... interceptors) {
    Objects.requireNonNull(interceptors, "interceptors");
    List<ServerInterceptor> l = new ArrayList<>(this.serverInterceptors);
    for (ServerInterceptor x : interceptors) {
      l.add(Objects.requireNonNull(x, "interceptors element"));
    }
    return new PluginClientDefaults(listeners, this.interceptors, List.copyOf(l));
  }

  /**
   * The client interceptors every builder made from these defaults starts with.
   *
   * @return an immutable list, in the order added
   */
  public List<ClientInterceptor> interceptors() {
    return interceptors;
  }

  /**
   * The server interceptors every builder made from these defaults starts with.
   *
   * @return an immutable list, in the order added
   */
  public List<ServerInterceptor> serverInterceptors() {
    return serverInterceptors;
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
   * (further {@link PluginClient.Builder#listener} and {@link PluginClient.Builder#interceptors}
   * calls add to these).
   *
   * @return a new builder
   */
  public PluginClient.Builder builder() {
    PluginClient.Builder b = PluginClient.builder();
    listeners.forEach(b::listener);
    if (!interceptors.isEmpty()) {
      b.interceptors(interceptors.toArray(ClientInterceptor[]::new));
    }
    if (!serverInterceptors.isEmpty()) {
      b.serverInterceptors(serverInterceptors.toArray(ServerInterceptor[]::new));
    }
    return b;
  }
}
