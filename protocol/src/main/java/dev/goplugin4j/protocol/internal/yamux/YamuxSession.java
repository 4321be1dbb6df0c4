package dev.goplugin4j.protocol.internal.yamux;

import dev.goplugin4j.protocol.NetAddress;
import dev.goplugin4j.protocol.internal.transport.GrpcTransport;
import io.grpc.netty.shaded.io.netty.bootstrap.Bootstrap;
import io.grpc.netty.shaded.io.netty.channel.Channel;
import io.grpc.netty.shaded.io.netty.channel.ChannelFuture;
import io.grpc.netty.shaded.io.netty.channel.ChannelFutureListener;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandler;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandlerContext;
import io.grpc.netty.shaded.io.netty.channel.ChannelInboundHandlerAdapter;
import io.grpc.netty.shaded.io.netty.channel.ChannelInitializer;
import io.grpc.netty.shaded.io.netty.channel.ChannelOption;
import io.grpc.netty.shaded.io.netty.channel.EventLoop;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.WriteBufferWaterMark;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollSocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A yamux session (HashiCorp's {@code spec.md}, interoperable with {@code
 * github.com/hashicorp/yamux}) running as a handler in the Netty pipeline of one connection,
 * typically an epoll Unix domain socket. Streams are Netty channels ({@link YamuxStreamChannel})
 * on the connection's event loop: no thread per stream, nothing blocks.
 *
 * <p>Roles: the client opens odd stream ids, the server even ones; both may open and accept. In
 * go-plugin's multiplexed broker the host is the client (it dials the plugin's socket once) and
 * the plugin the server.
 *
 * <pre>{@code
 * YamuxSession s = YamuxSession.connectUnix(socket, group, YamuxConfig.defaults()).join();
 * YamuxStreamChannel st = s.openStream(myHandler).join();
 * st.writeAndFlush(Unpooled.wrappedBuffer(bytes));
 * ...
 * s.close();
 * }</pre>
 *
 * <p>Every frame of the spec is handled: Data and WindowUpdate with SYN/ACK/FIN/RST, per-stream
 * windows (only given back as the application consumes), Ping (keepalive and {@link #ping()}),
 * GoAway with its codes (normal: no new streams; protocol or internal error: session closed).
 * A protocol violation by the peer sends GoAway(protocol error) and closes the session. Closing
 * the session (or losing the connection) closes every stream with a {@link
 * YamuxSessionClosedException} as {@link YamuxStreamChannel#closeCause()}.
 *
 * <p>Thread-safe: every method may be called from any thread; work runs on the connection's
 * event loop. Futures complete on that loop, so do not block in their callbacks.
 *
 * <p>This class keeps the session's life cycle (starting on a connection, GoAway, closing and why)
 * and the public API; each phase of the protocol is a part of its own, all confined to the event
 * loop, reaching each other through the session's fields:
 *
 * <ul>
 *   <li>{@code YamuxInbound}: the handler in the connection's pipeline; decodes the peer's frames
 *       and dispatches them to the other parts.
 *   <li>{@code YamuxStreamTable}: the streams by id; opening ours, accepting the peer's, closing
 *       and resetting them.
 *   <li>{@code YamuxOutbound}: every frame we write; Data under the send windows, window updates
 *       as the application consumes, flushing, and the connection's backpressure.
 *   <li>{@code YamuxKeepAlive}: Ping frames, keepalive and {@link #ping()}.
 * </ul>
 *
 * <p>The session's own state: {@code closed}, the close cause and {@code remoteGoAway} are
 * written on the event loop and volatile for readers on other threads; {@code localGoAway} is
 * confined to the loop. {@code terminate} closes the parts in a fixed order: GoAway out, then
 * no more reading and pinging, the streams, the pings still waiting, the connection.
 */
public final class YamuxSession implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(YamuxSession.class);
  private static final AtomicInteger SESSION_IDS = new AtomicInteger();

  private final Channel channel;
  private final EventLoop loop;
  private final YamuxConfig config;
  private final boolean client;
  private final String name;
  private final YamuxInbound inbound = new YamuxInbound(this);
  final YamuxFrameDecoder decoder;
  /** The streams: open, accept, close. */
  final YamuxStreamTable streams;
  /** Frames out and flow control. */
  final YamuxOutbound out;
  /** Pings and keepalive. */
  final YamuxKeepAlive keepAlive;
  private final CompletableFuture<Void> closeFuture = new CompletableFuture<>();

  /** We sent GoAway (normal): the peer's new streams are reset. Confined to the event loop. */
  boolean localGoAway;

  /** The peer sent GoAway (normal): opening streams fails. */
  volatile boolean remoteGoAway;
  /** The session is closed (set once, on the event loop); every part checks it. */
  volatile boolean closed;
  private volatile Throwable closeCause;
  /** Bytes of yamux frames (headers and payloads) read from the connection. */
  final LongAdder bytesReceived = new LongAdder();

  private YamuxSession(Channel channel, YamuxConfig config, boolean client) {
    this.channel = Objects.requireNonNull(channel, "channel");
    this.config = Objects.requireNonNull(config, "config");
    this.loop = channel.eventLoop();
    this.client = client;
    this.name = (client ? "client-" : "server-") + SESSION_IDS.incrementAndGet();
    this.decoder = new YamuxFrameDecoder(config.maxStreamWindowSize());
    this.streams = new YamuxStreamTable(this);
    this.out = new YamuxOutbound(this);
    this.keepAlive = new YamuxKeepAlive(this);
  }

  /**
   * Starts the client side of a session on a connected channel by adding its handler at the end
   * of the pipeline. The session takes over reading (it turns {@code AUTO_READ} on); create the
   * channel with {@code AUTO_READ} off if the peer may speak before this call.
   *
   * @param connected an active, registered channel carrying nothing else
   * @param config the settings
   * @return the session; closed when the channel closes
   */
  public static YamuxSession client(Channel connected, YamuxConfig config) {
    return start(connected, config, true);
  }

  /** As {@link #client}, for the server side (even stream ids). */
  public static YamuxSession server(Channel connected, YamuxConfig config) {
    return start(connected, config, false);
  }

  private static YamuxSession start(Channel ch, YamuxConfig config, boolean client) {
    YamuxSession s = new YamuxSession(ch, config, client);
    ch.pipeline().addLast("yamux-session", s.inbound);
    return s;
  }

  /**
   * Dials a Unix socket with epoll and starts a client session on it.
   *
   * @param socket the socket path
   * @param group an epoll event loop group (e.g. {@link GrpcTransport#newEventLoopGroup}); not
   *     shut down by the session
   * @param config the settings
   * @return completes with the session, or exceptionally with the connect failure
   */
  public static CompletableFuture<YamuxSession> connectUnix(
      Path socket, EventLoopGroup group, YamuxConfig config) {
    return connect(NetAddress.unix(socket.toString()), group, config);
  }

  /**
   * Dials a go-plugin address with epoll, a Unix socket or TCP ({@code host:port}, for a plugin
   * reached through a bridge, such as a remote runner's), and starts a client session on it.
   * The caller checks the address against its rules before calling.
   *
   * @param address the address to dial; network {@code unix} or {@code tcp}
   * @param group an epoll event loop group (e.g. {@link GrpcTransport#newEventLoopGroup}); not
   *     shut down by the session
   * @param config the settings
   * @return completes with the session, or exceptionally with the connect failure
   */
  public static CompletableFuture<YamuxSession> connect(
      NetAddress address, EventLoopGroup group, YamuxConfig config) {
    CompletableFuture<YamuxSession> result = new CompletableFuture<>();
    boolean unix = NetAddress.UNIX.equals(address.network());
    Bootstrap b =
        new Bootstrap()
            .group(group)
            .channel(unix ? EpollDomainSocketChannel.class : EpollSocketChannel.class)
            .option(ChannelOption.AUTO_READ, false)
            .option(ChannelOption.WRITE_BUFFER_WATER_MARK, connectionWaterMark())
            .handler(new ChannelInboundHandlerAdapter());
    if (!unix) {
      b.option(ChannelOption.TCP_NODELAY, true);
    }
    b.connect(GrpcTransport.socketAddress(address))
        .addListener(
            (ChannelFutureListener)
                f -> {
                  if (f.isSuccess()) {
                    result.complete(client(f.channel(), config));
                  } else {
                    result.completeExceptionally(
                        new YamuxException(
                            "cannot connect to yamux peer at " + address.address() + ": "
                                + f.cause().getMessage(),
                            f.cause()));
                  }
                });
    return result;
  }

  /**
   * A child handler for a {@code ServerBootstrap} (e.g. an epoll Unix socket server): starts a
   * session of the given role on every accepted connection and hands it to {@code onSession} (on
   * the connection's event loop, before any frame is read).
   */
  public static ChannelInitializer<Channel> initializer(
      boolean client, YamuxConfig config, Consumer<YamuxSession> onSession) {
    Objects.requireNonNull(onSession, "onSession");
    return new ChannelInitializer<>() {
      @Override
      protected void initChannel(Channel ch) {
        ch.config().setOption(ChannelOption.WRITE_BUFFER_WATER_MARK, connectionWaterMark());
        onSession.accept(start(ch, config, client));
      }
    };
  }

  /** Write-buffer marks suited to a yamux connection (many streams share it). */
  public static WriteBufferWaterMark connectionWaterMark() {
    return new WriteBufferWaterMark(256 * 1024, 1024 * 1024);
  }

  // ---------------------------------------------------------------- public API

  /** Whether this is the client side (odd stream ids). */
  public boolean isClient() {
    return client;
  }

  /** The connection. */
  public Channel channel() {
    return channel;
  }

  /** The connection's event loop, where all streams of this session run. */
  public EventLoop eventLoop() {
    return loop;
  }

  /** The settings. */
  public YamuxConfig config() {
    return config;
  }

  /** A short name for logs, e.g. {@code client-3}. */
  public String name() {
    return name;
  }

  /**
   * Opens a stream: sends its SYN (a WindowUpdate) without waiting for the peer's ACK, as the
   * spec allows, so data may follow at once. When {@link YamuxConfig#acceptBacklog()} opens are
   * already waiting for their ACK, this one waits its turn. An open not acknowledged within
   * {@link YamuxConfig#streamOpenTimeout()} closes the session (as in Go).
   *
   * @param handler added to the stream's pipeline before it is registered; may be null
   * @return completes with the registered, active stream; fails with {@link
   *     YamuxSessionClosedException} if the session is closed, or {@link YamuxException} if the
   *     peer sent GoAway or stream ids are exhausted
   */
  public CompletableFuture<YamuxStreamChannel> openStream(ChannelHandler handler) {
    YamuxStreamChannel s = new YamuxStreamChannel(this, null);
    CompletableFuture<YamuxStreamChannel> result = new CompletableFuture<>();
    s.register(handler)
        .addListener(
            r -> {
              if (!r.isSuccess()) {
                result.completeExceptionally(r.cause());
                return;
              }
              s.connect(new YamuxAddress(name))
                  .addListener(
                      c -> {
                        if (c.isSuccess()) {
                          result.complete(s);
                        } else {
                          Throwable t = c.cause();
                          result.completeExceptionally(
                              t instanceof java.net.ConnectException && t.getCause() != null
                                  ? t.getCause()
                                  : t);
                        }
                      });
            });
    return result;
  }

  /**
   * A new outbound stream channel, not registered, not opened: it opens its yamux stream when
   * connected (to any address), after {@code beforeOpen} completes. This is what gRPC's channel
   * factory uses ({@link YamuxGrpc}).
   *
   * @param beforeOpen called on each connect; the SYN is sent when its stage completes, and the
   *     connect fails if it fails (e.g. a broker's knock); null to open at once
   */
  public YamuxStreamChannel newOutboundStream(
      java.util.function.Supplier<? extends java.util.concurrent.CompletionStage<?>> beforeOpen) {
    return new YamuxStreamChannel(this, beforeOpen);
  }

  /**
   * Takes the next stream the peer opened, sending its ACK. Streams wait in a backlog of {@link
   * YamuxConfig#acceptBacklog()}; beyond it the peer's new streams are reset. Not usable together
   * with {@link #acceptStreams}.
   *
   * @return completes with a connected stream that is not registered yet: add handlers, then
   *     {@link YamuxStreamChannel#register}; fails with {@link YamuxSessionClosedException} when the
   *     session closes
   */
  public CompletableFuture<YamuxStreamChannel> acceptStream() {
    return streams.accept();
  }

  /**
   * Gives every stream the peer opens (and those already waiting) to {@code acceptor}, on the
   * event loop, ACKed and not yet registered. The acceptor must not block; if it throws the stream
   * is reset. Replaces any earlier acceptor.
   */
  public void acceptStreams(Consumer<YamuxStreamChannel> acceptor) {
    Objects.requireNonNull(acceptor, "acceptor");
    streams.acceptWith(acceptor);
  }

  /**
   * Measures the round trip time with a Ping frame.
   *
   * @return completes with the RTT; fails with {@link YamuxTimeoutException} after {@link
   *     YamuxConfig#connectionWriteTimeout()}, or {@link YamuxSessionClosedException}
   */
  public CompletableFuture<Duration> ping() {
    return keepAlive.ping();
  }

  /**
   * Sends GoAway (normal): the peer may open no more streams (we reset any it tries); existing
   * streams go on, and we may still open streams unless the peer sends GoAway too.
   *
   * @return completes when the frame is written
   */
  public CompletableFuture<Void> goAway() {
    CompletableFuture<Void> f = new CompletableFuture<>();
    inLoop(
        () -> {
          if (closed) {
            f.completeExceptionally(closedException());
            return;
          }
          localGoAway = true;
          out.writeGoAway(YamuxHeader.GO_AWAY_NORMAL)
              .addListener(
                  w -> {
                    if (w.isSuccess()) {
                      f.complete(null);
                    } else {
                      f.completeExceptionally(w.cause());
                    }
                  });
        });
    return f;
  }

  /** Whether the peer sent GoAway (normal): opening streams fails. */
  public boolean isRemoteGoAway() {
    return remoteGoAway;
  }

  /**
   * Closes the session: sends GoAway (normal), closes every stream (their pending writes fail
   * with {@link YamuxSessionClosedException}) and then the connection. Idempotent; does not wait
   * (see {@link #closeFuture()}).
   */
  @Override
  public void close() {
    inLoop(() -> terminate(null, YamuxHeader.GO_AWAY_NORMAL));
  }

  /** Whether the session is closed. */
  public boolean isClosed() {
    return closed;
  }

  /** Why it closed: null while open or after a local {@link #close()}. */
  public Throwable closeCause() {
    return closeCause;
  }

  /** Completes (normally, whatever the cause) once the session is closed. */
  public CompletableFuture<Void> closeFuture() {
    return closeFuture;
  }

  /**
   * Bytes this session has written to its connection: every yamux frame, 12-byte header and
   * payload (the streams' bytes, TLS records included when the streams carry TLS). Counted when
   * a frame is handed to the connection, so a frame lost to a closing connection still counts.
   * Cheap: an uncontended add per frame on the event loop.
   *
   * @return a count that only grows, from 0
   */
  public long bytesSent() {
    return out.bytesSent();
  }

  /**
   * Bytes this session has read from its connection, all of them (frame headers and payloads),
   * as they arrive, before they are decoded.
   *
   * @return a count that only grows, from 0
   */
  public long bytesReceived() {
    return bytesReceived.sum();
  }

  /** Streams currently known to the session (open, half-closed or waiting to be accepted). */
  public int numStreams() {
    return streams.count();
  }

  @Override
  public String toString() {
    return "YamuxSession[" + name + (closed ? ", closed" : "") + ", streams=" + streams.count() + "]";
  }

  // ---------------------------------------------------------------- lifecycle (event loop)

  /** Why an operation cannot run: the session is closed, with the cause if any. */
  YamuxSessionClosedException closedException() {
    Throwable c = closeCause;
    return new YamuxSessionClosedException(
        "yamux session " + name + " is closed" + (c == null ? "" : ": " + c.getMessage()), c);
  }

  /**
   * Ends the session. {@code goAwayCode} >= 0 sends that GoAway first (if the connection is still
   * up); -1 sends nothing.
   */
  void terminate(Throwable cause, int goAwayCode) {
    if (closed) {
      return;
    }
    closeCause = cause;
    if (cause != null) {
      LOG.debug("yamux {} closing: {}", name, cause.toString());
    }
    out.stop(goAwayCode);
    closed = true;
    decoder.stop();
    keepAlive.stop();
    YamuxSessionClosedException ex = closedException();
    streams.closeAll(ex);
    keepAlive.failPending(ex);
    out.closeConnection();
    closeFuture.complete(null);
  }

  /** The inbound handler was added to the connection's pipeline: the session starts. */
  void attached(ChannelHandlerContext c) {
    out.attached(c);
    keepAlive.start();
  }

  /** Runs {@code r} on the event loop: now if called there, else soon. */
  void inLoop(Runnable r) {
    if (loop.inEventLoop()) {
      r.run();
    } else {
      loop.execute(r);
    }
  }
}
