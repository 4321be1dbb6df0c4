package dev.goplugin4j.protocol.internal.yamux;

import io.grpc.netty.shaded.io.netty.channel.AbstractServerChannel;
import io.grpc.netty.shaded.io.netty.channel.ChannelConfig;
import io.grpc.netty.shaded.io.netty.channel.DefaultChannelConfig;
import io.grpc.netty.shaded.io.netty.channel.EventLoop;
import java.net.SocketAddress;

/**
 * A virtual Netty server channel whose "accepted connections" are yamux streams handed to it with
 * {@link #serve}: it fires each as a child channel, so a {@code ServerBootstrap} (here: gRPC's
 * {@code NettyServer}) sets it up as it would an accepted socket. It listens on nothing.
 *
 * <p>Thread-safe.
 */
final class YamuxServerChannel extends AbstractServerChannel {
  private final DefaultChannelConfig config = new DefaultChannelConfig(this);
  private final YamuxAddress address;
  private volatile boolean open = true;
  private volatile boolean active;

  YamuxServerChannel(YamuxAddress address) {
    this.address = address;
  }

  /**
   * Hands {@code stream} (accepted, not registered) to the server; resets it if the server is
   * closed.
   */
  void serve(YamuxStreamChannel stream) {
    eventLoop()
        .execute(
            () -> {
              if (!isActive()) {
                stream.reset();
                return;
              }
              pipeline().fireChannelRead(stream);
              pipeline().fireChannelReadComplete();
            });
  }

  @Override
  protected boolean isCompatible(EventLoop loop) {
    return true;
  }

  @Override
  protected SocketAddress localAddress0() {
    return address;
  }

  @Override
  protected void doBind(SocketAddress localAddress) {
    active = true;
  }

  @Override
  protected void doClose() {
    open = false;
    active = false;
  }

  @Override
  protected void doBeginRead() {
    // Streams are pushed by serve(), not read.
  }

  @Override
  public ChannelConfig config() {
    return config;
  }

  @Override
  public boolean isOpen() {
    return open;
  }

  @Override
  public boolean isActive() {
    return open && active;
  }
}
