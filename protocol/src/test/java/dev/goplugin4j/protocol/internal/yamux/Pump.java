package dev.goplugin4j.protocol.internal.yamux;

import io.grpc.netty.shaded.io.netty.buffer.ByteBuf;
import io.grpc.netty.shaded.io.netty.buffer.Unpooled;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandlerContext;
import io.grpc.netty.shaded.io.netty.channel.ChannelInboundHandlerAdapter;
import io.grpc.netty.shaded.io.netty.channel.ChannelOption;
import io.grpc.netty.shaded.io.netty.channel.socket.ChannelInputShutdownEvent;
import io.grpc.netty.shaded.io.netty.channel.socket.DuplexChannel;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.concurrent.CompletableFuture;

/**
 * Test handler for a stream: writes a prefix and then {@code patternBytes} of the pattern byte(i)
 * = i % 251 (the Go peer's pattern) with back-pressure, optionally half-closes, and records what
 * it receives (count, SHA-256, the bytes when small).
 */
final class Pump extends ChannelInboundHandlerAdapter {
  static final int CHUNK = 64 * 1024;

  /** What a stream received. */
  record Received(long count, String sha256, byte[] bytes, Throwable closeCause) {
    String text() {
      return new String(bytes, StandardCharsets.UTF_8).trim();
    }
  }

  private final byte[] prefix;
  private final long patternBytes;
  private final boolean halfClose;
  private final boolean autoRead;
  private final boolean allowHalfClosure;
  final CompletableFuture<Void> sent = new CompletableFuture<>();
  final CompletableFuture<Received> received = new CompletableFuture<>();
  /** Completes when the first bytes arrive. */
  final CompletableFuture<Void> firstRead = new CompletableFuture<>();
  private final MessageDigest digest = sha256();
  private final ByteArrayOutputStream kept = new ByteArrayOutputStream();
  private long count;
  private long written;
  private boolean prefixWritten;
  private ChannelHandlerContext ctx;

  Pump(String prefix, long patternBytes, boolean halfClose) {
    this(prefix, patternBytes, halfClose, true, false);
  }

  Pump(String prefix, long patternBytes, boolean halfClose, boolean autoRead, boolean allowHalfClosure) {
    this.prefix = prefix == null ? new byte[0] : prefix.getBytes(StandardCharsets.UTF_8);
    this.patternBytes = patternBytes;
    this.halfClose = halfClose;
    this.autoRead = autoRead;
    this.allowHalfClosure = allowHalfClosure;
  }

  static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new AssertionError(e);
    }
  }

  static String patternSha256(long n) {
    MessageDigest d = sha256();
    byte[] chunk = new byte[CHUNK];
    for (long off = 0; off < n; off += CHUNK) {
      int len = (int) Math.min(CHUNK, n - off);
      fill(chunk, off, len);
      d.update(chunk, 0, len);
    }
    return HexFormat.of().formatHex(d.digest());
  }

  static void fill(byte[] b, long offset, int len) {
    for (int i = 0; i < len; i++) {
      b[i] = (byte) ((offset + i) % 251);
    }
  }

  @Override
  public void handlerAdded(ChannelHandlerContext c) {
    this.ctx = c;
    c.channel().config().setAutoRead(autoRead);
    c.channel().config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, allowHalfClosure);
    if (c.channel().isActive()) {
      pump();
    }
  }

  @Override
  public void channelActive(ChannelHandlerContext c) {
    pump();
    c.fireChannelActive();
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext c) {
    pump();
    c.fireChannelWritabilityChanged();
  }

  private void pump() {
    if (sent.isDone() || !ctx.channel().isActive()) {
      return;
    }
    if (!prefixWritten) {
      prefixWritten = true;
      if (prefix.length > 0) {
        ctx.write(Unpooled.wrappedBuffer(prefix));
      }
    }
    while (written < patternBytes && ctx.channel().isWritable()) {
      int len = (int) Math.min(CHUNK, patternBytes - written);
      ByteBuf b = ctx.alloc().buffer(len);
      byte[] tmp = new byte[len];
      fill(tmp, written, len);
      b.writeBytes(tmp);
      written += len;
      ctx.write(b);
    }
    ctx.flush();
    if (written == patternBytes) {
      if (halfClose) {
        ((DuplexChannel) ctx.channel())
            .shutdownOutput()
            .addListener(f -> sent.complete(null));
      } else {
        sent.complete(null);
      }
    }
  }

  /** Requests one more read (for AUTO_READ off). */
  void read() {
    ctx.channel().read();
  }

  @Override
  public void channelRead(ChannelHandlerContext c, Object msg) {
    ByteBuf b = (ByteBuf) msg;
    try {
      int n = b.readableBytes();
      byte[] tmp = new byte[n];
      b.readBytes(tmp);
      digest.update(tmp);
      count += n;
      firstRead.complete(null);
      if (kept.size() < 1 << 20) {
        kept.write(tmp, 0, n);
      }
    } finally {
      b.release();
    }
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext c, Object evt) {
    if (evt instanceof ChannelInputShutdownEvent) {
      complete(c);
    }
    c.fireUserEventTriggered(evt);
  }

  @Override
  public void channelInactive(ChannelHandlerContext c) {
    complete(c);
    if (!sent.isDone()) {
      sent.completeExceptionally(
          new IllegalStateException("stream closed after " + written + " bytes written", closeCause(c)));
    }
    c.fireChannelInactive();
  }

  private static Throwable closeCause(ChannelHandlerContext c) {
    return ((YamuxStreamChannel) c.channel()).closeCause();
  }

  private void complete(ChannelHandlerContext c) {
    if (!received.isDone()) {
      received.complete(
          new Received(count, HexFormat.of().formatHex(digest.digest()), kept.toByteArray(), closeCause(c)));
    }
  }
}
