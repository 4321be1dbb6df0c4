package dev.goplugin4j.protocol.internal.yamux;

import io.grpc.netty.shaded.io.netty.buffer.ByteBuf;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandlerContext;
import io.grpc.netty.shaded.io.netty.channel.ChannelInboundHandlerAdapter;
import io.grpc.netty.shaded.io.netty.util.ReferenceCountUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The inbound half of a {@link YamuxSession}: its handler in the connection's pipeline, which
 * decodes the peer's frames and dispatches them: the streams' frames (ACKs, windows, Data, FIN and
 * RST) are applied here, to the stream and its windows, a SYN goes to {@link YamuxStreamTable}, a
 * Ping to {@link YamuxKeepAlive}, GoAway to the session. A protocol violation closes the session
 * with GoAway(protocol error); the connection's events (writability, close, failure) go to {@link
 * YamuxOutbound} and the session. The outbound half (frames out, draining the streams' writes,
 * window updates, flushing) is {@link YamuxOutbound}.
 *
 * <p>Not thread-safe: confined to the connection's event loop, like the session state it uses.
 */
final class YamuxInbound extends ChannelInboundHandlerAdapter
    implements YamuxFrameDecoder.Listener {
  private static final Logger LOG = LoggerFactory.getLogger(YamuxSession.class);
  /** Received chunks smaller than this are copied, so they do not pin big read buffers. */
  private static final int COPY_BELOW = 4096;

  private final YamuxSession session;
  /** The stream whose Data frame is being read, null between frames or for an unknown stream. */
  private YamuxStreamChannel dataStream;
  /** This handler's context in the connection's pipeline. */
  private ChannelHandlerContext ctx;

  YamuxInbound(YamuxSession session) {
    this.session = session;
  }

  // ---------------------------------------------------------------- pipeline events

  @Override
  public void handlerAdded(ChannelHandlerContext c) {
    ctx = c;
    session.attached(c);
    if (!c.channel().isActive() && c.channel().isRegistered()) {
      // Not connected yet: nothing to do until channelActive.
      return;
    }
    c.channel().config().setAutoRead(true);
  }

  @Override
  public void channelActive(ChannelHandlerContext c) {
    c.channel().config().setAutoRead(true);
    c.fireChannelActive();
  }

  @Override
  public void channelRead(ChannelHandlerContext c, Object msg) {
    if (!(msg instanceof ByteBuf in)) {
      ReferenceCountUtil.release(msg);
      return;
    }
    session.bytesReceived.add(in.readableBytes());
    try {
      if (!session.closed) {
        session.decoder.decode(in, this);
      }
    } catch (YamuxProtocolException e) {
      LOG.warn("yamux {}: {}", session.name(), e.getMessage());
      dataStream = null;
      session.terminate(e, YamuxHeader.GO_AWAY_PROTOCOL_ERROR);
    } catch (RuntimeException e) {
      LOG.error("yamux {}: internal error, closing session", session.name(), e);
      dataStream = null;
      session.terminate(
          new YamuxException("yamux internal error: " + e, e), YamuxHeader.GO_AWAY_INTERNAL_ERROR);
    } finally {
      in.release();
    }
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext c) {
    session.out.writabilityChanged(c.channel().isWritable());
    c.fireChannelWritabilityChanged();
  }

  @Override
  public void channelInactive(ChannelHandlerContext c) {
    session.terminate(new YamuxSessionClosedException("the yamux connection was closed"), -1);
    c.fireChannelInactive();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext c, Throwable cause) {
    session.terminate(
        new YamuxSessionClosedException("the yamux connection failed: " + cause, cause), -1);
  }

  // ---------------------------------------------------------------- decoded frames

  @Override
  public void header(YamuxHeader h) {
    if (LOG.isTraceEnabled()) {
      LOG.trace("yamux {} <- {}", session.name(), h);
    }
    switch (h.type()) {
      case YamuxHeader.TYPE_DATA, YamuxHeader.TYPE_WINDOW_UPDATE -> onStreamHeader(h);
      case YamuxHeader.TYPE_PING -> session.keepAlive.onPing(h);
      default -> onGoAway(h);
    }
  }

  @Override
  public void data(YamuxHeader header, ByteBuf chunk) {
    YamuxStreamChannel s = dataStream;
    if (s == null || s.removed) {
      chunk.release();
      return;
    }
    s.arriving -= chunk.readableBytes();
    ByteBuf b = chunk;
    if (chunk.readableBytes() < COPY_BELOW) {
      b = ctx.alloc().buffer(chunk.readableBytes());
      b.writeBytes(chunk);
      chunk.release();
    }
    s.enqueueInbound(b);
  }

  @Override
  public void dataEnd(YamuxHeader h) {
    YamuxStreamChannel s = dataStream;
    dataStream = null;
    if (s != null) {
      streamFlags(s, h.flags());
    }
  }

  private void onStreamHeader(YamuxHeader h) {
    int id = h.streamId();
    if (h.has(YamuxHeader.FLAG_SYN)) {
      session.streams.incoming(id);
      if (session.closed) {
        return;
      }
    }
    YamuxStreamChannel s = session.streams.get(id);
    boolean data = h.type() == YamuxHeader.TYPE_DATA;
    if (data) {
      dataStream = s;
    }
    if (s == null) {
      if (data && h.length() != 0) {
        LOG.debug("yamux {}: discarding {} for unknown stream", session.name(), h);
      }
      return;
    }
    // Any answer establishes an outbound stream, not only ACK: Go's yamux never ACKs a stream
    // that was half-closed before it accepted it (its state is no longer SYN-received).
    if (!s.inbound && !s.established && !h.has(YamuxHeader.FLAG_RST)) {
      session.streams.established(s);
    }
    if (data) {
      if (h.lengthUnsigned() > s.recvWindow) {
        throw new YamuxProtocolException(
            "yamux protocol error: receive window exceeded on stream "
                + s.streamIdString()
                + " (window "
                + s.recvWindow
                + " bytes, frame "
                + h.lengthUnsigned()
                + " bytes)");
      }
      s.recvWindow -= h.lengthUnsigned();
      s.arriving = h.lengthUnsigned();
      return;
    }
    streamFlags(s, h.flags());
    if (!s.removed && h.length() != 0) {
      long w = s.sendWindow + h.lengthUnsigned();
      if (w > YamuxStreamTable.MAX_STREAM_ID) {
        throw new YamuxProtocolException(
            "yamux protocol error: send window of stream " + s.streamIdString() + " overflows 2^32-1");
      }
      s.sendWindow = w;
      session.out.drain(s);
    }
  }

  private void streamFlags(YamuxStreamChannel s, int flags) {
    if ((flags & YamuxHeader.FLAG_RST) != 0) {
      if (!s.removed) {
        session.streams.remove(s);
      }
      s.onReset(
          new YamuxStreamResetException("yamux stream " + s.streamIdString() + " was reset by the peer"),
          s.voidPromise());
      return;
    }
    if ((flags & YamuxHeader.FLAG_FIN) != 0 && !s.finReceived) {
      s.finReceived = true;
      if (s.finSent) {
        session.streams.remove(s);
      }
      s.onRemoteFin();
    }
  }

  private void onGoAway(YamuxHeader h) {
    switch (h.length()) {
      case YamuxHeader.GO_AWAY_NORMAL -> {
        session.remoteGoAway = true;
        session.streams.refusePendingOpens();
      }
      case YamuxHeader.GO_AWAY_PROTOCOL_ERROR -> session.terminate(new YamuxSessionClosedException(
          "the yamux peer reported a protocol error (GoAway) and closed the session"), -1);
      case YamuxHeader.GO_AWAY_INTERNAL_ERROR -> session.terminate(new YamuxSessionClosedException(
          "the yamux peer reported an internal error (GoAway) and closed the session"), -1);
      default -> session.terminate(new YamuxProtocolException(
          "yamux protocol error: GoAway with unknown code " + h.lengthUnsigned()), -1);
    }
  }
}
