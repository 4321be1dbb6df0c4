package dev.goplugin4j.protocol.internal.yamux;

import io.grpc.netty.shaded.io.netty.buffer.ByteBuf;

/**
 * Incremental yamux frame parser. Feed it whatever bytes arrive; it reports each header as soon as
 * its 12 bytes are in, and a Data frame's payload in pieces as they arrive (retained slices of the
 * input, so nothing is copied and nothing waits for a whole frame). It keeps at most 11 bytes of
 * its own, so arbitrary input can never make it buffer more.
 *
 * <p>Not thread-safe: one decoder per connection, used from its event loop.
 */
public final class YamuxFrameDecoder {
  /** Receives what the decoder parses. Listener exceptions propagate out of {@link #decode}. */
  public interface Listener {
    /** A header; for Data frames, followed by {@link #data} calls and one {@link #dataEnd}. */
    void header(YamuxHeader header);

    /**
     * A piece of a Data frame's payload. The listener owns {@code chunk} and must release it.
     */
    void data(YamuxHeader header, ByteBuf chunk);

    /** The end of a Data frame (immediately after {@link #header} for an empty one). */
    void dataEnd(YamuxHeader header);
  }

  private final long maxDataLength;
  private final byte[] headerBytes = new byte[YamuxHeader.SIZE];
  private int headerFilled;
  private YamuxHeader current;
  private long remaining;
  private boolean stopped;

  /**
   * Creates a decoder.
   *
   * @param maxDataLength the largest Data payload accepted (the largest window we ever grant); a
   *     bigger Data frame is a protocol error before any of its payload is read
   */
  public YamuxFrameDecoder(long maxDataLength) {
    this.maxDataLength = maxDataLength;
  }

  /** Makes every later {@link #decode} call ignore its input (after a fatal error). */
  public void stop() {
    stopped = true;
  }

  /**
   * Consumes all readable bytes of {@code in}, reporting frames to {@code listener}. Returns early
   * (leaving bytes unread) only once {@link #stop()} has been called.
   *
   * @throws YamuxProtocolException if the input is not yamux (bad version or type, oversized Data);
   *     the decoder is then stopped, as by {@link #stop()}
   */
  public void decode(ByteBuf in, Listener listener) {
    while (!stopped && in.isReadable()) {
      if (current == null) {
        int n = Math.min(YamuxHeader.SIZE - headerFilled, in.readableBytes());
        in.readBytes(headerBytes, headerFilled, n);
        headerFilled += n;
        if (headerFilled < YamuxHeader.SIZE) {
          return;
        }
        headerFilled = 0;
        YamuxHeader h;
        try {
          h = YamuxHeader.decode(headerBytes, 0);
        } catch (YamuxProtocolException e) {
          // not yamux: what follows is not aligned to frames either, so parse nothing more
          stopped = true;
          throw e;
        }
        if (h.type() != YamuxHeader.TYPE_DATA) {
          listener.header(h);
          continue;
        }
        if (h.lengthUnsigned() > maxDataLength) {
          stopped = true;
          throw new YamuxProtocolException(
              "yamux protocol error: data frame of "
                  + h.lengthUnsigned()
                  + " bytes on stream "
                  + h.streamIdUnsigned()
                  + " exceeds the largest window we grant ("
                  + maxDataLength
                  + " bytes)");
        }
        listener.header(h);
        if (h.length() == 0) {
          listener.dataEnd(h);
        } else {
          current = h;
          remaining = h.lengthUnsigned();
        }
      } else {
        int n = (int) Math.min(remaining, in.readableBytes());
        ByteBuf chunk = in.readRetainedSlice(n);
        remaining -= n;
        YamuxHeader h = current;
        if (remaining == 0) {
          current = null;
        }
        listener.data(h, chunk);
        if (remaining == 0) {
          listener.dataEnd(h);
        }
      }
    }
  }
}
