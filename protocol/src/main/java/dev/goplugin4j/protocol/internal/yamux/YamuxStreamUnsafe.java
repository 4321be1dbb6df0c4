package dev.goplugin4j.protocol.internal.yamux;

import dev.goplugin4j.protocol.internal.yamux.YamuxStreamChannel.PendingWrite;
import io.grpc.netty.shaded.io.netty.buffer.ByteBuf;
import io.grpc.netty.shaded.io.netty.channel.Channel;
import io.grpc.netty.shaded.io.netty.channel.ChannelOutboundBuffer;
import io.grpc.netty.shaded.io.netty.channel.ChannelPromise;
import io.grpc.netty.shaded.io.netty.channel.EventLoop;
import io.grpc.netty.shaded.io.netty.channel.RecvByteBufAllocator;
import io.grpc.netty.shaded.io.netty.channel.VoidChannelPromise;
import io.grpc.netty.shaded.io.netty.channel.socket.ChannelOutputShutdownException;
import io.grpc.netty.shaded.io.netty.util.ReferenceCountUtil;
import java.net.SocketAddress;
import java.nio.channels.AlreadyConnectedException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ConnectionPendingException;
import java.util.concurrent.CompletionStage;

/**
 * The transport half of a {@link YamuxStreamChannel}: what the pipeline's head calls to register,
 * connect (open the stream), read, write, flush and close. It works on the channel's state
 * directly; the channel keeps that state and what the session calls.
 *
 * <p>Not thread-safe: confined to the session's event loop, as the channel's state is. Netty's
 * pipeline calls an {@code Unsafe} on the channel's event loop only, which is the session's;
 * {@link #register} hands itself over to that loop when called from another thread.
 */
// Channel.Unsafe#recvBufAllocHandle returns the deprecated Handle type; implementing it is
// unavoidable.
@SuppressWarnings("deprecation")
final class YamuxStreamUnsafe implements Channel.Unsafe {
  private final YamuxStreamChannel ch;
  private final VoidChannelPromise voidPromise;
  private RecvByteBufAllocator.Handle recvHandle;

  YamuxStreamUnsafe(YamuxStreamChannel ch) {
    this.ch = ch;
    this.voidPromise = new VoidChannelPromise(ch, false);
  }

  @Override
  public RecvByteBufAllocator.Handle recvBufAllocHandle() {
    if (recvHandle == null) {
      recvHandle = ch.config.getRecvByteBufAllocator().newHandle();
    }
    return recvHandle;
  }

  @Override
  public SocketAddress localAddress() {
    return ch.localAddress;
  }

  @Override
  public SocketAddress remoteAddress() {
    return ch.remoteAddress;
  }

  @Override
  public void register(EventLoop requested, ChannelPromise promise) {
    // Always the session's loop, whatever group the caller registers with.
    if (!ch.loop.inEventLoop()) {
      ch.loop.execute(() -> register(requested, promise));
      return;
    }
    if (ch.registered) {
      promise.tryFailure(new IllegalStateException("yamux stream channel registered already"));
      return;
    }
    if (!ch.open) {
      promise.tryFailure(new ClosedChannelException());
      return;
    }
    ch.registered = true;
    promise.trySuccess();
    ch.pipeline.fireChannelRegistered();
    if (ch.isActive()) {
      ch.pipeline.fireChannelActive();
    }
  }

  @Override
  public void bind(SocketAddress localAddress, ChannelPromise promise) {
    promise.tryFailure(new UnsupportedOperationException("a yamux stream cannot be bound"));
  }

  @Override
  public void connect(SocketAddress remote, SocketAddress local, ChannelPromise promise) {
    if (!promise.setUncancellable()) {
      return;
    }
    if (!ch.open) {
      promise.tryFailure(new ClosedChannelException());
      return;
    }
    if (ch.active || ch.inbound) {
      promise.tryFailure(new AlreadyConnectedException());
      return;
    }
    if (ch.connecting) {
      promise.tryFailure(new ConnectionPendingException());
      return;
    }
    ch.connecting = true;
    ch.connectPromise = promise;
    if (ch.beforeOpen == null) {
      ch.session.streams.open(ch);
      return;
    }
    CompletionStage<?> gate;
    try {
      gate = ch.beforeOpen.get();
    } catch (RuntimeException e) {
      ch.openFailed(e);
      return;
    }
    gate.whenComplete(
        (v, e) ->
            ch.inLoop(
                () -> {
                  if (e != null) {
                    ch.openFailed(e);
                  } else if (ch.open && ch.connecting) {
                    ch.session.streams.open(ch);
                  }
                }));
  }

  @Override
  public void disconnect(ChannelPromise promise) {
    close(promise);
  }

  @Override
  public void close(ChannelPromise promise) {
    if (!promise.setUncancellable()) {
      return;
    }
    if (ch.closeInitiated) {
      if (ch.closePromise.isDone()) {
        promise.trySuccess();
      } else if (!(promise instanceof VoidChannelPromise)) {
        ch.closePromise.addListener(f -> promise.trySuccess());
      }
      return;
    }
    ch.closeInitiated = true;
    boolean wasActive = ch.isActive();
    ch.open = false;
    ChannelPromise cp = ch.connectPromise;
    ch.connectPromise = null;
    if (cp != null) {
      cp.tryFailure(ch.closeCause != null ? ch.closeCause : new ClosedChannelException());
    }
    Throwable writeFailure = ch.closeCause != null ? ch.closeCause : new ClosedChannelException();
    ch.failQueue(ch.unflushed, writeFailure);
    ch.releaseInbound();
    ch.session.streams.channelClosed(ch);
    ch.closePromise.trySuccess();
    promise.trySuccess();
    ch.loop.execute(
        () -> {
          if (wasActive) {
            ch.pipeline.fireChannelInactive();
          }
          if (ch.registered) {
            ch.registered = false;
            ch.pipeline.fireChannelUnregistered();
          }
        });
  }

  @Override
  public void closeForcibly() {
    close(voidPromise);
  }

  @Override
  public void deregister(ChannelPromise promise) {
    if (!promise.setUncancellable()) {
      return;
    }
    if (ch.registered) {
      ch.registered = false;
      promise.trySuccess();
      ch.loop.execute(() -> ch.pipeline.fireChannelUnregistered());
    } else {
      promise.trySuccess();
    }
  }

  @Override
  public void beginRead() {
    if (!ch.isActive()) {
      return;
    }
    ch.readRequested = true;
    ch.deliver();
  }

  @Override
  public void write(Object msg, ChannelPromise promise) {
    if (!ch.open) {
      ReferenceCountUtil.release(msg);
      promise.tryFailure(ch.closeCause != null ? ch.closeCause : new ClosedChannelException());
      return;
    }
    if (ch.reset) {
      ReferenceCountUtil.release(msg);
      promise.tryFailure(ch.closeCause);
      return;
    }
    if (ch.finPending || ch.finSent) {
      ReferenceCountUtil.release(msg);
      promise.tryFailure(new ChannelOutputShutdownException("yamux stream output is shut down (FIN sent)"));
      return;
    }
    if (!(msg instanceof ByteBuf buf)) {
      String type = msg == null ? "null" : msg.getClass().getName();
      ReferenceCountUtil.release(msg);
      promise.tryFailure(
          new UnsupportedOperationException("a yamux stream writes ByteBuf only, got " + type));
      return;
    }
    ch.unflushed.add(new PendingWrite(buf, promise));
    ch.pendingOutboundBytes += buf.readableBytes();
    if (ch.unwritable == 0 && ch.pendingOutboundBytes > ch.config.getWriteBufferHighWaterMark()) {
      ch.unwritable = 1;
      ch.loop.execute(() -> ch.pipeline.fireChannelWritabilityChanged());
    }
  }

  @Override
  public void flush() {
    ch.moveUnflushed();
    if (ch.id != 0 && ch.active && !ch.flushed.isEmpty()) {
      ch.session.out.drain(ch);
    }
  }

  @Override
  public ChannelPromise voidPromise() {
    return voidPromise;
  }

  @Override
  public ChannelOutboundBuffer outboundBuffer() {
    return null;
  }
}
