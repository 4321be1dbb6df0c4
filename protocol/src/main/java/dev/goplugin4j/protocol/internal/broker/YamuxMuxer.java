package dev.goplugin4j.protocol.internal.broker;

import dev.goplugin4j.protocol.GrpcBroker;
import dev.goplugin4j.protocol.PluginException;
import dev.goplugin4j.protocol.internal.yamux.YamuxGrpc;
import dev.goplugin4j.protocol.internal.yamux.YamuxGrpc.YamuxGrpcServer;
import dev.goplugin4j.protocol.internal.yamux.YamuxSession;
import dev.goplugin4j.protocol.internal.yamux.YamuxStreamChannel;
import io.grpc.ManagedChannel;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
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
 *
 * <p>A dialler that gives up waiting for the ack (after {@link BrokerImpl#WAIT_MILLIS}) never opens
 * its stream, so an acked knock is only kept for that wait plus {@link #KNOCK_GRACE_MILLIS}; a
 * stream that arrives later does not go to it (go-plugin's muxer has no such expiry and sends the
 * next stream to the stale id). Thread-safe.
 */
public final class YamuxMuxer implements Muxer, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(YamuxMuxer.class);

  private final YamuxSession session;
  private final EventLoopGroup group;
  private final Executor knockExecutor;
  private final Consumer<YamuxStreamChannel> defaultServer;
  /**
   * Slack on top of the dialler's knock wait for its stream's SYN to arrive after the ack (event
   * loop and socket latency).
   */
  static final long KNOCK_GRACE_MILLIS = 1_000;

  /** An acked knock awaiting its stream; expires at {@code deadlineNanos}. */
  private record Knock(int id, long deadlineNanos) {}

  private final Queue<Knock> knocked = new ConcurrentLinkedQueue<>();
  private final long knockTtlNanos;
  private final Map<Integer, YamuxGrpcServer> servers = new ConcurrentHashMap<>();
  private final Semaphore dialPermit = new Semaphore(1);
  /** The brokered server started ahead on the knock executor for the next id, by TLS context. */
  private final Spare<SslContext, IdleServer> spare;
  /** Closes of brokered servers still running on the knock executor. */
  private final Set<CompletableFuture<Void>> closing = ConcurrentHashMap.newKeySet();
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
    this(session, group, knockExecutor, defaultServer,
        TimeUnit.MILLISECONDS.toNanos(BrokerImpl.WAIT_MILLIS + KNOCK_GRACE_MILLIS));
  }

  /** As the public constructor, with how long an acked knock waits for its stream (tests). */
  YamuxMuxer(
      YamuxSession session,
      EventLoopGroup group,
      Executor knockExecutor,
      Consumer<YamuxStreamChannel> defaultServer,
      long knockTtlNanos) {
    if (knockTtlNanos <= 0) {
      throw new IllegalArgumentException("knockTtlNanos must be positive: " + knockTtlNanos);
    }
    this.knockTtlNanos = knockTtlNanos;
    this.session = Objects.requireNonNull(session, "session");
    this.group = Objects.requireNonNull(group, "group");
    this.knockExecutor = Objects.requireNonNull(knockExecutor, "knockExecutor");
    this.defaultServer = defaultServer;
    this.spare = new Spare<>(knockExecutor, tls -> IdleServer.yamux(group, tls),
        idle -> idle.yamux().close(), closed::get);
    session.acceptStreams(this::route);
  }

  /** The next acked knock that has not expired, or null; expired ones are dropped. */
  private Knock nextLiveKnock() {
    long now = System.nanoTime();
    for (Knock k = knocked.poll(); k != null; k = knocked.poll()) {
      if (now - k.deadlineNanos() < 0) {
        return k;
      }
      log.debug("dropping the knock for broker id {}: its dialler did not open a stream within"
          + " the knock wait", k.id());
    }
    return null;
  }

  private void route(YamuxStreamChannel stream) {
    Knock knock = nextLiveKnock();
    if (knock == null) {
      if (defaultServer != null) {
        defaultServer.accept(stream);
      } else {
        log.debug("resetting a stream the peer opened without a knock");
        stream.close();
      }
      return;
    }
    int id = knock.id();
    YamuxGrpcServer server = servers.get(id);
    if (server == null) {
      log.debug("brokered server {} closed before its stream arrived; resetting it", id);
      stream.close();
      return;
    }
    server.serve(stream);
  }

  @Override
  public void startSpare(SslContext tls) {
    spare.refill(tls);
  }

  /** Whether a server for {@code tls} was started ahead and waits for the next serve (tests). */
  boolean hasSpare(SslContext tls) {
    return spare.has(tls);
  }

  @Override
  public GrpcBroker.BrokeredServer serve(int id, List<?> services, SslContext tls) {
    if (closed.get()) {
      throw new PluginException("the multiplexed connection is closed");
    }
    List<ServerServiceDefinition> defs = IdleServer.definitions(services, List.of());
    if (servers.containsKey(id)) {
      throw alreadyServed(id);
    }
    // a spare still being built is waited for (not on one of the group's loops)
    IdleServer idle = spare.take(tls, group);
    if (idle == null) {
      if (closed.get()) {
        throw new PluginException("the multiplexed connection is closed");
      }
      idle = IdleServer.yamux(group, tls);
    }
    // the services are in before the id is: a knock for it is acked only after this
    idle.serve(defs);
    YamuxGrpcServer server = idle.yamux();
    if (servers.putIfAbsent(id, server) != null) {
      idle.registry().clear();
      closeLater(server);
      throw alreadyServed(id);
    }
    spare.refill(tls);
    IdleServer served = idle;
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
          // no new call reaches the services from here on; the server's graceful shutdown (calls
          // in flight get up to 5 s) runs off the caller's path, and close() waits for it
          served.registry().clear();
          closeLater(server);
        }
      }
    };
  }

  private static IllegalStateException alreadyServed(int id) {
    return new IllegalStateException("a brokered server already serves id " + id
        + " on this multiplexed connection; close it first or use a fresh id from nextId()");
  }

  /** Closes {@code server} on the knock executor (inline if it refuses); tracked for close(). */
  private void closeLater(YamuxGrpcServer server) {
    CompletableFuture<Void> f = new CompletableFuture<>();
    closing.add(f);
    try {
      knockExecutor.execute(() -> {
        try {
          server.close();
        } finally {
          f.complete(null);
          closing.remove(f);
        }
      });
    } catch (RejectedExecutionException e) {
      try {
        server.close();
      } finally {
        f.complete(null);
        closing.remove(f);
      }
    }
    if (closed.get()) {
      // close() may have looked at the pending closes before this one was added
      try {
        f.get(15, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (ExecutionException | TimeoutException e) {
        log.debug("a brokered server did not finish closing: {}", e.toString());
      }
    }
  }

  @Override
  public String acceptKnock(int id) {
    if (!servers.containsKey(id)) {
      return "no listener for id " + id;
    }
    long now = System.nanoTime();
    // drop expired heads so a peer that knocks and never dials cannot grow the queue
    for (Knock head = knocked.peek(); head != null && now - head.deadlineNanos() >= 0;
        head = knocked.peek()) {
      knocked.remove(head);
    }
    knocked.add(new Knock(id, now + knockTtlNanos));
    return null;
  }

  @Override
  public ManagedChannel dial(int id, Runnable knock, SslContext tls) {
    return dial(id, knock, tls, null);
  }

  @Override
  public ManagedChannel dial(
      int id, Runnable knock, SslContext tls, Consumer<NettyChannelBuilder> customizer) {
    return YamuxGrpc.channel(session, tls, () -> knockThenOpen(knock), customizer);
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

  /** Streams open on the session now (both directions), for leak checks. */
  public int openStreamCount() {
    return session.numStreams();
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
    spare.close();
    for (CompletableFuture<Void> f : List.copyOf(closing)) {
      try {
        f.get(15, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      } catch (ExecutionException | TimeoutException e) {
        log.debug("a brokered server did not finish closing: {}", e.toString());
      }
    }
    session.close();
  }
}
