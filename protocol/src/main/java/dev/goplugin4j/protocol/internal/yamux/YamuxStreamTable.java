package dev.goplugin4j.protocol.internal.yamux;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The streams of a {@link YamuxSession}: the table of live streams by id, and how a stream enters
 * and leaves it.
 *
 * <ul>
 *   <li>Opening ours: ids of our parity in order (odd for the client, even for the server); at
 *       most {@link YamuxConfig#acceptBacklog()} SYNs wait for the peer's answer, later opens
 *       queue and go out as answers come; an open not answered within {@link
 *       YamuxConfig#streamOpenTimeout()} closes the session.
 *   <li>Accepting the peer's: a SYN makes an inbound stream, handed (ACKed by its first window
 *       update) to the acceptor callback or to a waiting {@link YamuxSession#acceptStream()}, or
 *       queued in a backlog of {@link YamuxConfig#acceptBacklog()}; beyond it, or after our
 *       GoAway, the stream is reset.
 *   <li>Closing: a closed stream channel finishes gracefully (the rest of its data, then FIN) and
 *       is reset if the peer does not finish within {@link YamuxConfig#streamCloseTimeout()}; a
 *       stream leaves the table once both sides sent FIN, or on RST.
 *   <li>The session's close: every stream, queued open, queued accept and waiting {@code
 *       acceptStream()} fails with the session's exception.
 * </ul>
 *
 * <p>Not thread-safe: confined to the connection's event loop ({@link #accept()} and {@link
 * #acceptWith} hop onto it), except {@link #count()}, which any thread may read.
 */
final class YamuxStreamTable {
  private static final Logger LOG = LoggerFactory.getLogger(YamuxSession.class);
  /** The largest stream id, also the largest window: both are unsigned 32-bit. */
  static final long MAX_STREAM_ID = 0xFFFF_FFFFL;

  private final YamuxSession session;
  private final YamuxConfig config;
  private final Map<Integer, YamuxStreamChannel> streams = new HashMap<>();
  private long nextStreamId;
  /** Our streams whose SYN is sent and not answered yet. */
  private int inflightSyns;
  /** Our streams waiting for fewer SYNs in flight, not given an id yet. */
  private final ArrayDeque<YamuxStreamChannel> pendingOpens = new ArrayDeque<>();
  /** The peer's streams waiting to be accepted. */
  private final ArrayDeque<YamuxStreamChannel> acceptQueue = new ArrayDeque<>();
  private final ArrayDeque<CompletableFuture<YamuxStreamChannel>> acceptWaiters = new ArrayDeque<>();
  private Consumer<YamuxStreamChannel> acceptor;
  private volatile int count;

  YamuxStreamTable(YamuxSession session) {
    this.session = session;
    this.config = session.config();
    this.nextStreamId = session.isClient() ? 1 : 2;
  }

  /** The live stream with {@code id}, or null. */
  YamuxStreamChannel get(int id) {
    return streams.get(id);
  }

  /** As {@link YamuxSession#numStreams()}. */
  int count() {
    return count;
  }

  // ---------------------------------------------------------------- our streams

  /** Opens {@code s} (from its connect): assigns an id and sends SYN, or queues it. */
  void open(YamuxStreamChannel s) {
    if (session.closed) {
      s.openFailed(session.closedException());
      return;
    }
    if (session.remoteGoAway) {
      s.openFailed(
          new YamuxException(
              "yamux peer is not accepting streams (it sent GoAway); open a new session"));
      return;
    }
    if (inflightSyns >= config.acceptBacklog()) {
      pendingOpens.add(s);
      return;
    }
    if (nextStreamId >= MAX_STREAM_ID - 1) {
      s.openFailed(new YamuxException("yamux stream ids exhausted; open a new session"));
      return;
    }
    int id = (int) nextStreamId;
    nextStreamId += 2;
    s.assignId(id);
    streams.put(id, s);
    count = streams.size();
    inflightSyns++;
    s.synSent = true;
    long delta = config.maxStreamWindowSize() - s.recvWindow;
    s.recvWindow += delta;
    session.out.writeControl(YamuxHeader.TYPE_WINDOW_UPDATE, YamuxHeader.FLAG_SYN, id, (int) delta);
    if (!config.streamOpenTimeout().isZero()) {
      s.openTimer =
          session.eventLoop().schedule(
              () -> {
                if (!s.established && !s.removed) {
                  session.terminate(
                      new YamuxTimeoutException(
                          "yamux stream "
                              + s.streamIdString()
                              + " not acknowledged by the peer within "
                              + config.streamOpenTimeout()
                              + "; closing the session"),
                      YamuxHeader.GO_AWAY_NORMAL);
                }
              },
              config.streamOpenTimeout().toNanos(),
              TimeUnit.NANOSECONDS);
    }
    s.opened();
  }

  /** The peer answered our stream {@code s}: its SYN no longer counts against the backlog. */
  void established(YamuxStreamChannel s) {
    s.established = true;
    inflightSyns--;
    if (s.openTimer != null) {
      s.openTimer.cancel(false);
      s.openTimer = null;
    }
    openPending();
  }

  private void openPending() {
    while (!session.closed && inflightSyns < config.acceptBacklog() && !pendingOpens.isEmpty()) {
      YamuxStreamChannel s = pendingOpens.poll();
      if (s.isOpen()) {
        open(s);
      }
    }
  }

  /** The peer sent GoAway (normal): our opens still queued fail. */
  void refusePendingOpens() {
    YamuxStreamChannel s;
    while ((s = pendingOpens.poll()) != null) {
      s.openFailed(new YamuxException("yamux peer is not accepting streams (it sent GoAway)"));
    }
  }

  // ---------------------------------------------------------------- the peer's streams

  /** A SYN from the peer: a new inbound stream, accepted, queued, or reset. */
  void incoming(int id) {
    boolean client = session.isClient();
    if (id == 0 || ((id & 1) == 1) != !client) {
      throw new YamuxProtocolException(
          "yamux protocol error: the peer opened stream "
              + Integer.toUnsignedString(id)
              + ", an id reserved for "
              + (id == 0 ? "the session" : "our side")
              + " (the "
              + (client ? "server" : "client")
              + " must use "
              + (client ? "even" : "odd")
              + " ids); both sides may be configured as "
              + (client ? "client" : "server"));
    }
    if (session.localGoAway) {
      session.out.writeControl(YamuxHeader.TYPE_WINDOW_UPDATE, YamuxHeader.FLAG_RST, id, 0);
      return;
    }
    if (streams.containsKey(id)) {
      throw new YamuxProtocolException(
          "yamux protocol error: the peer opened stream " + Integer.toUnsignedString(id) + " twice");
    }
    YamuxStreamChannel s = new YamuxStreamChannel(session, id);
    if (acceptor == null
        && acceptWaiters.isEmpty()
        && acceptQueue.size() >= config.acceptBacklog()) {
      LOG.warn("yamux {}: accept backlog ({}) full, resetting new stream {}", session.name(),
          config.acceptBacklog(), s.streamIdString());
      session.out.writeControl(YamuxHeader.TYPE_WINDOW_UPDATE, YamuxHeader.FLAG_RST, id, 0);
      return;
    }
    streams.put(id, s);
    count = streams.size();
    if (acceptor != null) {
      handOut(s);
      deliverToAcceptor(s);
      return;
    }
    CompletableFuture<YamuxStreamChannel> waiter;
    while ((waiter = acceptWaiters.poll()) != null) {
      if (!waiter.isDone()) {
        handOut(s);
        waiter.complete(s);
        return;
      }
    }
    acceptQueue.add(s);
  }

  /** As {@link YamuxSession#acceptStream()}: may be called from any thread. */
  CompletableFuture<YamuxStreamChannel> accept() {
    CompletableFuture<YamuxStreamChannel> f = new CompletableFuture<>();
    session.inLoop(
        () -> {
          if (session.closed) {
            f.completeExceptionally(session.closedException());
            return;
          }
          if (acceptor != null) {
            f.completeExceptionally(new IllegalStateException("streams are given to an acceptor callback"));
            return;
          }
          YamuxStreamChannel s = acceptQueue.poll();
          if (s != null) {
            handOut(s);
            f.complete(s);
          } else {
            acceptWaiters.add(f);
          }
        });
    return f;
  }

  /** As {@link YamuxSession#acceptStreams}: may be called from any thread. */
  void acceptWith(Consumer<YamuxStreamChannel> acceptor) {
    session.inLoop(
        () -> {
          this.acceptor = acceptor;
          YamuxStreamChannel s;
          while ((s = acceptQueue.poll()) != null) {
            handOut(s);
            deliverToAcceptor(s);
          }
        });
  }

  private void handOut(YamuxStreamChannel s) {
    // ACK with the window we grant.
    session.out.consumed(s, 0);
  }

  private void deliverToAcceptor(YamuxStreamChannel s) {
    try {
      acceptor.accept(s);
    } catch (RuntimeException e) {
      LOG.warn("yamux {}: stream acceptor failed, resetting stream {}", session.name(), s.streamIdString(), e);
      reset(s);
      s.onReset(new YamuxStreamResetException("stream acceptor failed: " + e.getMessage(), e), s.voidPromise());
    }
  }

  // ---------------------------------------------------------------- closing

  /** The stream's channel closed: finish gracefully (rest of data, FIN) or forget it. */
  void channelClosed(YamuxStreamChannel s) {
    if (s.streamId() == 0) {
      pendingOpens.remove(s);
      s.failWrites(new java.nio.channels.ClosedChannelException());
      return;
    }
    if (s.removed || s.reset || session.closed) {
      s.failWrites(closedOrReset(s));
      return;
    }
    if (!s.finPending && !s.finSent) {
      s.finPending = true;
    }
    session.out.drain(s);
    if (!s.removed && !config.streamCloseTimeout().isZero() && s.closeTimer == null) {
      s.closeTimer =
          session.eventLoop().schedule(
              () -> {
                if (!s.removed) {
                  LOG.debug("yamux {} stream {}: close timeout, resetting", session.name(), s.streamIdString());
                  reset(s);
                  s.failWrites(new YamuxStreamResetException("yamux stream " + s.streamIdString()
                      + " reset: the peer did not finish it within " + config.streamCloseTimeout()));
                }
              },
              config.streamCloseTimeout().toNanos(),
              TimeUnit.NANOSECONDS);
    }
    // Data already buffered for the closed channel is gone: give its window back.
    session.out.consumed(s, 0);
  }

  /** Sends RST for {@code s} and forgets it. */
  void reset(YamuxStreamChannel s) {
    s.reset = true;
    if (!session.closed && !s.removed) {
      session.out.writeControl(YamuxHeader.TYPE_WINDOW_UPDATE, YamuxHeader.FLAG_RST, s.streamId(), 0);
    }
    remove(s);
  }

  private static Throwable closedOrReset(YamuxStreamChannel s) {
    Throwable c = s.closeCause();
    return c != null ? c : new java.nio.channels.ClosedChannelException();
  }

  /** {@code s} is done (FIN both ways, RST, or refused): it leaves the table and its timers stop. */
  void remove(YamuxStreamChannel s) {
    if (s.removed) {
      return;
    }
    s.removed = true;
    streams.remove(s.streamId());
    count = streams.size();
    session.out.forget(s);
    acceptQueue.remove(s);
    if (s.openTimer != null) {
      s.openTimer.cancel(false);
      s.openTimer = null;
    }
    if (s.closeTimer != null) {
      s.closeTimer.cancel(false);
      s.closeTimer = null;
    }
    if (!s.inbound && !s.established) {
      inflightSyns--;
      openPending();
    }
  }

  /** The session closed: every stream, queued open and accept fails with {@code ex}. */
  void closeAll(YamuxSessionClosedException ex) {
    List<YamuxStreamChannel> all = new ArrayList<>(streams.values());
    streams.clear();
    count = 0;
    for (YamuxStreamChannel s : all) {
      cancelTimers(s);
      s.onSessionClosed(ex);
    }
    YamuxStreamChannel s;
    while ((s = pendingOpens.poll()) != null) {
      s.onSessionClosed(ex);
    }
    while ((s = acceptQueue.poll()) != null) {
      s.onSessionClosed(ex);
    }
    CompletableFuture<YamuxStreamChannel> w;
    while ((w = acceptWaiters.poll()) != null) {
      w.completeExceptionally(ex);
    }
  }

  private static void cancelTimers(YamuxStreamChannel s) {
    if (s.openTimer != null) {
      s.openTimer.cancel(false);
    }
    if (s.closeTimer != null) {
      s.closeTimer.cancel(false);
    }
  }
}
