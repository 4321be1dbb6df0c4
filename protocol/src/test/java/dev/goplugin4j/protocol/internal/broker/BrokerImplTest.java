package dev.goplugin4j.protocol.internal.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.goplugin4j.protocol.GrpcBroker.BrokeredServer;
import dev.goplugin4j.protocol.NetAddress;
import dev.goplugin4j.protocol.NoBrokeredServerException;
import dev.goplugin4j.protocol.internal.proto.ConnInfo;
import dev.goplugin4j.protocol.internal.transport.GrpcTransport;
import dev.goplugin4j.protocol.internal.yamux.YamuxConfig;
import dev.goplugin4j.protocol.internal.yamux.YamuxGrpc;
import dev.goplugin4j.protocol.internal.yamux.YamuxSession;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.netty.bootstrap.ServerBootstrap;
import io.grpc.netty.shaded.io.netty.channel.Channel;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import io.grpc.protobuf.services.HealthStatusManager;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two {@link BrokerImpl}s wired to each other (a "host" and a "plugin" side), classic and over a
 * real yamux session pair on an epoll Unix socket with {@link YamuxMuxer}s, as go-plugin's
 * multiplexed broker runs them.
 */
@org.junit.jupiter.api.Timeout(value = 120, unit = TimeUnit.SECONDS)
class BrokerImplTest {
  /**
   * How long an acked knock waits for its stream in these tests (instead of 6 s): long enough that
   * a live knock does not expire before its stream arrives on a loaded machine (300 ms did, at
   * load 20 on 2 cores: the stream then went to the main server).
   */
  private static final long TEST_KNOCK_TTL_MILLIS = 2_000;

  @TempDir Path dir;
  EventLoopGroup group;
  ScheduledExecutorService timer;
  ExecutorService knocks;
  ExecutorService toHost;
  ExecutorService toPlugin;
  final List<AutoCloseable> closeables = new ArrayList<>();
  final List<ConnInfo> sentByPlugin = new CopyOnWriteArrayList<>();
  final AtomicInteger socketNo = new AtomicInteger();
  /** Runs in the plugin broker's {@link BrokerImpl.Listeners#prepare}, once its server listens. */
  volatile Consumer<NetAddress> pluginPrepare = a -> {};

  BrokerImpl host;
  BrokerImpl plugin;
  YamuxMuxer pluginMuxer;
  YamuxMuxer hostMuxer;

  @BeforeEach
  void setUp() {
    group = GrpcTransport.newEventLoopGroup(2, "broker-test");
    timer = Executors.newSingleThreadScheduledExecutor();
    knocks = Executors.newCachedThreadPool();
    toHost = Executors.newSingleThreadExecutor();
    toPlugin = Executors.newSingleThreadExecutor();
  }

  @AfterEach
  void tearDown() throws Exception {
    for (int i = closeables.size() - 1; i >= 0; i--) {
      closeables.get(i).close();
    }
    for (ExecutorService e : List.of(timer, knocks, toHost, toPlugin)) {
      e.shutdownNow();
      assertThat(e.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
    }
    GrpcTransport.shutdown(group);
  }

  private BrokerImpl.Listeners listeners() {
    return () -> NetAddress.unix(dir.resolve("b" + socketNo.incrementAndGet() + ".sock").toString());
  }

  private BrokerImpl.Listeners pluginListeners() {
    BrokerImpl.Listeners plain = listeners();
    return new BrokerImpl.Listeners() {
      @Override
      public NetAddress newAddress() {
        return plain.newAddress();
      }

      @Override
      public void prepare(NetAddress listening) {
        pluginPrepare.accept(listening);
      }
    };
  }

  /** Wires the two brokers; each side's messages are delivered in order on its own thread. */
  private void brokers(YamuxMuxer hostMux, YamuxMuxer pluginMux) {
    BrokerImpl[] h = new BrokerImpl[1];
    BrokerImpl[] p = new BrokerImpl[1];
    Consumer<ConnInfo> hostSender = m -> toPlugin.execute(() -> p[0].onMessage(m));
    Consumer<ConnInfo> pluginSender = m -> {
      sentByPlugin.add(m);
      toHost.execute(() -> h[0].onMessage(m));
    };
    h[0] = new BrokerImpl(hostSender, null, null, listeners(), a -> a, a -> a, group, hostMux, timer);
    p[0] = new BrokerImpl(
        pluginSender, null, null, pluginListeners(), a -> a, a -> a, group, pluginMux, timer);
    host = h[0];
    plugin = p[0];
    closeables.add(host);
    closeables.add(plugin);
  }

  private void classicBrokers() {
    brokers(null, null);
  }

  private void multiplexedBrokers(long pluginKnockTtlNanos) throws Exception {
    Path socket = dir.resolve("mux.sock");
    CompletableFuture<YamuxSession> accepted = new CompletableFuture<>();
    Channel listener = new ServerBootstrap()
        .group(group)
        .channel(EpollServerDomainSocketChannel.class)
        .childHandler(YamuxSession.initializer(false, YamuxConfig.defaults(), accepted::complete))
        .bind(new DomainSocketAddress(socket.toString()))
        .sync()
        .channel();
    closeables.add(() -> listener.close().sync());
    YamuxSession hostSession =
        YamuxSession.connectUnix(socket, group, YamuxConfig.defaults()).get(10, TimeUnit.SECONDS);
    YamuxSession pluginSession = accepted.get(10, TimeUnit.SECONDS);
    hostMuxer = new YamuxMuxer(hostSession, group, knocks, null);
    // the plugin's main gRPC server takes streams opened without a knock, as in go-plugin
    YamuxGrpc.YamuxGrpcServer main = YamuxGrpc.server(group, null, List.of(health("main")), null);
    closeables.add(main::close);
    pluginMuxer = new YamuxMuxer(pluginSession, group, knocks, main::serve, pluginKnockTtlNanos);
    closeables.add(() -> {
      hostMuxer.close();
      pluginMuxer.close();
      hostSession.closeFuture().get(10, TimeUnit.SECONDS);
      pluginSession.closeFuture().get(10, TimeUnit.SECONDS);
    });
    brokers(hostMuxer, pluginMuxer);
  }

  private static Object health(String service) {
    HealthStatusManager h = new HealthStatusManager();
    h.setStatus(service, ServingStatus.SERVING);
    return h.getHealthService();
  }

  private static ServingStatus check(ManagedChannel ch, String service) {
    return HealthGrpc.newBlockingStub(ch)
        .withDeadlineAfter(10, TimeUnit.SECONDS)
        .check(HealthCheckRequest.newBuilder().setService(service).build())
        .getStatus();
  }

  private ManagedChannel hostDials(int id) {
    ManagedChannel ch = host.dial(id);
    closeables.add(() -> {
      ch.shutdownNow();
      ch.awaitTermination(5, TimeUnit.SECONDS);
    });
    return ch;
  }

  private static List<Throwable> causes(Throwable t) {
    List<Throwable> all = new ArrayList<>();
    for (Throwable c = t; c != null && !all.contains(c); c = c.getCause()) {
      all.add(c);
    }
    return all;
  }

  // ------------------------------------------------------------------ stale knocks

  @Test
  void aKnockWhoseDiallerNeverOpenedItsStreamExpiresSoTheNextStreamReachesTheRightServer()
      throws Exception {
    multiplexedBrokers(TimeUnit.MILLISECONDS.toNanos(TEST_KNOCK_TTL_MILLIS));
    plugin.acceptAndServe(1, List.of(health("one")));
    plugin.acceptAndServe(2, List.of(health("two")));
    // An ack for id 1 whose dialler had already timed out: it never opens a stream.
    assertThat(pluginMuxer.acceptKnock(1)).isNull();
    Thread.sleep(TEST_KNOCK_TTL_MILLIS + 200);

    ManagedChannel two = hostDials(2);
    // Had the stale knock for id 1 taken this stream, server "one" would answer NOT_FOUND.
    assertThat(check(two, "two")).isEqualTo(ServingStatus.SERVING);
    ManagedChannel one = hostDials(1);
    assertThat(check(one, "one")).isEqualTo(ServingStatus.SERVING);
  }

  @Test
  void anExpiredKnockDoesNotTakeTheNextUnannouncedStreamFromTheMainServer() throws Exception {
    multiplexedBrokers(TimeUnit.MILLISECONDS.toNanos(TEST_KNOCK_TTL_MILLIS));
    plugin.acceptAndServe(1, List.of(health("one")));
    assertThat(pluginMuxer.acceptKnock(1)).isNull();
    Thread.sleep(TEST_KNOCK_TTL_MILLIS + 200);

    ManagedChannel main = hostMuxer.mainChannel(null, null);
    closeables.add(() -> {
      main.shutdownNow();
      main.awaitTermination(5, TimeUnit.SECONDS);
    });
    assertThat(check(main, "main")).isEqualTo(ServingStatus.SERVING);
  }

  @Test
  void aKnockStillWithinItsWaitKeepsItsPlaceInLine() throws Exception {
    // The expiry must not drop live knocks: ack for 1, ack for 2, then both streams in order.
    multiplexedBrokers(TimeUnit.SECONDS.toNanos(30));
    plugin.acceptAndServe(1, List.of(health("one")));
    plugin.acceptAndServe(2, List.of(health("two")));
    ManagedChannel one = hostDials(1);
    ManagedChannel two = hostDials(2);
    assertThat(check(one, "one")).isEqualTo(ServingStatus.SERVING);
    assertThat(check(two, "two")).isEqualTo(ServingStatus.SERVING);
  }

  // ------------------------------------------------------------------ same-id races

  private void concurrentServesOfOneIdLetExactlyOneWin() throws Exception {
    int threads = 8;
    CyclicBarrier start = new CyclicBarrier(threads);
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<BrokeredServer>> results = new ArrayList<>();
      for (int i = 0; i < threads; i++) {
        results.add(pool.submit(() -> {
          start.await(10, TimeUnit.SECONDS);
          return plugin.acceptAndServe(7, List.of(health("seven")));
        }));
      }
      int won = 0;
      List<Throwable> lost = new ArrayList<>();
      for (Future<BrokeredServer> f : results) {
        try {
          f.get(30, TimeUnit.SECONDS);
          won++;
        } catch (java.util.concurrent.ExecutionException e) {
          lost.add(e.getCause());
        }
      }
      assertThat(won).as("servers started for id 7").isEqualTo(1);
      assertThat(lost).hasSize(threads - 1).allSatisfy(t -> assertThat(t)
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("already serves id 7"));
    } finally {
      pool.shutdownNow();
      assertThat(pool.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
    }
  }

  @Test
  void concurrentClassicServesOfOneIdStartOneServerAndAnnounceItOnce() throws Exception {
    classicBrokers();
    concurrentServesOfOneIdLetExactlyOneWin();
    assertThat(sentByPlugin).filteredOn(m -> m.getServiceId() == 7).hasSize(1);
    assertThat(check(hostDials(7), "seven")).isEqualTo(ServingStatus.SERVING);
  }

  @Test
  void concurrentMultiplexedServesOfOneIdStartOneServer() throws Exception {
    multiplexedBrokers(TimeUnit.SECONDS.toNanos(6));
    concurrentServesOfOneIdLetExactlyOneWin();
    assertThat(check(hostDials(7), "seven")).isEqualTo(ServingStatus.SERVING);
  }

  @Test
  void concurrentMultiplexedDialsOfOneIdAllReachTheServer() throws Exception {
    multiplexedBrokers(TimeUnit.SECONDS.toNanos(6));
    plugin.acceptAndServe(9, List.of(health("nine")));
    int threads = 16;
    CyclicBarrier start = new CyclicBarrier(threads);
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<ServingStatus>> results = new ArrayList<>();
      for (int i = 0; i < threads; i++) {
        results.add(pool.submit(() -> {
          start.await(10, TimeUnit.SECONDS);
          return check(hostDials(9), "nine");
        }));
      }
      for (Future<ServingStatus> f : results) {
        assertThat(f.get(60, TimeUnit.SECONDS)).isEqualTo(ServingStatus.SERVING);
      }
    } finally {
      pool.shutdownNow();
      assertThat(pool.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
    }
  }

  // ------------------------------------------------------------------ closing frees the id

  @Test
  void closingAMultiplexedServerFreesItsIdForDialsAndForServingAgain() throws Exception {
    multiplexedBrokers(TimeUnit.SECONDS.toNanos(6));
    BrokeredServer first = plugin.acceptAndServe(5, List.of(health("first")));
    assertThat(check(hostDials(5), "first")).isEqualTo(ServingStatus.SERVING);

    first.close();
    assertThatThrownBy(() -> check(hostDials(5), "first"))
        .isInstanceOf(StatusRuntimeException.class)
        .satisfies(e -> assertThat(causes(e))
            .filteredOn(NoBrokeredServerException.class::isInstance)
            .singleElement()
            .satisfies(c -> {
              assertThat(((NoBrokeredServerException) c).id()).isEqualTo(5);
              assertThat(c).hasMessageContaining("no listener for id 5")
                  .hasMessageContaining("acceptAndServe(5)");
            }));

    plugin.acceptAndServe(5, List.of(health("second")));
    assertThat(check(hostDials(5), "second")).isEqualTo(ServingStatus.SERVING);
  }

  @Test
  void closingAClassicServerFreesItsIdForServingAgain() throws Exception {
    classicBrokers();
    BrokeredServer first = plugin.acceptAndServe(5, List.of(health("first")));
    assertThat(check(hostDials(5), "first")).isEqualTo(ServingStatus.SERVING);
    first.close();
    first.close(); // idempotent
    assertThat(host.openStreamCount()).isEqualTo(-1);

    plugin.acceptAndServe(5, List.of(health("second")));
    assertThat(check(hostDials(5), "second")).isEqualTo(ServingStatus.SERVING);
    assertThat(sentByPlugin).filteredOn(m -> m.getServiceId() == 5).hasSize(2);
  }

  @Test
  void servingAnIdTwiceWithoutClosingIsRefusedAndTheFirstServerKeepsIt() throws Exception {
    multiplexedBrokers(TimeUnit.SECONDS.toNanos(6));
    plugin.acceptAndServe(3, List.of(health("first")));
    assertThatThrownBy(() -> plugin.acceptAndServe(3, List.of(health("second"))))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("already serves id 3")
        .hasMessageContaining("nextId()");
    assertThat(check(hostDials(3), "first")).isEqualTo(ServingStatus.SERVING);
  }

  // ------------------------------------------------------------------ servers started ahead

  /** Serves ids 1..4 one after another, each with its own services, and checks each answers. */
  private void successiveServesEachReachTheirOwnServices() {
    for (int id = 1; id <= 4; id++) {
      BrokeredServer s = plugin.acceptAndServe(id, List.of(health("svc" + id)));
      ManagedChannel ch = hostDials(id);
      assertThat(check(ch, "svc" + id)).isEqualTo(ServingStatus.SERVING);
      int earlier = id - 1;
      if (earlier > 0) {
        // the server started ahead has this id's services only
        assertThatThrownBy(() -> check(ch, "svc" + earlier))
            .isInstanceOf(StatusRuntimeException.class)
            .hasMessageContaining("NOT_FOUND");
      }
      s.close();
    }
  }

  @Test
  void successiveClassicServesEachReachTheirOwnServices() {
    classicBrokers();
    successiveServesEachReachTheirOwnServices();
  }

  @Test
  void successiveMultiplexedServesEachReachTheirOwnServices() throws Exception {
    multiplexedBrokers(TimeUnit.SECONDS.toNanos(6));
    successiveServesEachReachTheirOwnServices();
  }

  @Test
  void closingTheBrokerRemovesEverySocketFileIncludingTheServerStartedAhead() throws Exception {
    classicBrokers();
    for (int id = 1; id <= 3; id++) {
      BrokeredServer s = plugin.acceptAndServe(id, List.of(health("svc" + id)));
      assertThat(check(hostDials(id), "svc" + id)).isEqualTo(ServingStatus.SERVING);
      s.close();
    }
    plugin.acceptAndServe(4, List.of(health("open")));
    plugin.close();
    try (var files = java.nio.file.Files.list(dir)) {
      assertThat(files.filter(f -> f.toString().endsWith(".sock"))).isEmpty();
    }
  }

  @Test
  void aClosedClassicServerNoLongerAnswersOnAConnectionStillOpen() {
    classicBrokers();
    BrokeredServer s = plugin.acceptAndServe(6, List.of(health("six")));
    ManagedChannel ch = hostDials(6);
    assertThat(check(ch, "six")).isEqualTo(ServingStatus.SERVING);
    s.close();
    assertThatThrownBy(() -> check(ch, "six")).isInstanceOf(StatusRuntimeException.class);
  }

  // ------------------------------------------------------------------ close against work in flight

  private List<Path> socketFiles() throws java.io.IOException {
    try (var files = java.nio.file.Files.list(dir)) {
      return files.filter(f -> f.toString().endsWith(".sock")).toList();
    }
  }

  /**
   * Waits until {@code t} has ended or is parked inside {@code type}'s {@code method} (a state,
   * not a time); returns whether it had ended.
   */
  private static boolean endedRatherThanWaitingIn(Thread t, Class<?> type, String method) {
    while (true) {
      Thread.State s = t.getState();
      if (s == Thread.State.TERMINATED) {
        return true;
      }
      if ((s == Thread.State.WAITING || s == Thread.State.TIMED_WAITING)
          && java.util.Arrays.stream(t.getStackTrace())
              .anyMatch(f -> f.getClassName().equals(type.getName())
                  && f.getMethodName().equals(method))) {
        return false;
      }
      Thread.onSpinWait();
    }
  }

  private static void await(java.util.concurrent.CountDownLatch latch) {
    try {
      assertThat(latch.await(30, TimeUnit.SECONDS)).isTrue();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  @Test
  void closingWhileASpareIsStillBindingWaitsForItAndLeavesNoSocketFile() throws Exception {
    classicBrokers();
    java.util.concurrent.CountDownLatch spareListens = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    pluginPrepare = a -> {
      if (a.address().endsWith("b2.sock")) { // the spare, on the timer
        spareListens.countDown();
        await(release);
      }
    };
    plugin.acceptAndServe(1, List.of(health("one")));
    await(spareListens);
    assertThat(socketFiles()).extracting(f -> f.getFileName().toString()).contains("b2.sock");

    Thread closer = new Thread(plugin::close, "broker-close");
    closer.start();
    boolean returnedEarly = endedRatherThanWaitingIn(closer, Spare.class, "close");
    List<Path> leftWhenCloseReturned = returnedEarly ? socketFiles() : List.of();
    release.countDown();
    closer.join();

    assertThat(returnedEarly).as("close returned while the spare was binding, leaving %s",
        leftWhenCloseReturned).isFalse();
    assertThat(socketFiles()).isEmpty();
  }

  @Test
  void closingWhileAServeIsBindingWaitsForItAndLeavesNoSocketFile() throws Exception {
    classicBrokers();
    java.util.concurrent.CountDownLatch listens = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    pluginPrepare = a -> {
      if (a.address().endsWith("b1.sock")) { // on the serving thread: no spare yet
        listens.countDown();
        await(release);
      }
    };
    CompletableFuture<BrokeredServer> served = new CompletableFuture<>();
    Thread server = new Thread(() -> {
      try {
        served.complete(plugin.acceptAndServe(1, List.of(health("one"))));
      } catch (Throwable t) {
        served.completeExceptionally(t);
      }
    }, "serve");
    server.start();
    await(listens);

    Thread closer = new Thread(plugin::close, "broker-close");
    closer.start();
    boolean returnedEarly =
        endedRatherThanWaitingIn(closer, BrokerImpl.class, "awaitServesInFlight");
    List<Path> leftWhenCloseReturned = returnedEarly ? socketFiles() : List.of();
    release.countDown();
    closer.join();
    server.join();

    assertThat(returnedEarly).as("close returned while a serve held a started server, leaving %s",
        leftWhenCloseReturned).isFalse();
    assertThat(socketFiles()).isEmpty();
    assertThat(served).isCompletedExceptionally();
    assertThatThrownBy(served::join)
        .hasRootCauseInstanceOf(dev.goplugin4j.protocol.PluginException.class)
        .rootCause()
        .hasMessageContaining("closed");
  }

  // ------------------------------------------------------------------ the first server, ahead

  private String announcedAddress(int id) {
    return sentByPlugin.stream().filter(m -> m.getServiceId() == id).findFirst().orElseThrow()
        .getAddress();
  }

  @Test
  void startSpareBindsTheFirstServerAheadAndTheFirstServeAnnouncesIt() throws Exception {
    classicBrokers();
    java.util.concurrent.CountDownLatch spareListens = new java.util.concurrent.CountDownLatch(1);
    pluginPrepare = a -> spareListens.countDown();
    plugin.startSpare();
    await(spareListens);
    assertThat(socketFiles()).extracting(f -> f.getFileName().toString())
        .containsExactly("b1.sock");

    BrokeredServer s = plugin.acceptAndServe(1, List.of(health("one")));

    assertThat(announcedAddress(1)).endsWith("b1.sock");
    assertThat(check(hostDials(1), "one")).isEqualTo(ServingStatus.SERVING);
    s.close();
    plugin.close();
    assertThat(socketFiles()).isEmpty();
  }

  @Test
  void aServeWhileTheSpareIsStillBindingWaitsForItRatherThanBindingAnother() throws Exception {
    classicBrokers();
    java.util.concurrent.CountDownLatch spareListens = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    pluginPrepare = a -> {
      if (a.address().endsWith("b1.sock")) { // the spare, on the timer
        spareListens.countDown();
        await(release);
      }
    };
    plugin.startSpare();
    await(spareListens);
    CompletableFuture<BrokeredServer> served = new CompletableFuture<>();
    Thread server = new Thread(() -> {
      try {
        served.complete(plugin.acceptAndServe(1, List.of(health("one"))));
      } catch (Throwable t) {
        served.completeExceptionally(t);
      }
    }, "serve");
    server.start();
    boolean servedWithoutWaiting = endedRatherThanWaitingIn(server, Spare.class, "takeOrAwait");
    List<Path> whileWaiting = socketFiles();
    release.countDown();
    server.join();

    assertThat(servedWithoutWaiting).as("the serve did not wait for the spare").isFalse();
    assertThat(whileWaiting).extracting(f -> f.getFileName().toString())
        .containsExactly("b1.sock");
    assertThat(announcedAddress(1)).endsWith("b1.sock");
    assertThat(check(hostDials(1), "one")).isEqualTo(ServingStatus.SERVING);
    served.join().close();
  }

  @Test
  void closingWhileAServeWaitsForTheSpareLeavesNoSocketFileAndTheServeFails() throws Exception {
    classicBrokers();
    java.util.concurrent.CountDownLatch spareListens = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    pluginPrepare = a -> {
      spareListens.countDown();
      await(release);
    };
    plugin.startSpare();
    await(spareListens);
    CompletableFuture<BrokeredServer> served = new CompletableFuture<>();
    Thread server = new Thread(() -> {
      try {
        served.complete(plugin.acceptAndServe(1, List.of(health("one"))));
      } catch (Throwable t) {
        served.completeExceptionally(t);
      }
    }, "serve");
    server.start();
    assertThat(endedRatherThanWaitingIn(server, Spare.class, "takeOrAwait")).isFalse();

    Thread closer = new Thread(plugin::close, "broker-close");
    closer.start();
    boolean returnedEarly =
        endedRatherThanWaitingIn(closer, BrokerImpl.class, "awaitServesInFlight");
    release.countDown();
    closer.join();
    server.join();

    assertThat(returnedEarly).as("close returned while a serve waited for the spare").isFalse();
    assertThat(socketFiles()).isEmpty();
    assertThatThrownBy(served::join)
        .hasRootCauseInstanceOf(dev.goplugin4j.protocol.PluginException.class)
        .rootCause()
        .hasMessageContaining("closed");
    assertThat(sentByPlugin).isEmpty();
  }

  @Test
  void startSpareStartsTheMultiplexedServerAheadAndTheFirstServeTakesIt() throws Exception {
    multiplexedBrokers(TimeUnit.SECONDS.toNanos(6));
    plugin.startSpare();
    while (!pluginMuxer.hasSpare(null)) {
      Thread.onSpinWait(); // a state, not a time: the build on the knock executor keeps it
    }

    BrokeredServer s = plugin.acceptAndServe(1, List.of(health("one")));

    assertThat(check(hostDials(1), "one")).isEqualTo(ServingStatus.SERVING);
    s.close();
  }

  @Test
  void startSpareDoesNothingOnceClosed() throws Exception {
    classicBrokers();
    plugin.close();
    plugin.startSpare();
    timer.submit(() -> { }).get(10, TimeUnit.SECONDS); // anything queued on the timer has run
    assertThat(socketFiles()).isEmpty();
  }
}
