package dev.goplugin4j.protocol.internal.broker;

import dev.goplugin4j.protocol.GrpcBroker;
import dev.goplugin4j.protocol.PluginException;
import dev.goplugin4j.protocol.internal.yamux.YamuxGrpc;
import dev.goplugin4j.protocol.internal.yamux.YamuxGrpc.YamuxGrpcServer;
import dev.goplugin4j.protocol.internal.yamux.YamuxSession;
import dev.goplugin4j.protocol.internal.yamux.YamuxStreamChannel;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The multiplexed broker's transport over one yamux session, for either side (go-plugin's {@code
 * GRPCClientMuxer} and {@code GRPCServerMuxer}).
 *
 * <p>Routing inbound streams: the dialling side knocks for an id, waits for the ack, then opens a
 * stream; so each ack this side sends (one {@link #acceptKnock}) is followed by exactly one inbound
 * stream, and this side hands inbound streams to knocked ids in knock order. Streams that arrive
 * without a knock go to the default server (the plugin's main gRPC server), or are reset when there
 * is none (the host never receives unannounced streams).
 *
 * <p>That order only holds if each dialler never interleaves two knock-then-open sequences, so
 * {@link #dial} serializes them (go-plugin's {@code dialMutex}): a permit is taken before the knock
 * and given back on the session's event loop after the stream's SYN is queued.
 */
public final class YamuxMuxer implements Muxer, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(YamuxMuxer.class);

  private final YamuxSession session;
  private final EventLoopGroup group;
  private final Executor knockExecutor;
  private final Consumer<YamuxStreamChannel> defaultServer;
  private final Queue<Integer> knocked = new ConcurrentLinkedQueue<>();
  private final Map<Integer, YamuxGrpcServer> servers = new ConcurrentHashMap<>();
  private final Semaphore dialPermit = new Semaphore(1);
  private final AtomicBoolean closed = new AtomicBoolean();

  /**
   * @param session the one session with the peer
   * @param group event loops for brokered servers' (virtual) listening channels
   * @param knockExecutor runs knocks, which block up to 5 s; must not be an event loop
   * @param defaultServer receives streams that were not announced by a knock; null to reset them
   */
  public YamuxMuxer(
      YamuxSession session,
      EventLoopGroup group,
      Executor knockExecutor,
      Consumer<YamuxStreamChannel> defaultServer) {
    this.session = Objects.requireNonNull(session, "session");
    this.group = Objects.requireNonNull(group, "group");
    this.knockExecutor = Objects.requireNonNull(knockExecutor, "knockExecutor");
    this.defaultServer = defaultServer;
    session.acceptStreams(this::route);
  }

  private void route(YamuxStreamChannel stream) {
    Integer id = knocked.poll();
    if (id == null) {
      if (defaultServer != null) {
        defaultServer.accept(stream);
      } else {
        log.debug("resetting a stream the peer opened without a knock");
        stream.close();
      }
      return;
    }
    YamuxGrpcServer server = servers.get(id);
    if (server == null) {
      log.debug("brokered server {} closed before its stream arrived; resetting it", id);
      stream.close();
      return;
    }
    server.serve(stream);
  }

  @Override
  public GrpcBroker.BrokeredServer serve(int id, List<?> services, SslContext tls) {
    if (closed.get()) {
      throw new PluginException("the multiplexed connection is closed");
    }
    YamuxGrpcServer server = YamuxGrpc.server(group, tls, services, null);
    servers.put(id, server);
    AtomicBoolean done = new AtomicBoolean();
    return new GrpcBroker.BrokeredServer() {
      @Override
      public int id() {
        return id;
      }

      @Override
      public void close() {
        if (done.compareAndSet(false, true)) {
          servers.remove(id, server);
          server.close();
        }
      }
    };
  }

  @Override
  public String acceptKnock(int id) {
    if (!servers.containsKey(id)) {
      return "no listener for id " + id;
    }
    knocked.add(id);
    return null;
  }

  @Override
  public ManagedChannel dial(int id, Runnable knock, SslContext tls) {
    return YamuxGrpc.channel(session, tls, () -> knockThenOpen(knock), null);
  }

  /** A main gRPC channel to the peer: streams opened without a knock. */
  public ManagedChannel mainChannel(SslContext tls, Consumer<io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder> customizer) {
    return YamuxGrpc.channel(session, tls, null, customizer);
  }

  private CompletableFuture<Void> knockThenOpen(Runnable knock) {
    CompletableFuture<Void> gate = new CompletableFuture<>();
    knockExecutor.execute(() -> {
      try {
        dialPermit.acquire();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        gate.completeExceptionally(e);
        return;
      }
      try {
        knock.run();
      } catch (RuntimeException e) {
        dialPermit.release();
        gate.completeExceptionally(e);
        return;
      }
      gate.complete(null);
      // The stream's SYN is queued on the event loop when the gate completes; this task runs
      // after it, so the next dialler's knock cannot overtake this stream.
      session.eventLoop().execute(dialPermit::release);
    });
    return gate;
  }

  /** The session. */
  public YamuxSession session() {
    return session;
  }

  /** Stops every brokered server and closes the session; idempotent. */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    for (YamuxGrpcServer s : List.copyOf(servers.values())) {
      s.close();
    }
    servers.clear();
    session.close();
  }
}
