package dev.goplugin4j.protocol.internal.yamux;

import io.grpc.netty.shaded.io.netty.buffer.ByteBuf;

/**
 * One yamux frame header (12 bytes, big endian): version (always 0), type, flags, stream id and
 * length. Stream id and length are unsigned 32-bit values carried in {@code int}s; use {@link
 * #streamIdUnsigned()} and {@link #lengthUnsigned()} to compare them.
 *
 * <p>The meaning of {@code length} depends on the type: payload size (Data), window delta
 * (WindowUpdate), opaque value echoed back (Ping), error code (GoAway).
 *
 * @param type one of {@link #TYPE_DATA}, {@link #TYPE_WINDOW_UPDATE}, {@link #TYPE_PING}, {@link
 *     #TYPE_GO_AWAY}
 * @param flags any combination of {@link #FLAG_SYN}, {@link #FLAG_ACK}, {@link #FLAG_FIN}, {@link
 *     #FLAG_RST} (other bits are carried but ignored), 0..0xFFFF
 * @param streamId the stream, 0 for the session (Ping, GoAway)
 * @param length see above
 */
public record YamuxHeader(int type, int flags, int streamId, int length) {
  /** Header size on the wire. */
  public static final int SIZE = 12;
  /** The only protocol version. */
  public static final int VERSION = 0;

  /** Data frame: {@code length} payload bytes follow. */
  public static final int TYPE_DATA = 0;
  /** Window update: {@code length} is the window delta. */
  public static final int TYPE_WINDOW_UPDATE = 1;
  /** Ping: {@code length} is an opaque value the peer echoes back. */
  public static final int TYPE_PING = 2;
  /** GoAway: {@code length} is an error code. */
  public static final int TYPE_GO_AWAY = 3;

  /** Opens a stream; with Ping: a request. */
  public static final int FLAG_SYN = 0x1;
  /** Acknowledges a stream; with Ping: a response. */
  public static final int FLAG_ACK = 0x2;
  /** Half-close: the sender sends no more data on the stream. */
  public static final int FLAG_FIN = 0x4;
  /** Resets the stream at once. */
  public static final int FLAG_RST = 0x8;

  /** GoAway code: normal termination. */
  public static final int GO_AWAY_NORMAL = 0;
  /** GoAway code: protocol error. */
  public static final int GO_AWAY_PROTOCOL_ERROR = 1;
  /** GoAway code: internal error. */
  public static final int GO_AWAY_INTERNAL_ERROR = 2;

  /**
   * Checks the fields.
   *
   * @throws IllegalArgumentException if type is not 0..3 or flags not 0..0xFFFF
   */
  public YamuxHeader {
    if (type < TYPE_DATA || type > TYPE_GO_AWAY) {
      throw new IllegalArgumentException("yamux frame type must be 0..3, got " + type);
    }
    if ((flags & ~0xFFFF) != 0) {
      throw new IllegalArgumentException("yamux flags must fit 16 bits, got " + flags);
    }
  }

  /** The stream id as an unsigned value. */
  public long streamIdUnsigned() {
    return Integer.toUnsignedLong(streamId);
  }

  /** The length field as an unsigned value. */
  public long lengthUnsigned() {
    return Integer.toUnsignedLong(length);
  }

  /** Whether all bits of {@code flag} are set. */
  public boolean has(int flag) {
    return (flags & flag) == flag;
  }

  /** Writes the 12 header bytes to {@code out}. */
  public void encode(ByteBuf out) {
    out.writeByte(VERSION);
    out.writeByte(type);
    out.writeShort(flags);
    out.writeInt(streamId);
    out.writeInt(length);
  }

  /**
   * Reads one header from exactly 12 bytes at {@code offset} of {@code b}.
   *
   * @throws YamuxProtocolException on a version other than 0 or an unknown type
   */
  public static YamuxHeader decode(byte[] b, int offset) {
    int version = b[offset] & 0xFF;
    if (version != VERSION) {
      throw new YamuxProtocolException(
          "yamux protocol error: unsupported version "
              + version
              + " (only 0 exists); the peer does not speak yamux or the stream is corrupt");
    }
    int type = b[offset + 1] & 0xFF;
    if (type > TYPE_GO_AWAY) {
      throw new YamuxProtocolException(
          "yamux protocol error: unknown frame type "
              + type
              + "; the peer does not speak yamux or the stream is corrupt");
    }
    int flags = ((b[offset + 2] & 0xFF) << 8) | (b[offset + 3] & 0xFF);
    return new YamuxHeader(type, flags, readInt(b, offset + 4), readInt(b, offset + 8));
  }

  private static int readInt(byte[] b, int o) {
    return ((b[o] & 0xFF) << 24) | ((b[o + 1] & 0xFF) << 16) | ((b[o + 2] & 0xFF) << 8) | (b[o + 3] & 0xFF);
  }

  @Override
  public String toString() {
    String t =
        switch (type) {
          case TYPE_DATA -> "Data";
          case TYPE_WINDOW_UPDATE -> "WindowUpdate";
          case TYPE_PING -> "Ping";
          default -> "GoAway";
        };
    StringBuilder f = new StringBuilder();
    if (has(FLAG_SYN)) {
      f.append("|SYN");
    }
    if (has(FLAG_ACK)) {
      f.append("|ACK");
    }
    if (has(FLAG_FIN)) {
      f.append("|FIN");
    }
    if (has(FLAG_RST)) {
      f.append("|RST");
    }
    return t
        + "{flags="
        + (f.length() == 0 ? "0" : f.substring(1))
        + ", stream="
        + streamIdUnsigned()
        + ", length="
        + lengthUnsigned()
        + '}';
  }
}
