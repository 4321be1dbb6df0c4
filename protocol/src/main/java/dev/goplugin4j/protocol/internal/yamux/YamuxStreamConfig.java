package dev.goplugin4j.protocol.internal.yamux;

import io.grpc.netty.shaded.io.netty.channel.Channel;
import io.grpc.netty.shaded.io.netty.channel.ChannelOption;
import io.grpc.netty.shaded.io.netty.channel.DefaultChannelConfig;

/**
 * A {@link YamuxStreamChannel}'s options: Netty's defaults, plus {@code ALLOW_HALF_CLOSURE}, and
 * {@code SO_KEEPALIVE} / {@code TCP_NODELAY} accepted and ignored.
 *
 * <p>Thread-safe, as {@link DefaultChannelConfig} is: options are volatile fields, read on the
 * event loop and set from any thread.
 */
final class YamuxStreamConfig extends DefaultChannelConfig {
  YamuxStreamConfig(Channel channel) {
    super(channel);
  }

  private volatile boolean allowHalfClosure;

  boolean isAllowHalfClosure() {
    return allowHalfClosure;
  }

  @Override
  public <T> T getOption(ChannelOption<T> option) {
    if (option == ChannelOption.ALLOW_HALF_CLOSURE) {
      @SuppressWarnings("unchecked")
      T v = (T) Boolean.valueOf(allowHalfClosure);
      return v;
    }
    return super.getOption(option);
  }

  @Override
  public <T> boolean setOption(ChannelOption<T> option, T value) {
    if (option == ChannelOption.ALLOW_HALF_CLOSURE) {
      allowHalfClosure = Boolean.TRUE.equals(value);
      return true;
    }
    if (option == ChannelOption.SO_KEEPALIVE || option == ChannelOption.TCP_NODELAY) {
      // gRPC sets these on every channel; they mean nothing for a stream (the session's
      // keepalive pings cover liveness), so accept them silently instead of warning.
      return true;
    }
    return super.setOption(option, value);
  }
}
