package dev.goplugin4j.protocol.internal.yamux;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.goplugin4j.protocol.internal.transport.GrpcTransport;
import io.grpc.netty.shaded.io.netty.bootstrap.ServerBootstrap;
import io.grpc.netty.shaded.io.netty.channel.Channel;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Conformance against HashiCorp's Go yamux (v0.1.2) over a real Unix socket, in both roles: Java
 * client with a Go server, and Go client with a Java server.
 */
class YamuxGoConformanceIT {
  private static final Logger LOG = LoggerFactory.getLogger(YamuxGoConformanceIT.class);
  private static final Duration WAIT = Duration.ofSeconds(60);
  private static final long MIB = 1024 * 1024;

  enum Role {
    JAVA_CLIENT_GO_SERVER,
    GO_CLIENT_JAVA_SERVER
  }

  @TempDir Path dir;
  EventLoopGroup group;
  GoYamuxPeer peer;
  YamuxSession session;

  @BeforeEach
  void setUp() {
    group = GrpcTransport.newEventLoopGroup(1, "yamux-it");
  }

  @AfterEach
  void tearDown() throws Exception {
    if (session != null) {
      session.close();
      session.closeFuture().get(10, TimeUnit.SECONDS);
    }
    if (peer != null) {
      peer.close();
    }
    GrpcTransport.shutdown(group);
  }

  private YamuxSession connect(Role role, String... goArgs) throws Exception {
    return connect(role, YamuxConfig.defaults(), goArgs);
  }

  private YamuxSession connect(Role role, YamuxConfig config, String... goArgs) throws Exception {
    Path socket = dir.resolve("y.sock");
    if (role == Role.JAVA_CLIENT_GO_SERVER) {
      peer = GoYamuxPeer.start("server", socket, goArgs);
      peer.awaitLine("ready", WAIT);
      session = YamuxSession.connectUnix(socket, group, config).get(WAIT.toSeconds(), TimeUnit.SECONDS);
    } else {
      CompletableFuture<YamuxSession> accepted = new CompletableFuture<>();
      Channel server =
          new ServerBootstrap()
              .group(group)
              .channel(EpollServerDomainSocketChannel.class)
              .childHandler(YamuxSession.initializer(false, config, accepted::complete))
              .bind(new DomainSocketAddress(socket.toString()))
              .sync()
              .channel();
      try {
        peer = GoYamuxPeer.start("client", socket, goArgs);
        session = accepted.get(WAIT.toSeconds(), TimeUnit.SECONDS);
      } finally {
        server.close().sync();
      }
    }
    assertThat(session.isClient()).isEqualTo(role == Role.JAVA_CLIENT_GO_SERVER);
    session.acceptStreams(Echo::serve);
    return session;
  }

  private static <T> T await(CompletableFuture<T> f) throws Exception {
    return f.get(WAIT.toSeconds(), TimeUnit.SECONDS);
  }

  /** Runs a one-line command on a new stream (half-closed after it) and returns the answer. */
  private String command(String line) throws Exception {
    Pump p = new Pump(line + "\n", 0, true);
    await(session.openStream(p));
    return await(p.received).text();
  }

  @ParameterizedTest
  @EnumSource(Role.class)
  void manyConcurrentStreamsEchoTheirDataIntact(Role role) throws Exception {
    connect(role);
    int streams = 128;
    long size = 256 * 1024 + 17;
    List<Pump> pumps = new ArrayList<>();
    for (int i = 0; i < streams; i++) {
      Pump p = new Pump("echo\n", size, true);
      pumps.add(p);
      session.openStream(p);
    }
    String want = Pump.patternSha256(size);
    for (Pump p : pumps) {
      Pump.Received r = await(p.received);
      assertThat(r.count()).isEqualTo(size);
      assertThat(r.sha256()).isEqualTo(want);
      assertThat(r.closeCause()).isNull();
    }
    awaitStreams(0);
    assertThat(command("numstreams")).isEqualTo("1");
  }

  @ParameterizedTest
  @EnumSource(Role.class)
  void largeTransferToGoArrivesIntact(Role role) throws Exception {
    connect(role);
    long size = 64 * MIB;
    Pump p = new Pump("sink\n", size, true);
    long start = System.nanoTime();
    await(session.openStream(p));
    String answer = await(p.received).text();
    logThroughput("Java -> Go " + role, size, start);
    assertThat(answer).isEqualTo(size + " " + Pump.patternSha256(size));
  }

  @ParameterizedTest
  @EnumSource(Role.class)
  void largeTransferFromGoArrivesIntact(Role role) throws Exception {
    connect(role);
    long size = 64 * MIB;
    Pump p = new Pump("source " + size + "\n", 0, true);
    long start = System.nanoTime();
    await(session.openStream(p));
    Pump.Received r = await(p.received);
    logThroughput("Go -> Java " + role, size, start);
    assertThat(r.count()).isEqualTo(size);
    assertThat(r.sha256()).isEqualTo(Pump.patternSha256(size));
  }

  @ParameterizedTest
  @EnumSource(Role.class)
  void largeEchoFlowsBothWaysAtOnce(Role role) throws Exception {
    connect(role);
    long size = 32 * MIB;
    Pump p = new Pump("echo\n", size, true);
    long start = System.nanoTime();
    await(session.openStream(p));
    Pump.Received r = await(p.received);
    logThroughput("echo " + role, size, start);
    assertThat(r.count()).isEqualTo(size);
    assertThat(r.sha256()).isEqualTo(Pump.patternSha256(size));
  }

  @ParameterizedTest
  @EnumSource(Role.class)
  void slowReaderStallsSenderInsteadOfBuffering(Role role) throws Exception {
    connect(role);
    long size = 16 * MIB;
    Pump p = new Pump("source " + size + "\n", 0, true, false, false);
    YamuxStreamChannel st = await(session.openStream(p));
    // Nothing is read: the Go writer must stop at the window, however long we wait.
    Thread.sleep(500);
    long buffered = inLoop(() -> st.inboundBytes);
    assertThat(buffered).isLessThanOrEqualTo(YamuxConfig.INITIAL_STREAM_WINDOW);
    assertThat(p.received).isNotDone();
    st.config().setAutoRead(true);
    Pump.Received r = await(p.received);
    assertThat(r.count()).isEqualTo(size);
    assertThat(r.sha256()).isEqualTo(Pump.patternSha256(size));
  }

  @ParameterizedTest
  @EnumSource(Role.class)
  void streamsOpenedByGoAreAcceptedAndEchoed(Role role) throws Exception {
    connect(role);
    assertThat(command("open 100 65536")).isEqualTo("ok");
    awaitStreams(0);
  }

  @ParameterizedTest
  @EnumSource(Role.class)
  void resetByJavaIsSeenAsResetByGo(Role role) throws Exception {
    connect(role);
    Pump p = new Pump("expectreset t1\n", 1000, false);
    YamuxStreamChannel st = await(session.openStream(p));
    await(p.sent);
    await(p.firstRead); // Go has read the command and is reading data
    st.reset().sync();
    assertThat(st.closeCause()).isInstanceOf(YamuxStreamResetException.class);
    assertThat(command("query t1")).isEqualTo("reset");
    awaitStreams(0);
  }

  @ParameterizedTest
  @EnumSource(Role.class)
  void goResetsAStreamWeNeverFinishAndWritesThenFail(Role role) throws Exception {
    connect(role, "-closetimeout", "300ms");
    Pump p = new Pump("closewithoutreading\n", 0, false, true, true);
    YamuxStreamChannel st = await(session.openStream(p));
    await(p.received); // Go's FIN arrives: input shut down, our side stays open
    assertThat(st.isOpen()).isTrue();
    st.closeFuture().await(WAIT.toMillis());
    assertThat(st.closeCause()).isInstanceOf(YamuxStreamResetException.class);
    assertThatThrownBy(() -> st.writeAndFlush(io.grpc.netty.shaded.io.netty.buffer.Unpooled.wrappedBuffer(new byte[1])).sync())
        .isNotNull();
  }

  @ParameterizedTest
  @EnumSource(Role.class)
  void pingsAreAnsweredBothWays(Role role) throws Exception {
    connect(role);
    Duration rtt = await(session.ping());
    assertThat(rtt).isPositive();
    assertThat(command("ping")).startsWith("ok ");
  }

  @ParameterizedTest
  @EnumSource(Role.class)
  void goAwayFromGoRefusesNewStreamsButKeepsOpenOnes(Role role) throws Exception {
    connect(role);
    Pump open = new Pump("echo\n", 0, false);
    YamuxStreamChannel kept = await(session.openStream(open));
    assertThat(command("goaway")).isEqualTo("ok");
    assertThatThrownBy(() -> await(session.openStream(null)))
        .isInstanceOf(ExecutionException.class)
        .hasCauseInstanceOf(YamuxException.class)
        .hasMessageContaining("GoAway");
    assertThat(session.isRemoteGoAway()).isTrue();
    kept.writeAndFlush(io.grpc.netty.shaded.io.netty.buffer.Unpooled.wrappedBuffer(new byte[] {1, 2, 3}));
    kept.shutdownOutput();
    assertThat(await(open.received).count()).isEqualTo(3);
  }

  @ParameterizedTest
  @EnumSource(Role.class)
  void goAwayFromJavaMakesGoStreamsFail(Role role) throws Exception {
    connect(role);
    await(session.goAway());
    assertThat(command("open 1 10")).isEqualTo("error: remote end is not accepting connections");
  }

  @ParameterizedTest
  @EnumSource(Role.class)
  void goClosingTheSessionFailsEveryOpenStream(Role role) throws Exception {
    connect(role);
    List<YamuxStreamChannel> open = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      open.add(await(session.openStream(new Pump("echo\n", 10, false))));
    }
    session.openStream(new Pump("exit\n", 0, false));
    await(session.closeFuture());
    for (YamuxStreamChannel st : open) {
      st.closeFuture().await(WAIT.toMillis());
      assertThat(st.closeCause()).isInstanceOf(YamuxSessionClosedException.class);
    }
    assertThat(session.numStreams()).isZero();
    assertThatThrownBy(() -> await(session.openStream(null)))
        .hasCauseInstanceOf(YamuxSessionClosedException.class);
    assertThat(peer.awaitExit(WAIT)).isZero();
  }

  @ParameterizedTest
  @EnumSource(Role.class)
  void javaClosingTheSessionEndsTheGoPeerCleanly(Role role) throws Exception {
    connect(role);
    // one finished exchange, one stream left open (Go has nothing left to write on either, so
    // our close cannot catch it mid-write)
    Pump done = new Pump("echo\n", 10, true);
    session.openStream(done);
    assertThat(await(done.received).count()).isEqualTo(10);
    YamuxStreamChannel st = await(session.openStream(new Pump("echo\n", 0, false)));
    session.close();
    await(session.closeFuture());
    st.closeFuture().await(WAIT.toMillis());
    assertThat(st.closeCause()).isInstanceOf(YamuxSessionClosedException.class);
    assertThat(peer.awaitExit(WAIT)).isZero();
    // Go's send loop may still be flushing a window update for the finished exchange when our
    // close lands; it then logs the failed write ("broken pipe"/"connection reset"). That race is
    // Go's own and harmless; any other error is ours.
    assertThat(peer.stderr().lines()
            .filter(l -> l.contains("[ERR]"))
            .filter(l -> !l.contains("broken pipe") && !l.contains("connection reset by peer")))
        .isEmpty();
  }

  private void awaitStreams(int n) throws Exception {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (session.numStreams() != n && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertThat(session.numStreams()).isEqualTo(n);
  }

  private <T> T inLoop(java.util.concurrent.Callable<T> c) throws Exception {
    return session.eventLoop().submit(c).get(10, TimeUnit.SECONDS);
  }

  private static void logThroughput(String what, long bytes, long startNanos) {
    double secs = (System.nanoTime() - startNanos) / 1e9;
    LOG.info(String.format(Locale.ROOT, "%s: %d MiB in %.2f s = %.1f MiB/s", what, bytes / MIB, secs, bytes / MIB / secs));
  }
}
