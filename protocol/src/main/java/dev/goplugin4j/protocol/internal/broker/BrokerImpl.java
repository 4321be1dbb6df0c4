package dev.goplugin4j.protocol.internal.broker;

import dev.goplugin4j.protocol.AddressRefusedException;
import dev.goplugin4j.protocol.GrpcBroker;
import dev.goplugin4j.protocol.NetAddress;
import dev.goplugin4j.protocol.NoBrokeredServerException;
import dev.goplugin4j.protocol.PluginException;
import dev.goplugin4j.protocol.internal.proto.ConnInfo;
import dev.goplugin4j.protocol.internal.transport.GrpcTransport;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * go-plugin's gRPC broker, shared by host and plugin. Messages travel over the {@code
 * plugin.GRPCBroker/StartStream} stream, whichever side opened it: the owner feeds received
 * messages to {@link #onMessage} and gives a sender for outgoing ones.
 *
 * <p>Without a {@link Muxer}, {@link #acceptAndServe} listens on a new Unix socket (or TCP port)
 * and announces its address; {@link #dial} waits up to 5 s for the other side's announcement.
 * With a muxer, the dialler knocks, the acceptor acks (or answers "no listener for id N"), and
 * the connection is a new multiplexed stream.
 *
 * <p>Classic servers are started ahead: after each serve the next server is started and bound on
 * the timer ({@link Spare}), so {@link #acceptAndServe} only fills in its services and announces
 * it; a closed id's server has its services cleared and socket deleted at once, and is shut down on
 * the timer. {@link #close()} returns only once every server it knows of, every serve in flight on
 * another thread and the spare (even one still binding) is stopped and its socket file deleted.
 */
public final class BrokerImpl implements GrpcBroker, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(BrokerImpl.class);

  /** How long dial waits for the other side's address or knock answer, as go-plugin. */
  public static final long WAIT_MILLIS = 5_000;

  /** Where and how a non-multiplexed broker listens. */
  public interface Listeners {
    /** A fresh address to listen on (a new socket path inside the socket dir, or a TCP port). */
    NetAddress newAddress();

    /** Called once the server listens: e.g. chown the socket to the socket group. */
    default void prepare(NetAddress listening) {}
  }

  private final Consumer<ConnInfo> sender;
  private final SslContext serverTls;
  private final SslContext clientTls;
  private final Listeners listeners;
  private final UnaryOperator<NetAddress> toPeer;
  private final UnaryOperator<NetAddress> fromPeer;
  private final EventLoopGroup group;
  private final Muxer muxer;
  private final ScheduledExecutorService timer;
  private final Consumer<NettyChannelBuilder> channelCustomizer;
  /** Wrapped around every brokered server's services; empty for none (then nothing is wrapped). */
  private final List<ServerInterceptor> serverInterceptors;

  private final AtomicInteger nextId = new AtomicInteger();
  private final AtomicBoolean closed = new AtomicBoolean();
  /** Announcements received (or awaited) for ids this side dials; also knock answers. */
  private final Map<Integer, CompletableFuture<ConnInfo>> clientPending = new ConcurrentHashMap<>();
  /**
   * Ids with a brokered server, or one being set up: an id enters with {@link Map#putIfAbsent}
   * before its server exists, so two concurrent {@link #acceptAndServe} calls for one id cannot
   * both win. The value is empty until the server runs.
   */
  private final Map<Integer, Optional<Served>> servers = new ConcurrentHashMap<>();
  private final List<ManagedChannel> channels = new ArrayList<>();
  private final Object sendLock = new Object();
  /** The classic server started ahead on the timer for the next id; null with a muxer. */
  private final Spare<SslContext, IdleServer> spare;
  /**
   * Threads in {@link #acceptAndServe} now, so that {@link #close()} waits for them: a serve in
   * flight may hold a started server (the spare it took, or one it is binding) that close cannot
   * see yet. Guarded by itself.
   */
  private final Map<Thread, Integer> serving = new HashMap<>();
  /**
   * Classic servers whose id was closed: shut down, socket deleted, maybe still terminating;
   * {@link #close()} waits for them.
   */
  private final Set<Server> terminating = ConcurrentHashMap.newKeySet();

  /**
   * @param sender sends one message on the broker stream; called under a lock, so it need not be
   *     thread-safe
   * @param serverTls TLS for brokered servers, or null for plaintext
   * @param clientTls TLS for dialled connections, or null
   * @param listeners where a non-multiplexed broker listens; unused with a muxer
   * @param toPeer translates an address this side listens on into one the peer can dial
   * @param fromPeer translates an address the peer sent into one this side can dial, and refuses
   *     one this side must not dial by throwing (the host applies {@link AddressRules} there);
   *     runs before any connection
   * @param group event loops for brokered servers and channels (owned by the caller)
   * @param muxer the multiplexed transport, or null for the classic one
   * @param timer for dial timeouts and stale-announcement cleanup (owned by the caller)
   */
  public BrokerImpl(
      Consumer<ConnInfo> sender,
      SslContext serverTls,
      SslContext clientTls,
      Listeners listeners,
      UnaryOperator<NetAddress> toPeer,
      UnaryOperator<NetAddress> fromPeer,
      EventLoopGroup group,
      Muxer muxer,
      ScheduledExecutorService timer) {
    this(sender, serverTls, clientTls, listeners, toPeer, fromPeer, group, muxer, timer, null);
  }

  /**
   * As the other constructor, plus a customizer for the channels {@link #dial} makes.
   *
   * @param channelCustomizer applied to the builder of every dialled channel (classic or
   *     multiplexed), after the transport and TLS settings; null for none
   */
  public BrokerImpl(
      Consumer<ConnInfo> sender,
      SslContext serverTls,
      SslContext clientTls,
      Listeners listeners,
      UnaryOperator<NetAddress> toPeer,
      UnaryOperator<NetAddress> fromPeer,
      EventLoopGroup group,
      Muxer muxer,
      ScheduledExecutorService timer,
      Consumer<NettyChannelBuilder> channelCustomizer) {
    this(sender, serverTls, clientTls, listeners, toPeer, fromPeer, group, muxer, timer,
        channelCustomizer, List.of());
  }

  /**
   * As the other constructors, plus interceptors for the servers {@link #acceptAndServe} starts.
   *
   * @param serverInterceptors wrapped around the services of every brokered server (classic or
   *     multiplexed), as {@link ServerInterceptors#intercept(ServerServiceDefinition, List)}
   *     orders them; empty for none
   */
  public BrokerImpl(
      Consumer<ConnInfo> sender,
      SslContext serverTls,
      SslContext clientTls,
      Listeners listeners,
      UnaryOperator<NetAddress> toPeer,
      UnaryOperator<NetAddress> fromPeer,
      EventLoopGroup group,
      Muxer muxer,
      ScheduledExecutorService timer,
      Consumer<NettyChannelBuilder> channelCustomizer,
      List<ServerInterceptor> serverInterceptors) {
    this.channelCustomizer = channelCustomizer;
    this.serverInterceptors = List.copyOf(serverInterceptors);
    this.sender = Objects.requireNonNull(sender, "sender");
    this.serverTls = serverTls;
    this.clientTls = clientTls;
    this.listeners = listeners;
    this.toPeer = Objects.requireNonNull(toPeer, "toPeer");
    this.fromPeer = Objects.requireNonNull(fromPeer, "fromPeer");
    this.group = Objects.requireNonNull(group, "group");
    this.muxer = muxer;
    this.timer = Objects.requireNonNull(timer, "timer");
    this.spare = muxer != null ? null
        : new Spare<>(timer, tls -> newIdle(), BrokerImpl::dispose, closed::get);
  }

  /**
   * Starts binding the first classic server now, on the timer, so that the first {@link
   * #acceptAndServe} finds it ready instead of starting one on its own path (a host calls this once
   * its session is up). Without it the first server is started by the first serve and the next
   * ones ahead. With a muxer, its multiplexed server is started ahead the same way. No-op when a
   * spare exists or is being built, or once closed.
   */
  public void startSpare() {
    if (closed.get()) {
      return;
    }
    if (spare != null) {
      spare.refill(serverTls);
    } else {
      muxer.startSpare(serverTls);
    }
  }

  @Override
  public int nextId() {
    return nextId.incrementAndGet();
  }

  @Override
  public BrokeredServer acceptAndServe(int id, List<?> services) {
    if (services == null || services.isEmpty()) {
      checkOpen();
      throw new IllegalArgumentException("services must not be empty");
    }
    enterServe();
    try {
      return serve(id, services);
    } finally {
      exitServe();
    }
  }

  /** Registers this thread as serving; throws if closed (checked under the same lock as close). */
  private void enterServe() {
    Thread me = Thread.currentThread();
    synchronized (serving) {
      checkOpen();
      serving.merge(me, 1, Integer::sum);
    }
  }

  private void exitServe() {
    Thread me = Thread.currentThread();
    synchronized (serving) {
      if (serving.merge(me, -1, Integer::sum) == 0) {
        serving.remove(me);
      }
      serving.notifyAll();
    }
  }

  /**
   * Waits until no other thread is in {@link #acceptAndServe}; each one that was there has, by
   * then, either stopped its server and deleted its socket (it saw the broker closed) or
   * registered it where {@link #close()} finds it. A thread closing the broker from inside its own
   * serve (a sender that closes it) does not wait for itself.
   */
  private void awaitServesInFlight() {
    Thread me = Thread.currentThread();
    boolean interrupted = false;
    synchronized (serving) {
      while (serving.size() > (serving.containsKey(me) ? 1 : 0)) {
        try {
          serving.wait();
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  private BrokeredServer serve(int id, List<?> services) {
    if (servers.putIfAbsent(id, Optional.empty()) != null) {
      throw new IllegalStateException("a brokered server already serves id " + id
          + "; close it first, or take a fresh id from nextId()");
    }
    Served served;
    try {
      served = startServer(id, services);
    } catch (RuntimeException | Error e) {
      servers.remove(id, Optional.<Served>empty());
      throw e;
    }
    servers.put(id, Optional.of(served));
    if (closed.get()) {
      served.close();
      checkOpen();
    }
    return served;
  }

  private Served startServer(int id, List<?> services) {
    if (muxer != null) {
      List<?> given = serverInterceptors.isEmpty()
          ? services : IdleServer.definitions(services, serverInterceptors);
      return new Served(id, muxer.serve(id, given, serverTls), null);
    }
    List<ServerServiceDefinition> defs = IdleServer.definitions(services, serverInterceptors);
    // a spare still binding is waited for (not on one of the group's loops, which it may need)
    IdleServer idle = spare.take(serverTls, group);
    if (idle == null) {
      checkOpen(); // the spare waited for may have been disposed by close
      idle = newIdle();
    }
    try {
      idle.serve(defs);
      NetAddress advertised = toPeer.apply(idle.address());
      send(
          ConnInfo.newBuilder()
              .setServiceId(id)
              .setNetwork(advertised.network())
              .setAddress(advertised.address())
              .build());
    } catch (RuntimeException e) {
      dispose(idle);
      throw e;
    }
    spare.refill(serverTls);
    return new Served(id, null, idle);
  }

  /** A started classic server with no services yet, listening on a new address. */
  private IdleServer newIdle() {
    NetAddress addr = listeners.newAddress();
    IdleServer idle = IdleServer.listen(addr, serverTls, group);
    try {
      listeners.prepare(addr);
    } catch (RuntimeException e) {
      dispose(idle);
      throw e;
    }
    return idle;
  }

  /**
   * Stops a classic server whose id was closed. Its services are gone and its socket file deleted
   * before this returns, so no new call reaches them; the listener and connections are shut down
   * on the timer, off the caller's path (as building the next server is), and {@link #close()}
   * waits until every such server has terminated.
   */
  private void stopClassic(IdleServer s) {
    s.registry().clear();
    deleteSocket(s.address());
    Server server = s.server();
    terminating.removeIf(Server::isTerminated);
    terminating.add(server);
    try {
      timer.execute(server::shutdownNow);
    } catch (RejectedExecutionException e) {
      server.shutdownNow();
    }
    if (closed.get()) {
      // the broker's close may have passed over it already
      server.shutdownNow();
      awaitQuietly(server);
      terminating.remove(server);
    }
  }

  /** Stops a server no id uses (a spare, or one whose announcement failed) and its socket. */
  private static void dispose(IdleServer idle) {
    idle.server().shutdownNow();
    awaitQuietly(idle.server());
    deleteSocket(idle.address());
  }

  @Override
  public ManagedChannel dial(int id) {
    checkOpen();
    ManagedChannel channel;
    if (muxer != null) {
      channel = muxer.dial(id, () -> knock(id), clientTls, channelCustomizer);
    } else {
      ConnInfo info = await(id, "timeout waiting for connection info for broker id " + id
          + ": the other side did not call acceptAndServe(" + id + ") within 5 s");
      NetAddress announced;
      try {
        announced = new NetAddress(info.getNetwork(), info.getAddress());
      } catch (IllegalArgumentException e) {
        throw new AddressRefusedException(info.getNetwork() + ":" + info.getAddress(),
            AddressRules.RULE_MALFORMED, "refusing to dial broker id " + id + " at \""
                + info.getNetwork() + ":" + info.getAddress() + "\": " + e.getMessage());
      }
      // fromPeer checks the address (AddressRules on the host) before anything is dialled
      NetAddress addr = fromPeer.apply(announced);
      channel = GrpcTransport.channel(addr, clientTls, group, channelCustomizer);
    }
    synchronized (channels) {
      channels.add(channel);
    }
    if (closed.get()) {
      channel.shutdownNow();
      checkOpen();
    }
    return channel;
  }

  /** Dispatches one message received on the broker stream. */
  public void onMessage(ConnInfo msg) {
    int id = msg.getServiceId();
    if (msg.hasKnock() && msg.getKnock().getKnock() && !msg.getKnock().getAck()) {
      answerKnock(id);
      return;
    }
    CompletableFuture<ConnInfo> f = pending(id);
    if (!f.complete(msg)) {
      log.debug("dropping duplicate broker message for id {}", id);
      return;
    }
    // An announcement nobody dials within the wait is dropped, as go-plugin does.
    timer.schedule(() -> clientPending.remove(id, f), WAIT_MILLIS, TimeUnit.MILLISECONDS);
  }

  private void answerKnock(int id) {
    String error;
    if (servers.getOrDefault(id, Optional.empty()).isEmpty()) {
      error = "no listener for id " + id;
    } else {
      error = muxer == null ? "multiplexing is not enabled" : muxer.acceptKnock(id);
    }
    ConnInfo.Knock.Builder k = ConnInfo.Knock.newBuilder().setKnock(true).setAck(true);
    if (error != null) {
      k.setError(error);
    }
    try {
      send(ConnInfo.newBuilder().setServiceId(id).setKnock(k).build());
    } catch (RuntimeException e) {
      log.debug("cannot answer knock for id {}: {}", id, e.toString());
    }
  }

  /** Knocks for {@code id} and waits for the ack; throws when refused or unanswered. */
  private void knock(int id) {
    CompletableFuture<ConnInfo> f = new CompletableFuture<>();
    // Atomic: a knock replaces only an answer nobody waits for (a late ack or announcement), never
    // another dialler's knock still in flight (whose ack would then be taken by this one).
    CompletableFuture<ConnInfo> now = clientPending.compute(
        id, (k, old) -> old == null || old.isDone() ? f : old);
    if (now != f) {
      throw new PluginException("another dial of broker id " + id + " is knocking already; dials"
          + " of one id must not overlap (the multiplexed broker serializes them)");
    }
    send(
        ConnInfo.newBuilder()
            .setServiceId(id)
            .setKnock(ConnInfo.Knock.newBuilder().setKnock(true))
            .build());
    ConnInfo answer =
        await(id, "timeout waiting for multiplexing knock handshake on id " + id
            + ": the other side did not answer within 5 s");
    if (!answer.hasKnock() || !answer.getKnock().getAck()) {
      throw new PluginException(
          "handshake failed for multiplexing on id " + id + ": expected knock and ack, got " + answer);
    }
    if (!answer.getKnock().getError().isEmpty()) {
      throw new NoBrokeredServerException(id, answer.getKnock().getError());
    }
  }

  private CompletableFuture<ConnInfo> pending(int id) {
    return clientPending.computeIfAbsent(id, k -> new CompletableFuture<>());
  }

  private ConnInfo await(int id, String timeoutMessage) {
    CompletableFuture<ConnInfo> f = pending(id);
    try {
      return f.get(WAIT_MILLIS, TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      throw new PluginException(timeoutMessage);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new PluginException("interrupted while waiting for broker id " + id, e);
    } catch (ExecutionException e) {
      throw new PluginException("broker closed while waiting for id " + id, e.getCause());
    } finally {
      clientPending.remove(id, f);
    }
  }

  private void send(ConnInfo msg) {
    checkOpen();
    synchronized (sendLock) {
      sender.accept(msg);
    }
  }

  private void checkOpen() {
    if (closed.get()) {
      throw new PluginException("the broker is closed (the plugin connection was shut down)");
    }
  }

  /**
   * Yamux streams open on the multiplexed connection now (the main gRPC connection's and every
   * brokered one's), for leak checks in tests; -1 without multiplexing.
   */
  public int openStreamCount() {
    return muxer instanceof YamuxMuxer y ? y.openStreamCount() : -1;
  }

  /** Whether {@link #close()} was called. */
  public boolean isClosed() {
    return closed.get();
  }

  /**
   * Stops every brokered server and channel; idempotent. When it returns, no brokered server of
   * this broker runs or will start and every socket file it made is deleted: serves in flight on
   * other threads have ended (each stops its own server once it sees the broker closed), and the
   * spare is disposed or, if still binding, waited for (see {@link Spare}).
   */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    PluginException closedEx = new PluginException("the broker is closed");
    clientPending.values().forEach(f -> f.completeExceptionally(closedEx));
    clientPending.clear();
    // from here on no serve starts; one in flight ends having registered its server or stopped it
    awaitServesInFlight();
    for (Optional<Served> s : List.copyOf(servers.values())) {
      s.ifPresent(Served::close);
    }
    if (spare != null) {
      spare.close();
    }
    for (Server s : List.copyOf(terminating)) {
      s.shutdownNow(); // its task on the timer may not have run
      awaitQuietly(s);
      terminating.remove(s);
    }
    List<ManagedChannel> toClose;
    synchronized (channels) {
      toClose = List.copyOf(channels);
      channels.clear();
    }
    for (ManagedChannel c : toClose) {
      c.shutdownNow();
    }
    for (ManagedChannel c : toClose) {
      awaitQuietly(c);
    }
  }

  private static void awaitQuietly(Server s) {
    try {
      s.awaitTermination(2, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void awaitQuietly(ManagedChannel c) {
    try {
      c.awaitTermination(2, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void deleteSocket(NetAddress addr) {
    if (NetAddress.UNIX.equals(addr.network())) {
      try {
        Files.deleteIfExists(Path.of(addr.address()));
      } catch (IOException e) {
        log.debug("cannot delete broker socket {}: {}", addr.address(), e.toString());
      }
    }
  }

  private final class Served implements BrokeredServer {
    private final int id;
    private final BrokeredServer muxed;
    private final IdleServer classic;
    private final AtomicBoolean done = new AtomicBoolean();

    Served(int id, BrokeredServer muxed, IdleServer classic) {
      this.id = id;
      this.muxed = muxed;
      this.classic = classic;
    }

    @Override
    public int id() {
      return id;
    }

    @Override
    public void close() {
      if (!done.compareAndSet(false, true)) {
        return;
      }
      servers.remove(id, Optional.of(this));
      if (muxed != null) {
        muxed.close();
      }
      if (classic != null) {
        stopClassic(classic);
      }
    }
  }
}
