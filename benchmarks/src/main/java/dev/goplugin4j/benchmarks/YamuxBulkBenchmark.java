package dev.goplugin4j.benchmarks;

import dev.goplugin4j.protocol.internal.transport.GrpcTransport;
import dev.goplugin4j.protocol.internal.yamux.YamuxConfig;
import dev.goplugin4j.protocol.internal.yamux.YamuxSession;
import dev.goplugin4j.protocol.internal.yamux.YamuxStreamChannel;
import io.grpc.netty.shaded.io.netty.buffer.ByteBuf;
import io.grpc.netty.shaded.io.netty.buffer.Unpooled;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandlerContext;
import io.grpc.netty.shaded.io.netty.channel.ChannelInboundHandlerAdapter;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Figure 4: bulk transfer over one yamux stream. Our yamux session (client) on a Unix socket to
 * HashiCorp's Go yamux (server, {@code yamuxbulk server}, {@code yamux.DefaultConfig()}: 256 KiB
 * stream window); each invocation opens a stream and moves {@link #sizeMib} MiB: {@code upload}
 * writes them and waits for the server's 1-byte acknowledgement after the last byte; {@code
 * download} asks for them and reads them all. The Go driver's {@code bulk} does the same with a
 * Go client against the same server, for the ratio.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class YamuxBulkBenchmark {
  private static final int CHUNK = 64 * 1024;

  /** MiB moved per transfer. */
  @Param({"256"})
  public int sizeMib;

  private Path socketDir;
  private GoProcess server;
  private EventLoopGroup group;
  private YamuxSession session;
  private ByteBuf chunk;

  /** Starts the Go server and connects one session. */
  @Setup(Level.Trial)
  public void start() throws IOException {
    socketDir = Files.createTempDirectory("gp4j-bench");
    Path socket = socketDir.resolve("y.sock");
    server = GoProcess.startReady(List.of(BenchPeers.yamuxDriver().toString(), "server", "-socket", socket.toString()));
    group = GrpcTransport.newEventLoopGroup(1, "bench-yamux");
    session = YamuxSession.connectUnix(socket, group, YamuxConfig.defaults()).join();
    chunk = Unpooled.unreleasableBuffer(Unpooled.directBuffer(CHUNK).writeZero(CHUNK));
  }

  /** Closes the session and stops the server. */
  @TearDown(Level.Trial)
  public void stop() throws IOException {
    if (session != null) {
      session.close();
    }
    if (group != null) {
      GrpcTransport.shutdown(group);
    }
    if (server != null) {
      server.close();
    }
    if (socketDir != null) {
      Files.deleteIfExists(socketDir.resolve("y.sock"));
      Files.deleteIfExists(socketDir);
    }
  }

  /**
   * Writes {@link #sizeMib} MiB on a new stream and waits for the peer to have read them all.
   *
   * @return bytes moved
   */
  @Benchmark
  public long upload() {
    return transfer('U');
  }

  /**
   * Reads {@link #sizeMib} MiB the peer writes on a new stream.
   *
   * @return bytes moved
   */
  @Benchmark
  public long download() {
    return transfer('D');
  }

  private long transfer(char op) {
    long size = (long) sizeMib << 20;
    Transfer t = new Transfer(op, size, chunk);
    YamuxStreamChannel stream = session.openStream(t).join();
    try {
      return t.done.get(5, TimeUnit.MINUTES);
    } catch (Exception e) {
      throw new IllegalStateException(op + " transfer of " + sizeMib + " MiB failed: " + e, e);
    } finally {
      stream.close();
    }
  }

  /** One transfer, on the stream's event loop: pumps writes as the stream stays writable. */
  private static final class Transfer extends ChannelInboundHandlerAdapter {
    final CompletableFuture<Long> done = new CompletableFuture<>();
    private final char op;
    private final long size;
    private final ByteBuf chunk;
    private long toWrite;
    private long received;

    Transfer(char op, long size, ByteBuf chunk) {
      this.op = op;
      this.size = size;
      this.chunk = chunk;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
      ctx.write(Unpooled.buffer(9).writeByte(op).writeLong(size));
      toWrite = op == 'U' ? size : 0;
      pump(ctx);
      ctx.fireChannelActive();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
      pump(ctx);
      ctx.fireChannelWritabilityChanged();
    }

    private void pump(ChannelHandlerContext ctx) {
      while (toWrite > 0 && ctx.channel().isWritable()) {
        int n = (int) Math.min(CHUNK, toWrite);
        ctx.write(chunk.retainedSlice(0, n));
        toWrite -= n;
      }
      ctx.flush();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      ByteBuf b = (ByteBuf) msg;
      try {
        received += b.readableBytes();
        if (op == 'U' && received >= 1) {
          done.complete(size);
        } else if (op == 'D' && received >= size) {
          done.complete(received);
        }
      } finally {
        b.release();
      }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      done.completeExceptionally(new ClosedChannelException());
      ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      done.completeExceptionally(cause);
    }
  }
}
