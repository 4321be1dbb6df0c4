package dev.goplugin4j.protocol.internal.yamux;

import io.grpc.netty.shaded.io.netty.channel.ChannelHandlerContext;
import io.grpc.netty.shaded.io.netty.channel.ChannelInboundHandlerAdapter;
import io.grpc.netty.shaded.io.netty.channel.ChannelOption;
import io.grpc.netty.shaded.io.netty.channel.socket.ChannelInputShutdownEvent;
import io.grpc.netty.shaded.io.netty.channel.socket.DuplexChannel;

/** Echoes a stream back with back-pressure; half-closes when the peer does. */
final class Echo extends ChannelInboundHandlerAdapter {
  /** Registers an echo on an accepted stream. */
  static void serve(YamuxStreamChannel s) {
    s.config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, true);
    s.register(new Echo());
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    ctx.write(msg);
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    ctx.flush();
    if (!ctx.channel().isWritable()) {
      ctx.channel().config().setAutoRead(false);
    }
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    if (ctx.channel().isWritable()) {
      ctx.channel().config().setAutoRead(true);
    }
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt instanceof ChannelInputShutdownEvent) {
      ctx.flush();
      ((DuplexChannel) ctx.channel()).shutdownOutput();
    }
  }
}
