package dev.goplugin4j.protocol.internal.yamux;

import io.grpc.netty.shaded.io.netty.buffer.ByteBuf;
import io.grpc.netty.shaded.io.netty.channel.Channel;
import io.grpc.netty.shaded.io.netty.channel.ChannelConfig;
import io.grpc.netty.shaded.io.netty.channel.ChannelFuture;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandler;
import io.grpc.netty.shaded.io.netty.channel.ChannelId;
import io.grpc.netty.shaded.io.netty.channel.ChannelMetadata;
import io.grpc.netty.shaded.io.netty.channel.ChannelPipeline;
import io.grpc.netty.shaded.io.netty.channel.ChannelPromise;
import io.grpc.netty.shaded.io.netty.channel.DefaultChannelId;
import io.grpc.netty.shaded.io.netty.channel.DefaultChannelPipeline;
import io.grpc.netty.shaded.io.netty.channel.DefaultChannelPromise;
import io.grpc.netty.shaded.io.netty.channel.EventLoop;
import io.grpc.netty.shaded.io.netty.channel.socket.ChannelInputShutdownEvent;
import io.grpc.netty.shaded.io.netty.channel.socket.ChannelInputShutdownReadComplete;
import io.grpc.netty.shaded.io.netty.channel.socket.DuplexChannel;
import io.grpc.netty.shaded.io.netty.util.DefaultAttributeMap;
import java.net.SocketAddress;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.NotYetConnectedException;
import java.util.ArrayDeque;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ScheduledFuture;
import java.util.function.Supplier;

/**
 * One yamux stream as a Netty {@link Channel} (like Netty's HTTP/2 child channels): {@link
 * ByteBuf}s written to it become Data frames, Data frames received become
 * {@code channelRead(ByteBuf)} events. It runs on its session's event loop whatever loop it is
 * registered with, so there is no thread per stream and no hand-off between threads.
 *
 * <p>Semantics:
 *
 * <ul>
 *   <li>Flow control: the peer may send at most the stream's receive window; the window is given
 *       back only as the pipeline consumes data. With {@code AUTO_READ} off and no {@code read()},
 *       at most {@link YamuxConfig#maxStreamWindowSize()} bytes are buffered and the peer stalls.
 *       Writes wait for the peer's window; the channel turns unwritable above its write-buffer
 *       high-water mark (default 64 KiB), as a socket does.
 *   <li>{@link #shutdownOutput()}: half-close (FIN after all flushed data). The peer's FIN fires
 *       {@code ChannelInputShutdownEvent} when {@code ALLOW_HALF_CLOSURE} is set, otherwise closes
 *       the channel, as a socket does at end of input.
 *   <li>{@link #close()}: graceful. Already flushed data is still sent, then FIN; data the peer
 *       sends afterwards is discarded (its window is given back). If the peer does not finish
 *       within {@link YamuxConfig#streamCloseTimeout()} the stream is reset.
 *   <li>{@link #reset()}: RST at once; pending writes fail with {@link
 *       YamuxStreamResetException}. A reset by the peer, or the session closing, closes the channel
 *       the same way; {@link #closeCause()} tells which.
 * </ul>
 *
 * <p>Get one from {@link YamuxSession#openStream(ChannelHandler)} (registered, connected), from
 * {@link YamuxSession#acceptStream()} / {@link YamuxSession#acceptStreams} (connected, not yet
 * registered: add handlers then {@link #register(ChannelHandler)}), or let gRPC create one through
 * {@link YamuxGrpc}. Thread-safe as every Netty channel is: operations from other threads are
 * handed to the session's event loop.
 *
 * <p>This class holds the stream's state and what the session calls; the Netty transport
 * operations (register, connect, read, write, flush, close) are in {@link YamuxStreamUnsafe} and
 * the options in {@link YamuxStreamConfig}.
 */
public final class YamuxStreamChannel extends DefaultAttributeMap implements DuplexChannel {
  private static final ChannelMetadata METADATA = new ChannelMetadata(false, 16);

  // Members without "private" are shared with the session's code and with YamuxStreamUnsafe.
  final YamuxSession session;
  final EventLoop loop;
  final Supplier<? extends CompletionStage<?>> beforeOpen;
  private final ChannelId channelId = DefaultChannelId.newInstance();
  final YamuxStreamConfig config;
  private final YamuxStreamUnsafe unsafe = new YamuxStreamUnsafe(this);
  final ChannelPipeline pipeline;
  final ChannelPromise closePromise;

  volatile boolean registered;
  volatile boolean open = true;
  volatile boolean active;
  volatile int unwritable;
  volatile int id;
  volatile Throwable closeCause;
  volatile SocketAddress localAddress;
  volatile SocketAddress remoteAddress;

  // Everything below is confined to the session's event loop.
  final boolean inbound;
  boolean synSent;
  boolean ackSent;
  boolean established;
  boolean finPending;
  boolean finSent;
  boolean finReceived;
  boolean reset;
  boolean removed;
  long sendWindow = YamuxConfig.INITIAL_STREAM_WINDOW;
  long recvWindow = YamuxConfig.INITIAL_STREAM_WINDOW;
  long inboundBytes;
  long arriving;
  ScheduledFuture<?> openTimer;
  ScheduledFuture<?> closeTimer;
  ChannelPromise finPromise;

  private final ArrayDeque<ByteBuf> inboundQueue = new ArrayDeque<>();
  final ArrayDeque<PendingWrite> unflushed = new ArrayDeque<>();
  final ArrayDeque<PendingWrite> flushed = new ArrayDeque<>();
  long pendingOutboundBytes;
  boolean connecting;
  ChannelPromise connectPromise;
  boolean readRequested;
  private boolean delivering;
  private boolean inputShutdown;
  boolean closeInitiated;

  record PendingWrite(ByteBuf buf, ChannelPromise promise) {}

  /** An outbound stream, opened when connected (by gRPC or by the session). */
  YamuxStreamChannel(YamuxSession session, Supplier<? extends CompletionStage<?>> beforeOpen) {
    this(session, 0, false, beforeOpen);
  }

  /** An inbound stream the peer opened with {@code id}. */
  YamuxStreamChannel(YamuxSession session, int id) {
    this(session, id, true, null);
  }

  private YamuxStreamChannel(
      YamuxSession session,
      int id,
      boolean inbound,
      Supplier<? extends CompletionStage<?>> beforeOpen) {
    this.session = session;
    this.loop = session.eventLoop();
    this.inbound = inbound;
    this.beforeOpen = beforeOpen;
    this.config = new YamuxStreamConfig(this);
    this.pipeline = new DefaultChannelPipeline(this) {};
    this.closePromise = new DefaultChannelPromise(this, loop);
    if (inbound) {
      assignId(id);
      active = true;
    }
  }

  /** The stream id (odd: opened by the client, even: by the server); 0 before it is opened. */
  public int streamId() {
    return id;
  }

  /** The session this stream belongs to. */
  public YamuxSession session() {
    return session;
  }

  /** Whether the peer opened this stream. */
  public boolean isInbound() {
    return inbound;
  }

  /**
   * Why the channel closed: null while open or after a graceful close, a {@link
   * YamuxStreamResetException} after a reset, a {@link YamuxSessionClosedException} when the
   * session went away, or the failure that prevented opening.
   */
  public Throwable closeCause() {
    return closeCause;
  }

  /**
   * Registers this channel (with its session's event loop) after adding {@code handler} (may be
   * null) to its pipeline. For accepted streams; opened streams are registered already.
   *
   * @return completes once registered
   */
  public ChannelFuture register(ChannelHandler handler) {
    if (handler != null) {
      pipeline.addLast(handler);
    }
    ChannelPromise p = newPromise();
    unsafe.register(loop, p);
    return p;
  }

  /**
   * Resets the stream: sends RST, fails pending writes and closes the channel at once.
   *
   * @return completes when the channel is closed
   */
  public ChannelFuture reset() {
    ChannelPromise p = newPromise();
    inLoop(
        () -> {
          if (!reset && !removed && id != 0) {
            session.streams.reset(this);
          }
          onReset(new YamuxStreamResetException("yamux stream " + streamIdString() + " was reset locally"), p);
        });
    return p;
  }

  String streamIdString() {
    return Integer.toUnsignedString(id);
  }

  // ---------------------------------------------------------------- called by the session

  void assignId(int streamId) {
    this.id = streamId;
    String base = session.name() + "/stream-" + Integer.toUnsignedString(streamId);
    this.localAddress = new YamuxAddress(base + (inbound ? "/accepted" : "/opened"));
    this.remoteAddress = new YamuxAddress(base);
  }

  /** The session sent our SYN: we are connected. */
  void opened() {
    connecting = false;
    active = true;
    ChannelPromise p = connectPromise;
    connectPromise = null;
    if (p != null && !p.trySuccess()) {
      return;
    }
    if (!open) {
      return;
    }
    if (registered) {
      pipeline.fireChannelActive();
    }
    if (!flushed.isEmpty()) {
      session.out.drain(this);
    }
  }

  void openFailed(Throwable cause) {
    connecting = false;
    closeCause = cause;
    ChannelPromise p = connectPromise;
    connectPromise = null;
    if (p != null) {
      // An IOException, as for a socket that cannot connect: gRPC maps it to UNAVAILABLE.
      java.net.ConnectException ce =
          new java.net.ConnectException("cannot open a yamux stream: " + cause.getMessage());
      ce.initCause(cause);
      p.tryFailure(ce);
    }
    unsafe.close(unsafe.voidPromise());
  }

  void enqueueInbound(ByteBuf chunk) {
    if (!open || inputShutdown) {
      int n = chunk.readableBytes();
      chunk.release();
      session.out.consumed(this, n);
      return;
    }
    inboundBytes += chunk.readableBytes();
    inboundQueue.add(chunk);
    deliver();
  }

  void onRemoteFin() {
    deliver();
  }

  void onReset(Throwable cause, ChannelPromise promise) {
    reset = true;
    if (closeCause == null) {
      closeCause = cause;
    }
    failWrites(cause);
    unsafe.close(promise);
  }

  void onSessionClosed(Throwable cause) {
    removed = true;
    if (closeCause == null) {
      closeCause = cause;
    }
    ChannelPromise p = connectPromise;
    connectPromise = null;
    if (p != null) {
      p.tryFailure(cause);
    }
    failWrites(cause);
    unsafe.close(unsafe.voidPromise());
  }

  /** {@code n} bytes of the head of {@link #flushed} went to the connection. */
  void outboundSent(long n) {
    pendingOutboundBytes -= n;
    if (unwritable != 0 && pendingOutboundBytes < config.getWriteBufferLowWaterMark()) {
      unwritable = 0;
      loop.execute(() -> pipeline.fireChannelWritabilityChanged());
    }
  }

  void failWrites(Throwable cause) {
    failQueue(unflushed, cause);
    failQueue(flushed, cause);
    if (finPromise != null) {
      finPromise.tryFailure(cause);
      finPromise = null;
    }
  }

  void failQueue(ArrayDeque<PendingWrite> q, Throwable cause) {
    PendingWrite w;
    while ((w = q.poll()) != null) {
      pendingOutboundBytes -= w.buf().readableBytes();
      w.buf().release();
      w.promise().tryFailure(cause);
    }
  }

  void deliver() {
    if (delivering) {
      return;
    }
    delivering = true;
    try {
      while (registered && open) {
        if (readRequested && !inboundQueue.isEmpty()) {
          readRequested = false;
          long delivered = 0;
          ByteBuf b;
          while (open && (b = inboundQueue.poll()) != null) {
            int n = b.readableBytes();
            inboundBytes -= n;
            delivered += n;
            pipeline.fireChannelRead(b);
          }
          pipeline.fireChannelReadComplete();
          session.out.consumed(this, delivered);
          continue;
        }
        if (inboundQueue.isEmpty() && finReceived && !inputShutdown) {
          inputShutdown = true;
          if (config.isAllowHalfClosure()) {
            pipeline.fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
            pipeline.fireUserEventTriggered(ChannelInputShutdownReadComplete.INSTANCE);
          } else {
            unsafe.close(unsafe.voidPromise());
          }
        }
        break;
      }
    } finally {
      delivering = false;
    }
  }

  void releaseInbound() {
    ByteBuf b;
    while ((b = inboundQueue.poll()) != null) {
      inboundBytes -= b.readableBytes();
      b.release();
    }
  }

  void inLoop(Runnable r) {
    if (loop.inEventLoop()) {
      r.run();
    } else {
      loop.execute(r);
    }
  }

  // ---------------------------------------------------------------- Channel

  @Override
  public ChannelId id() {
    return channelId;
  }

  @Override
  public EventLoop eventLoop() {
    return loop;
  }

  /** The session's connection. */
  @Override
  public Channel parent() {
    return session.channel();
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
  public boolean isRegistered() {
    return registered;
  }

  @Override
  public boolean isActive() {
    return open && active;
  }

  @Override
  public ChannelMetadata metadata() {
    return METADATA;
  }

  @Override
  public SocketAddress localAddress() {
    return localAddress;
  }

  @Override
  public SocketAddress remoteAddress() {
    return remoteAddress;
  }

  @Override
  public ChannelFuture closeFuture() {
    return closePromise;
  }

  @Override
  public boolean isWritable() {
    return open && unwritable == 0;
  }

  @Override
  public long bytesBeforeUnwritable() {
    long b = config.getWriteBufferHighWaterMark() - pendingOutboundBytes;
    return b > 0 && isWritable() ? b : 0;
  }

  @Override
  public long bytesBeforeWritable() {
    long b = pendingOutboundBytes - config.getWriteBufferLowWaterMark();
    return b > 0 && !isWritable() ? b : 0;
  }

  @Override
  public Unsafe unsafe() {
    return unsafe;
  }

  @Override
  public ChannelPipeline pipeline() {
    return pipeline;
  }

  @Override
  public boolean isInputShutdown() {
    return inputShutdown || !open;
  }

  @Override
  public ChannelFuture shutdownInput() {
    return shutdownInput(newPromise());
  }

  /** Stops delivering input; later data is discarded (its window given back). */
  @Override
  public ChannelFuture shutdownInput(ChannelPromise promise) {
    inLoop(
        () -> {
          inputShutdown = true;
          releaseInbound();
          if (id != 0 && !removed) {
            session.out.consumed(this, 0);
          }
          promise.trySuccess();
        });
    return promise;
  }

  @Override
  public boolean isOutputShutdown() {
    return finPending || finSent || !open;
  }

  @Override
  public ChannelFuture shutdownOutput() {
    return shutdownOutput(newPromise());
  }

  /** Half-close: sends FIN once all written data has been flushed and sent. */
  @Override
  public ChannelFuture shutdownOutput(ChannelPromise promise) {
    inLoop(
        () -> {
          if (!isActive()) {
            promise.tryFailure(open ? new NotYetConnectedException() : new ClosedChannelException());
            return;
          }
          if (finPending || finSent) {
            promise.trySuccess();
            return;
          }
          moveUnflushed();
          finPending = true;
          finPromise = promise;
          session.out.drain(this);
        });
    return promise;
  }

  @Override
  public boolean isShutdown() {
    return isInputShutdown() && isOutputShutdown();
  }

  @Override
  public ChannelFuture shutdown() {
    return shutdown(newPromise());
  }

  @Override
  public ChannelFuture shutdown(ChannelPromise promise) {
    ChannelPromise out = newPromise();
    shutdownOutput(out);
    out.addListener(
        f -> {
          shutdownInput();
          if (f.isSuccess()) {
            promise.trySuccess();
          } else {
            promise.tryFailure(f.cause());
          }
        });
    return promise;
  }

  void moveUnflushed() {
    PendingWrite w;
    while ((w = unflushed.poll()) != null) {
      flushed.add(w);
    }
  }

  @Override
  public int compareTo(Channel o) {
    return id().compareTo(o.id());
  }

  @Override
  public boolean equals(Object o) {
    return this == o;
  }

  @Override
  public int hashCode() {
    return channelId.hashCode();
  }

  @Override
  public String toString() {
    return "[yamux "
        + session.name()
        + " stream "
        + (id == 0 ? "(unopened)" : streamIdString())
        + (isActive() ? "" : open ? " (not connected)" : " (closed)")
        + ']';
  }
}
