package dev.goplugin4j.protocol.internal.yamux;

import static dev.goplugin4j.protocol.internal.yamux.EmbeddedPeer.data;
import static dev.goplugin4j.protocol.internal.yamux.EmbeddedPeer.syn;
import static dev.goplugin4j.protocol.internal.yamux.YamuxHeader.FLAG_ACK;
import static dev.goplugin4j.protocol.internal.yamux.YamuxHeader.FLAG_FIN;
import static dev.goplugin4j.protocol.internal.yamux.YamuxHeader.FLAG_RST;
import static dev.goplugin4j.protocol.internal.yamux.YamuxHeader.FLAG_SYN;
import static dev.goplugin4j.protocol.internal.yamux.YamuxHeader.TYPE_DATA;
import static dev.goplugin4j.protocol.internal.yamux.YamuxHeader.TYPE_GO_AWAY;
import static dev.goplugin4j.protocol.internal.yamux.YamuxHeader.TYPE_PING;
import static dev.goplugin4j.protocol.internal.yamux.YamuxHeader.TYPE_WINDOW_UPDATE;
import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.netty.shaded.io.netty.buffer.Unpooled;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** Session behaviour against a scripted peer (frames in, frames out, virtual time). */
class YamuxSessionTest {
  private static final int WINDOW = YamuxConfig.INITIAL_STREAM_WINDOW;

  private static YamuxConfig quiet() {
    return YamuxConfig.builder().keepAliveEnabled(false).build();
  }

  @Test
  void acceptedStreamIsAcknowledgedAndItsDataDelivered() {
    try (EmbeddedPeer p = new EmbeddedPeer(false, quiet())) {
      List<YamuxStreamChannel> accepted = new ArrayList<>();
      Pump pump = new Pump(null, 0, false);
      p.session.acceptStreams(s -> {
        accepted.add(s);
        s.register(pump);
      });
      p.send(syn(1));
      assertThat(p.written()).containsExactly(new YamuxHeader(TYPE_WINDOW_UPDATE, FLAG_ACK, 1, 0));
      p.send(data(1, FLAG_FIN, 5), "hello".getBytes(java.nio.charset.StandardCharsets.UTF_8));
      assertThat(pump.received).isCompleted();
      assertThat(pump.received.join().text()).isEqualTo("hello");
      assertThat(accepted).hasSize(1);
      assertThat(accepted.get(0).streamId()).isEqualTo(1);
    }
  }

  @Test
  void byteCountersCountEveryFrameHeaderAndPayloadBothWays() {
    try (EmbeddedPeer p = new EmbeddedPeer(false, quiet())) {
      Pump pump = new Pump("hi", 0, false);
      p.session.acceptStreams(s -> s.register(pump));
      assertThat(p.session.bytesSent()).isZero();
      assertThat(p.session.bytesReceived()).isZero();
      p.send(syn(1));
      p.send(data(1, FLAG_FIN, 5), "hello".getBytes(java.nio.charset.StandardCharsets.UTF_8));
      assertThat(pump.received.join().text()).isEqualTo("hello");
      List<YamuxHeader> out = p.written();
      assertThat(out).anyMatch(h -> h.type() == TYPE_DATA && h.length() == 2);
      long expectedSent = out.stream()
          .mapToLong(h -> YamuxHeader.SIZE + (h.type() == TYPE_DATA ? h.length() : 0)).sum();
      assertThat(p.session.bytesSent()).isEqualTo(expectedSent);
      assertThat(p.session.bytesReceived()).isEqualTo(2L * YamuxHeader.SIZE + 5); // SYN, Data + "hello"
    }
  }

  @Test
  void dataBeyondTheWindowIsAProtocolErrorAnsweredWithGoAway() {
    try (EmbeddedPeer p = new EmbeddedPeer(false, quiet())) {
      p.session.acceptStreams(s -> s.register(new Pump(null, 0, false, false, false)));
      p.send(syn(1));
      p.written();
      p.send(data(1, 0, WINDOW), new byte[WINDOW]);
      assertThat(p.session.isClosed()).isFalse();
      p.send(data(1, 0, 1), new byte[1]);
      assertThat(p.session.isClosed()).isTrue();
      assertThat(p.session.closeCause())
          .isInstanceOf(YamuxProtocolException.class)
          .hasMessageContaining("receive window exceeded");
      assertThat(p.written()).contains(new YamuxHeader(TYPE_GO_AWAY, 0, 0, YamuxHeader.GO_AWAY_PROTOCOL_ERROR));
      assertThat(p.channel.isOpen()).isFalse();
    }
  }

  @Test
  void unreadDataHoldsBackTheWindowUntilConsumed() {
    try (EmbeddedPeer p = new EmbeddedPeer(false, quiet())) {
      Pump pump = new Pump(null, 0, false, false, false);
      p.session.acceptStreams(s -> s.register(pump));
      p.send(syn(1));
      p.written();
      p.send(data(1, 0, WINDOW), new byte[WINDOW]);
      assertThat(p.written()).isEmpty(); // nothing consumed, no window given back
      pump.read();
      assertThat(p.written()).containsExactly(new YamuxHeader(TYPE_WINDOW_UPDATE, 0, 1, WINDOW));
    }
  }

  @Test
  void streamsBeyondTheAcceptBacklogAreReset() {
    try (EmbeddedPeer p = new EmbeddedPeer(false, quiet().toBuilder().acceptBacklog(2).build())) {
      p.send(syn(1));
      p.send(syn(3));
      p.send(syn(5));
      assertThat(p.written()).containsExactly(new YamuxHeader(TYPE_WINDOW_UPDATE, FLAG_RST, 5, 0));
      CompletableFuture<YamuxStreamChannel> first = p.session.acceptStream();
      p.run();
      assertThat(first.join().streamId()).isEqualTo(1);
      assertThat(p.written()).containsExactly(new YamuxHeader(TYPE_WINDOW_UPDATE, FLAG_ACK, 1, 0));
    }
  }

  @Test
  void aStreamIdOfOurOwnParityIsAProtocolError() {
    try (EmbeddedPeer p = new EmbeddedPeer(true, quiet())) {
      p.send(syn(1)); // a client's peer must open even ids
      assertThat(p.session.closeCause()).isInstanceOf(YamuxProtocolException.class);
      assertThat(p.written()).contains(new YamuxHeader(TYPE_GO_AWAY, 0, 0, YamuxHeader.GO_AWAY_PROTOCOL_ERROR));
    }
  }

  @Test
  void pingIsAnsweredWithTheSameOpaqueValue() {
    try (EmbeddedPeer p = new EmbeddedPeer(true, quiet())) {
      p.send(new YamuxHeader(TYPE_PING, FLAG_SYN, 0, 0xCAFE));
      assertThat(p.written()).containsExactly(new YamuxHeader(TYPE_PING, FLAG_ACK, 0, 0xCAFE));
    }
  }

  @Test
  void keepaliveThatIsNotAnsweredClosesTheSession() {
    YamuxConfig c =
        YamuxConfig.builder()
            .keepAliveInterval(Duration.ofSeconds(1))
            .connectionWriteTimeout(Duration.ofSeconds(2))
            .build();
    try (EmbeddedPeer p = new EmbeddedPeer(true, c)) {
      p.advance(1000);
      List<YamuxHeader> out = p.written();
      assertThat(out).hasSize(1);
      assertThat(out.get(0).type()).isEqualTo(TYPE_PING);
      // answered: the session stays up and pings again later
      p.send(new YamuxHeader(TYPE_PING, FLAG_ACK, 0, out.get(0).length()));
      p.advance(1000);
      assertThat(p.written()).hasSize(1);
      p.advance(2000);
      assertThat(p.session.isClosed()).isTrue();
      assertThat(p.session.closeCause()).isInstanceOf(YamuxTimeoutException.class).hasMessageContaining("keepalive");
    }
  }

  @Test
  void streamNotAcknowledgedInTimeClosesTheSession() {
    YamuxConfig c = quiet().toBuilder().streamOpenTimeout(Duration.ofSeconds(5)).build();
    try (EmbeddedPeer p = new EmbeddedPeer(true, c)) {
      CompletableFuture<YamuxStreamChannel> s = p.session.openStream(null);
      p.run();
      assertThat(s.join().streamId()).isEqualTo(1);
      assertThat(p.written()).containsExactly(new YamuxHeader(TYPE_WINDOW_UPDATE, FLAG_SYN, 1, 0));
      p.advance(5000);
      assertThat(p.session.isClosed()).isTrue();
      assertThat(p.session.closeCause()).isInstanceOf(YamuxTimeoutException.class);
      assertThat(s.join().closeCause()).isInstanceOf(YamuxSessionClosedException.class);
    }
  }

  @Test
  void opensBeyondTheBacklogWaitForAcknowledgements() {
    try (EmbeddedPeer p = new EmbeddedPeer(true, quiet().toBuilder().acceptBacklog(2).build())) {
      CompletableFuture<YamuxStreamChannel> a = p.session.openStream(null);
      CompletableFuture<YamuxStreamChannel> b = p.session.openStream(null);
      CompletableFuture<YamuxStreamChannel> c = p.session.openStream(null);
      p.run();
      assertThat(a).isCompleted();
      assertThat(b).isCompleted();
      assertThat(c).isNotDone();
      p.written();
      p.send(new YamuxHeader(TYPE_WINDOW_UPDATE, FLAG_ACK, 1, 0));
      assertThat(c).isCompleted();
      assertThat(p.written()).containsExactly(new YamuxHeader(TYPE_WINDOW_UPDATE, FLAG_SYN, 5, 0));
    }
  }

  @Test
  void closeTimeoutResetsAStreamThePeerNeverFinishes() {
    YamuxConfig c = quiet().toBuilder().streamCloseTimeout(Duration.ofSeconds(3)).build();
    try (EmbeddedPeer p = new EmbeddedPeer(true, c)) {
      YamuxStreamChannel s = p.session.openStream(null).join();
      p.send(new YamuxHeader(TYPE_WINDOW_UPDATE, FLAG_ACK, 1, 0));
      p.written();
      s.close();
      assertThat(p.written()).containsExactly(new YamuxHeader(TYPE_WINDOW_UPDATE, FLAG_FIN, 1, 0));
      assertThat(p.session.numStreams()).isEqualTo(1);
      p.advance(3000);
      assertThat(p.written()).containsExactly(new YamuxHeader(TYPE_WINDOW_UPDATE, FLAG_RST, 1, 0));
      assertThat(p.session.numStreams()).isZero();
    }
  }

  @Test
  void halfClosedStreamIsForgottenOnceBothSidesFinished() {
    try (EmbeddedPeer p = new EmbeddedPeer(true, quiet())) {
      Pump pump = new Pump("abc", 0, true, true, true);
      p.session.openStream(pump);
      p.run();
      List<YamuxHeader> out = p.written();
      assertThat(out).containsExactly(
          new YamuxHeader(TYPE_WINDOW_UPDATE, FLAG_SYN, 1, 0),
          new YamuxHeader(TYPE_DATA, 0, 1, 3),
          new YamuxHeader(TYPE_WINDOW_UPDATE, FLAG_FIN, 1, 0));
      assertThat(p.session.numStreams()).isEqualTo(1);
      p.send(data(1, FLAG_ACK | FLAG_FIN, 2), new byte[] {1, 2});
      assertThat(pump.received.join().count()).isEqualTo(2);
      assertThat(p.session.numStreams()).isZero();
    }
  }

  @Test
  void resetByThePeerFailsPendingWritesAndClosesTheStream() {
    try (EmbeddedPeer p = new EmbeddedPeer(true, quiet())) {
      YamuxStreamChannel s = p.session.openStream(null).join();
      p.run();
      // more than the window: the rest waits for a window update that never comes
      var big = s.writeAndFlush(Unpooled.wrappedBuffer(new byte[WINDOW + 10]));
      p.run();
      assertThat(big).isNotDone();
      p.send(new YamuxHeader(TYPE_WINDOW_UPDATE, FLAG_RST, 1, 0));
      assertThat(big.isDone()).isTrue();
      assertThat(big.cause()).isInstanceOf(YamuxStreamResetException.class);
      assertThat(s.isOpen()).isFalse();
      assertThat(s.closeCause()).isInstanceOf(YamuxStreamResetException.class);
      assertThat(p.session.numStreams()).isZero();
    }
  }

  @Test
  void goAwayFromThePeerFailsNewOpensButKeepsTheSession() {
    try (EmbeddedPeer p = new EmbeddedPeer(true, quiet())) {
      p.send(new YamuxHeader(TYPE_GO_AWAY, 0, 0, YamuxHeader.GO_AWAY_NORMAL));
      CompletableFuture<YamuxStreamChannel> s = p.session.openStream(null);
      p.run();
      assertThat(s).isCompletedExceptionally();
      assertThat(p.session.isClosed()).isFalse();
      p.send(new YamuxHeader(TYPE_GO_AWAY, 0, 0, YamuxHeader.GO_AWAY_INTERNAL_ERROR));
      assertThat(p.session.isClosed()).isTrue();
      assertThat(p.session.closeCause()).hasMessageContaining("internal error");
    }
  }

  @Test
  void localGoAwayResetsStreamsThePeerOpensAfterwards() {
    try (EmbeddedPeer p = new EmbeddedPeer(false, quiet())) {
      p.session.goAway();
      assertThat(p.written()).containsExactly(new YamuxHeader(TYPE_GO_AWAY, 0, 0, 0));
      p.send(syn(1));
      p.send(data(1, 0, 3), new byte[3]);
      assertThat(p.written()).containsExactly(new YamuxHeader(TYPE_WINDOW_UPDATE, FLAG_RST, 1, 0));
      assertThat(p.session.numStreams()).isZero();
    }
  }

  @Test
  void closingTheSessionFailsOpenStreamsPendingOpensAcceptsAndPings() {
    try (EmbeddedPeer p = new EmbeddedPeer(true, quiet().toBuilder().acceptBacklog(1).build())) {
      YamuxStreamChannel open = p.session.openStream(null).join();
      CompletableFuture<YamuxStreamChannel> pending = p.session.openStream(null);
      CompletableFuture<YamuxStreamChannel> accept = p.session.acceptStream();
      CompletableFuture<Duration> ping = p.session.ping();
      p.run();
      var write = open.writeAndFlush(Unpooled.wrappedBuffer(new byte[WINDOW + 1]));
      p.session.close();
      p.run();
      assertThat(p.written()).contains(new YamuxHeader(TYPE_GO_AWAY, 0, 0, 0));
      assertThat(open.closeCause()).isInstanceOf(YamuxSessionClosedException.class);
      assertThat(write.cause()).isInstanceOf(YamuxSessionClosedException.class);
      assertThat(pending).isCompletedExceptionally();
      assertThat(accept).isCompletedExceptionally();
      assertThat(ping).isCompletedExceptionally();
      assertThat(p.session.numStreams()).isZero();
      assertThat(p.channel.isOpen()).isFalse();
    }
  }
}
