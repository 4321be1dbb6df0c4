package dev.goplugin4j.host;

import io.grpc.CallOptions;
import io.grpc.Context;
import java.util.Objects;
import java.util.Optional;

/**
 * Says which plugin, and which of its channels, a gRPC call goes to: the client puts one in the
 * {@link CallOptions} of every call made on a channel to the plugin when the client has {@link
 * PluginClient.Builder#interceptors interceptors}, so that an interceptor shared by many clients
 * (a metrics binder, a tracer) can tell their calls apart. Read it in {@link
 * io.grpc.ClientInterceptor#interceptCall} with {@link #of(CallOptions)}.
 *
 * <p>The other way, when the client has {@link PluginClient.Builder#serverInterceptors server
 * interceptors}, a call the plugin makes into a server the host serves through the broker runs
 * with the client's brokered {@code PluginChannel} in the gRPC {@link Context}, for the server
 * interceptors and the service itself: read it with {@link #current()}.
 *
 * <p>Each channel the client makes has its own instance: equal instances (by {@code ==}) mean the
 * same channel, so a brokered channel can be counted once. {@link #equals} is identity.
 *
 * <p>Immutable and thread-safe.
 */
public final class PluginChannel {
  /** The call option under which the client puts the channel's {@code PluginChannel}. */
  public static final CallOptions.Key<PluginChannel> CALL_OPTION =
      CallOptions.Key.create("goplugin4j.plugin-channel");

  /**
   * The gRPC context key under which a call the plugin makes into one of the host's brokered
   * servers finds the client's {@code PluginChannel} (with {@link #brokered()} true).
   */
  public static final Context.Key<PluginChannel> CONTEXT_KEY =
      Context.key("goplugin4j.plugin-channel");

  private final String pluginName;
  private final String runnerKind;
  private final boolean brokered;

  /**
   * Makes one; the client does this for each channel it builds.
   *
   * @param pluginName the client's plugin name, as {@link PluginEvent.Source#name()}; not null
   * @param runnerKind the runner kind, as {@link PluginEvent.Source#runnerKind()}; not null
   * @param brokered whether the channel was dialled through the broker ({@link
   *     dev.goplugin4j.protocol.GrpcBroker#dial}) rather than being the plugin's main channel
   */
  public PluginChannel(String pluginName, String runnerKind, boolean brokered) {
    this.pluginName = Objects.requireNonNull(pluginName, "pluginName");
    this.runnerKind = Objects.requireNonNull(runnerKind, "runnerKind");
    this.brokered = brokered;
  }

  /**
   * The channel of a call, read from its options.
   *
   * @param options the call's options; not null
   * @return the channel, or empty when the call is not made by a {@link PluginClient} with
   *     interceptors (or an interceptor added by a {@link PluginClient.Builder#channelCustomizer
   *     channel customizer} runs before the client's own one)
   */
  public static Optional<PluginChannel> of(CallOptions options) {
    return Optional.ofNullable(options.getOption(CALL_OPTION));
  }

  /**
   * The channel of the call the current thread serves for a plugin, in a server the host serves
   * through the broker.
   *
   * @return the channel, or empty outside such a call or when the client has no server
   *     interceptors
   */
  public static Optional<PluginChannel> current() {
    return Optional.ofNullable(CONTEXT_KEY.get());
  }

  /**
   * The plugin's name.
   *
   * @return as {@link PluginEvent.Source#name()}
   */
  public String pluginName() {
    return pluginName;
  }

  /**
   * The kind of runner the plugin runs in.
   *
   * @return as {@link PluginEvent.Source#runnerKind()}
   */
  public String runnerKind() {
    return runnerKind;
  }

  /**
   * Whether this is a brokered channel.
   *
   * @return true for a channel dialled through the broker, false for the plugin's main channel
   */
  public boolean brokered() {
    return brokered;
  }

  @Override
  public String toString() {
    return "PluginChannel[" + pluginName + ", " + runnerKind + (brokered ? ", brokered]" : ", main]");
  }
}
