package dev.goplugin4j.protocol.internal.transport;

import dev.goplugin4j.protocol.NetAddress;
import dev.goplugin4j.protocol.PluginException;
import dev.goplugin4j.protocol.internal.tls.TlsContexts;
import io.grpc.BindableService;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.shaded.io.grpc.netty.NegotiationType;
import io.grpc.netty.shaded.io.grpc.netty.InternalNettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.InternalNettyServerBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.ChannelOption;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.MultiThreadIoEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.WriteBufferWaterMark;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollIoHandler;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollServerSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.grpc.netty.shaded.io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * gRPC channels and servers over Unix sockets (epoll) and TCP, with optional TLS, as go-plugin
 * peers expect: max message size 2^31-1 both ways, authority {@code localhost}.
 */
public final class GrpcTransport {
  /** go-plugin sets both max send and receive sizes to math.MaxInt32. */
  public static final int MAX_MESSAGE_SIZE = Integer.MAX_VALUE;

  /**
   * Bytes a client call may have queued in the transport before its {@code isReady()} turns false:
   * 1 MiB, the HTTP/2 flow-control window a channel starts with. grpc-java's default, 32 KiB, is
   * less than one 64 KiB message, so a writer that honours {@code isReady()} waited for an
   * on-ready callback (two thread hops) after every such message; Go's client blocks a send only
   * when its stream's 64 KiB write quota is used up, and without an OS thread switch.
   */
  public static final int ON_READY_THRESHOLD = 1 << 20;

  /**
   * Bytes a connection may hold written but not yet taken by the socket before Netty marks it
   * unwritable: 1 MiB (back to writable at half of it). Netty's default, 64 KiB, is one 64 KiB
   * message: HTTP/2's flow controller stopped at it on every flush pass and went on from each
   * writability change, so a stream of large messages left the event loop in 64 KiB writes with
   * a writability round per message. With 1 MiB the host's CPU for 64 MiB each way to go-plugin's
   * streaming example fell by about a tenth (async-profiler CPU samples, plain 5,442/5,507 ms →
   * 4,901/4,889 ms for 22 runs, load 14–17) and writes got faster. gRPC's own back-pressure is per
   * stream ({@link #ON_READY_THRESHOLD}) and does not depend on it.
   */
  public static final int WRITE_BUFFER_HIGH_WATER_MARK = 1 << 20;

  private static final WriteBufferWaterMark WRITE_BUFFER =
      new WriteBufferWaterMark(WRITE_BUFFER_HIGH_WATER_MARK / 2, WRITE_BUFFER_HIGH_WATER_MARK);

  private static final ClientInterceptor ON_READY = onReadyThreshold(ON_READY_THRESHOLD);

  /**
   * Whether grpc-census (grpc's stats and tracing module) is on the class path, looked up once.
   * When it is not, every channel and server built here has census stats and tracing off.
   */
  static final boolean CENSUS_PRESENT =
      present("io.grpc.census.InternalCensusStatsAccessor")
          || present("io.grpc.census.InternalCensusTracingAccessor");

  private GrpcTransport() {}

  /**
   * An interceptor that gives each client- or bidi-streaming call an on-ready threshold of {@code
   * bytes} (see {@link io.grpc.ClientCall#isReady()}) unless its call options already carry one
   * (unary and server-streaming calls pass unchanged: they send one message), so a stub's or an
   * application interceptor's own {@code withOnReadyThreshold} wins when this interceptor runs
   * after them (install it first). Stateless and thread-safe.
   *
   * @param bytes the threshold, at least 1
   * @return the interceptor
   */
  public static ClientInterceptor onReadyThreshold(int bytes) {
    if (bytes < 1) {
      throw new IllegalArgumentException("on-ready threshold must be at least 1, got " + bytes);
    }
    return new ClientInterceptor() {
      @Override
      public <Q, A> ClientCall<Q, A> interceptCall(
          MethodDescriptor<Q, A> method, CallOptions options, Channel next) {
        // a call that sends one message has no use for the threshold: left as it was
        if (method.getType().clientSendsOneMessage() || options.getOnReadyThreshold() != null) {
          return next.newCall(method, options);
        }
        return next.newCall(method, options.withOnReadyThreshold(bytes));
      }
    };
  }

  /** {@link #onReadyThreshold(int)} with {@link #ON_READY_THRESHOLD}; one shared instance. */
  public static ClientInterceptor defaultOnReadyThreshold() {
    return ON_READY;
  }

  /**
   * System property: how long, in microseconds, an event loop keeps polling after its last work
   * before it blocks ({@link SpinSelectStrategy}); 0 turns it off (Netty's default strategy).
   * Range 0 to 10,000; default {@value #DEFAULT_SPIN_MICROS}. Read when a group is made.
   */
  public static final String SPIN_MICROS_PROPERTY = "goplugin4j.io.spinMicros";

  /** The default of {@link #SPIN_MICROS_PROPERTY}. */
  public static final long DEFAULT_SPIN_MICROS = 0;

  /**
   * A daemon epoll event loop group with the given thread name prefix; its loops poll for
   * {@link #SPIN_MICROS_PROPERTY} after their last work before they block.
   *
   * @throws IllegalArgumentException if the property is set outside its range or not a number
   */
  public static EventLoopGroup newEventLoopGroup(int threads, String name) {
    return new MultiThreadIoEventLoopGroup(threads, new DefaultThreadFactory(name, true),
        EpollIoHandler.newFactory(0, SpinSelectStrategy.factory(spinMicros())));
  }

  static long spinMicros() {
    String v = System.getProperty(SPIN_MICROS_PROPERTY);
    if (v == null || v.isBlank()) {
      return DEFAULT_SPIN_MICROS;
    }
    try {
      return Long.parseLong(v.strip());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(SPIN_MICROS_PROPERTY
          + " must be a number of microseconds from 0 (off) to 10000, got \"" + v + "\"", e);
    }
  }

  private static boolean present(String className) {
    try {
      Class.forName(className, false, GrpcTransport.class.getClassLoader());
      return true;
    } catch (ClassNotFoundException | LinkageError e) {
      return false;
    }
  }

  /** Shuts a group down and waits briefly, so no thread outlives its owner. */
  public static void shutdown(EventLoopGroup group) {
    if (group == null) {
      return;
    }
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
  }

  /** A Netty socket address for a go-plugin address. */
  public static SocketAddress socketAddress(NetAddress address) {
    if (NetAddress.UNIX.equals(address.network())) {
      return new DomainSocketAddress(address.address());
    }
    String a = address.address();
    int colon = a.lastIndexOf(':');
    if (colon <= 0 || colon == a.length() - 1) {
      throw new PluginException("invalid tcp address \"" + a + "\": expected host:port");
    }
    String host = a.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    try {
      return new InetSocketAddress(host, Integer.parseInt(a.substring(colon + 1)));
    } catch (IllegalArgumentException e) {
      throw new PluginException("invalid tcp address \"" + a + "\": " + e.getMessage(), e);
    }
  }

  /**
   * A channel to {@code address}. {@code tls} null means plaintext. Its connection has a
   * {@link #WRITE_BUFFER_HIGH_WATER_MARK} write buffer unless the customizer sets another, and a
   * unary call with its own executor (a blocking stub's) gets what one read brought in one
   * hand-over, before the read's own writes are flushed ({@link ReadBatchingInterceptor}, whose
   * read marker heads each connection's pipeline). Warm KV.Get calls to go-plugin's examples/grpc
   * plugin, plain: at load 6-15 the host's voluntary context switches per call fell from 3.28 to
   * 2.54 and its CPU per call from 35 to 29 us (medians of 24 rounds of 20,000 calls, JVMs
   * alternating); on a quiet machine (load 1.6-2.3) 3.04 to 2.92, CPU (74 us) and p50 (164-170
   * us) unchanged.
   *
   * @param customizer applied last, so users can tune the builder; may be null
   */
  public static ManagedChannel channel(
      NetAddress address,
      SslContext tls,
      EventLoopGroup group,
      Consumer<NettyChannelBuilder> customizer) {
    boolean unix = NetAddress.UNIX.equals(address.network());
    ReadBatchingInterceptor batching = new ReadBatchingInterceptor(group);
    NettyChannelBuilder b =
        NettyChannelBuilder.forAddress(socketAddress(address))
            .eventLoopGroup(group)
            .channelFactory(() -> {
              io.grpc.netty.shaded.io.netty.channel.Channel ch =
                  unix ? new EpollDomainSocketChannel() : new EpollSocketChannel();
              // first in the pipeline, before TLS and HTTP/2
              ch.pipeline().addFirst(batching.readMarker());
              return ch;
            });
    configure(b, tls);
    // added first, so it runs last (next to the transport): it only changes when a call's
    // callbacks are handed to the call's executor, whatever the interceptors above do
    b.intercept(batching);
    b.withOption(ChannelOption.WRITE_BUFFER_WATER_MARK, WRITE_BUFFER);
    if (unix) {
      // grpc sets SO_KEEPALIVE on every channel; Unix sockets do not know it and Netty would warn
      // on every connection.
      b.withOption(ChannelOption.SO_KEEPALIVE, null);
    }
    if (customizer != null) {
      customizer.accept(b);
    }
    return b.build();
  }

  /**
   * What every go-plugin client connection has, whatever carries it: authority {@code localhost},
   * max inbound message and metadata sizes 2^31-1, TLS when given, else plaintext, and retries off.
   *
   * <p>Retries off: with them on (grpc-java's default) every call runs through a retry buffer that
   * flushes after each request message, so a unary request went out as two DATA frames, the
   * message and then an empty one with END_STREAM, and as two writes whenever the event loop ran
   * between them (the caller then woke the loop twice). Without it a unary request is one DATA
   * frame with END_STREAM, as go-plugin's Go client sends it, and go-plugin's examples/grpc plugin
   * answering warm KV.Get calls switched context 5.0-5.7 times per call instead of 7.0-8.4 (perf,
   * plain, load 21). No service config with a retry policy reaches a plugin channel, so nothing
   * else was retried; what is lost is grpc-java's transparent retry of a call the connection
   * refused before the plugin saw it, which would only dial the same plugin again. A channel
   * customizer that runs after this may call {@code enableRetry()}.
   *
   * <p>Census stats and tracing off when grpc-census is not on the class path ({@link
   * #CENSUS_PRESENT}): they would record nothing then, and grpc's builder would look for it
   * again, two failed class loads, at every channel it builds (15-20 us of CPU per warm build;
   * a brokered call builds one). With grpc-census present the builder is left as grpc makes it.
   */
  public static NettyChannelBuilder configure(NettyChannelBuilder b, SslContext tls) {
    b.overrideAuthority(TlsContexts.AUTHORITY)
        .maxInboundMessageSize(MAX_MESSAGE_SIZE)
        .maxInboundMetadataSize(MAX_MESSAGE_SIZE)
        .disableRetry();
    if (!CENSUS_PRESENT) {
      InternalNettyChannelBuilder.setStatsEnabled(b, false);
      InternalNettyChannelBuilder.setTracingEnabled(b, false);
    }
    if (tls != null) {
      b.sslContext(tls).negotiationType(NegotiationType.TLS);
    } else {
      b.negotiationType(NegotiationType.PLAINTEXT);
    }
    return b;
  }

  /**
   * What every go-plugin server has: max inbound sizes 2^31-1, TLS when given, the services, and
   * census stats and tracing off when grpc-census is absent (as for channels: grpc's server
   * builder would otherwise look for it at every server it builds, a third of the CPU of building
   * a brokered server, which the broker does once per id).
   *
   * @param services {@link BindableService}s or {@link ServerServiceDefinition}s
   */
  public static NettyServerBuilder configure(NettyServerBuilder b, SslContext tls, List<?> services) {
    b.maxInboundMessageSize(MAX_MESSAGE_SIZE).maxInboundMetadataSize(MAX_MESSAGE_SIZE);
    if (!CENSUS_PRESENT) {
      InternalNettyServerBuilder.setStatsEnabled(b, false);
      InternalNettyServerBuilder.setTracingEnabled(b, false);
    }
    if (tls != null) {
      b.sslContext(tls);
    }
    for (Object s : services) {
      if (s instanceof BindableService bs) {
        b.addService(bs);
      } else if (s instanceof ServerServiceDefinition d) {
        b.addService(d);
      } else {
        throw new IllegalArgumentException(
            "service must be a BindableService or ServerServiceDefinition: " + s);
      }
    }
    return b;
  }

  /**
   * Starts a server listening on {@code address} with the given services; each accepted
   * connection has a {@link #WRITE_BUFFER_HIGH_WATER_MARK} write buffer.
   */
  public static Server server(
      NetAddress address,
      SslContext tls,
      EventLoopGroup boss,
      EventLoopGroup workers,
      List<? extends Object> services) {
    boolean unix = NetAddress.UNIX.equals(address.network());
    NettyServerBuilder b =
        NettyServerBuilder.forAddress(socketAddress(address))
            .bossEventLoopGroup(boss)
            .workerEventLoopGroup(workers)
            .channelType(unix ? EpollServerDomainSocketChannel.class : EpollServerSocketChannel.class)
            .withChildOption(ChannelOption.WRITE_BUFFER_WATER_MARK, WRITE_BUFFER);
    if (unix) {
      // grpc sets SO_KEEPALIVE on every accepted channel; Unix sockets do not know it.
      b.withChildOption(ChannelOption.SO_KEEPALIVE, null);
    }
    configure(b, tls, services);
    try {
      return b.build().start();
    } catch (IOException e) {
      throw new PluginException("cannot listen on " + address + ": " + e.getMessage(), e);
    }
  }
}
