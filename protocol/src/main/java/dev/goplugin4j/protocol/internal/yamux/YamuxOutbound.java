package dev.goplugin4j.protocol.internal.yamux;

import io.grpc.netty.shaded.io.netty.buffer.ByteBuf;
import io.grpc.netty.shaded.io.netty.buffer.Unpooled;
import io.grpc.netty.shaded.io.netty.channel.Channel;
import io.grpc.netty.shaded.io.netty.channel.ChannelFuture;
import io.grpc.netty.shaded.io.netty.channel.ChannelFutureListener;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandlerContext;
import io.grpc.netty.shaded.io.netty.channel.ChannelPromise;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The outbound half of a {@link YamuxSession}, the counterpart of {@link YamuxInbound}: every frame
 * the session writes to its connection, and the flow control of both directions.
 *
 * <ul>
 *   <li>Sending: a stream's flushed writes go out as Data frames of at most {@link
 *       #MAX_DATA_FRAME} bytes, as far as its send window allows; its FIN follows the last byte.
 *       The first frame of a stream the peer opened carries our ACK.
 *   <li>Receiving: the window of a stream is only given back (WindowUpdate) as its application
 *       consumes, once at least half of {@link YamuxConfig#maxStreamWindowSize()} is free.
 *   <li>Connection backpressure: while the connection is not writable the streams that have data
 *       wait in a set and are drained when it becomes writable again; if the peer reads nothing
 *       within {@link YamuxConfig#connectionWriteTimeout()} the session closes.
 *   <li>Flushing: writes are coalesced into one flush per event-loop turn.
 * </ul>
 *
 * <p>Not thread-safe: confined to the connection's event loop, except {@link #bytesSent()}, which
 * any thread may read. Writing needs the pipeline context, given by {@link #attached} before the
 * first frame.
 */
final class YamuxOutbound {
  private static final Logger LOG = LoggerFactory.getLogger(YamuxSession.class);
  /** Largest payload of one Data frame we send; keeps streams interleaving fairly. */
  static final int MAX_DATA_FRAME = 64 * 1024;

  private final YamuxSession session;
  private final Channel channel;
  private final YamuxConfig config;
  private ChannelHandlerContext ctx;
  private boolean flushScheduled;
  /** Streams with data to send that wait for the connection to become writable. */
  private final Set<YamuxStreamChannel> blockedOnConnection = new LinkedHashSet<>();
  private ScheduledFuture<?> writeTimeoutTask;
  /** Bytes of yamux frames (headers and payloads) written to the connection. */
  private final LongAdder bytesSent = new LongAdder();

  YamuxOutbound(YamuxSession session) {
    this.session = session;
    this.channel = session.channel();
    this.config = session.config();
  }

  /** The session's handler is in the pipeline: frames are written through {@code c}. */
  void attached(ChannelHandlerContext c) {
    ctx = c;
  }

  /** As {@link YamuxSession#bytesSent()}. */
  long bytesSent() {
    return bytesSent.sum();
  }

  // ---------------------------------------------------------------- streams' data and windows

  /** Sends what the stream has flushed, as far as its window and the connection allow. */
  void drain(YamuxStreamChannel s) {
    if (session.closed || s.reset || s.removed || s.streamId() == 0) {
      return;
    }
    boolean wrote = false;
    YamuxStreamChannel.PendingWrite w;
    while ((w = s.flushed.peek()) != null) {
      ByteBuf buf = w.buf();
      int readable = buf.readableBytes();
      if (readable == 0) {
        s.flushed.poll();
        buf.release();
        w.promise().trySuccess();
        continue;
      }
      if (s.sendWindow <= 0) {
        break;
      }
      if (!channel.isWritable()) {
        blockedOnConnection.add(s);
        break;
      }
      int n = (int) Math.min(Math.min(readable, s.sendWindow), MAX_DATA_FRAME);
      ByteBuf payload;
      ChannelPromise promise;
      if (n == readable) {
        s.flushed.poll();
        payload = buf;
        promise = w.promise();
      } else {
        payload = buf.readRetainedSlice(n);
        promise = null;
      }
      s.sendWindow -= n;
      bytesSent.add(n);
      ctx.write(header(YamuxHeader.TYPE_DATA, openFlags(s), s.streamId(), n), ctx.voidPromise());
      if (promise == null || promise.isVoid()) {
        ctx.write(payload, ctx.voidPromise());
      } else {
        ctx.write(payload)
            .addListener(
                f -> {
                  if (f.isSuccess()) {
                    promise.trySuccess();
                  } else {
                    promise.tryFailure(f.cause());
                  }
                });
      }
      s.outboundSent(n);
      wrote = true;
    }
    if (wrote) {
      scheduleFlush();
    }
    if (s.flushed.isEmpty() && s.finPending && !s.finSent) {
      sendFin(s);
    }
  }

  /** The application consumed data (or {@code n} = 0: re-evaluate); maybe send a window update. */
  void consumed(YamuxStreamChannel s, long n) {
    if (session.closed || s.removed || s.reset || s.streamId() == 0) {
      return;
    }
    if (s.finReceived && !(s.inbound && !s.ackSent)) {
      return;
    }
    long max = config.maxStreamWindowSize();
    // Bytes of the current Data frame still on the wire count as buffered: the window they
    // use is not free yet.
    long delta = (max - s.inboundBytes - s.arriving) - s.recvWindow;
    if (LOG.isTraceEnabled()) {
      LOG.trace("yamux {} stream {}: consumed {}, buffered {}, arriving {}, window {}, delta {}",
          session.name(), s.streamIdString(), n, s.inboundBytes, s.arriving, s.recvWindow, delta);
    }
    int flags = openFlags(s);
    if (delta < max / 2 && flags == 0) {
      return;
    }
    if (delta < 0) {
      delta = 0;
    }
    s.recvWindow += delta;
    writeControl(YamuxHeader.TYPE_WINDOW_UPDATE, flags, s.streamId(), (int) delta);
  }

  private void sendFin(YamuxStreamChannel s) {
    s.finSent = true;
    s.finPending = false;
    int flags = openFlags(s) | YamuxHeader.FLAG_FIN;
    ByteBuf h = header(YamuxHeader.TYPE_WINDOW_UPDATE, flags, s.streamId(), 0);
    ChannelPromise p = s.finPromise;
    s.finPromise = null;
    if (p != null) {
      ctx.write(h)
          .addListener(
              f -> {
                if (f.isSuccess()) {
                  p.trySuccess();
                } else {
                  p.tryFailure(f.cause());
                }
              });
    } else {
      ctx.write(h, ctx.voidPromise());
    }
    scheduleFlush();
    if (s.finReceived) {
      session.streams.remove(s);
    }
  }

  private static int openFlags(YamuxStreamChannel s) {
    if (s.inbound && !s.ackSent) {
      s.ackSent = true;
      return YamuxHeader.FLAG_ACK;
    }
    return 0;
  }

  /** {@code s} is gone: it no longer waits for the connection. */
  void forget(YamuxStreamChannel s) {
    blockedOnConnection.remove(s);
  }

  // ---------------------------------------------------------------- frames and flushing

  private ByteBuf header(int type, int flags, int streamId, int length) {
    ByteBuf b = ctx.alloc().buffer(YamuxHeader.SIZE);
    bytesSent.add(YamuxHeader.SIZE);
    YamuxHeader h = new YamuxHeader(type, flags, streamId, length);
    if (LOG.isTraceEnabled()) {
      LOG.trace("yamux {} -> {}", session.name(), h);
    }
    h.encode(b);
    return b;
  }

  /** Writes a frame without payload and flushes it soon; nothing once the session is closed. */
  void writeControl(int type, int flags, int streamId, int length) {
    if (session.closed) {
      return;
    }
    ctx.write(header(type, flags, streamId, length), ctx.voidPromise());
    scheduleFlush();
  }

  /** Writes GoAway with {@code code} and flushes it at once. */
  ChannelFuture writeGoAway(int code) {
    return ctx.writeAndFlush(header(YamuxHeader.TYPE_GO_AWAY, 0, 0, code));
  }

  private void scheduleFlush() {
    if (!flushScheduled) {
      flushScheduled = true;
      session.eventLoop().execute(
          () -> {
            flushScheduled = false;
            ctx.flush();
          });
    }
  }

  // ---------------------------------------------------------------- the connection

  /**
   * The connection became writable (drain the streams that waited for it) or not (close the
   * session if the peer reads nothing within the write timeout).
   */
  void writabilityChanged(boolean writable) {
    if (writable) {
      if (writeTimeoutTask != null) {
        writeTimeoutTask.cancel(false);
        writeTimeoutTask = null;
      }
      List<YamuxStreamChannel> blocked = new ArrayList<>(blockedOnConnection);
      blockedOnConnection.clear();
      for (YamuxStreamChannel s : blocked) {
        drain(s);
      }
    } else if (writeTimeoutTask == null && !session.closed) {
      writeTimeoutTask =
          session.eventLoop().schedule(
              () -> {
                writeTimeoutTask = null;
                if (!channel.isWritable()) {
                  session.terminate(
                      new YamuxTimeoutException(
                          "yamux connection write timeout: the peer read nothing for "
                              + config.connectionWriteTimeout()),
                      -1);
                }
              },
              config.connectionWriteTimeout().toNanos(),
              TimeUnit.NANOSECONDS);
    }
  }

  /**
   * The session is closing: writes GoAway with {@code goAwayCode} first if it is >= 0 and the
   * connection still up (not flushed: {@link #closeConnection()} flushes it), stops the write
   * timeout and forgets the streams waiting for the connection.
   */
  void stop(int goAwayCode) {
    if (goAwayCode >= 0 && ctx != null && channel.isActive()) {
      ctx.write(header(YamuxHeader.TYPE_GO_AWAY, 0, 0, goAwayCode), ctx.voidPromise());
    }
    if (writeTimeoutTask != null) {
      writeTimeoutTask.cancel(false);
    }
    blockedOnConnection.clear();
  }

  /** Flushes what is written and then closes the connection. */
  void closeConnection() {
    if (ctx != null) {
      ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
    } else {
      channel.close();
    }
  }
}
