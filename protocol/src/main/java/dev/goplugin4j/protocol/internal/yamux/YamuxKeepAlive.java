package dev.goplugin4j.protocol.internal.yamux;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The Ping frames of a {@link YamuxSession}: round-trip measurement ({@link YamuxSession#ping()}),
 * the keepalive that pings every {@link YamuxConfig#keepAliveInterval()} and closes the session
 * when a ping goes unanswered, and the answers to the peer's pings. A ping not answered within
 * {@link YamuxConfig#connectionWriteTimeout()} fails with {@link YamuxTimeoutException}; the
 * session's close fails the ones still waiting.
 *
 * <p>Not thread-safe: confined to the connection's event loop ({@link #ping()} hops onto it). The
 * session starts the keepalive once its handler is in the pipeline and stops it when it closes.
 */
final class YamuxKeepAlive {
  private final YamuxSession session;
  private final YamuxConfig config;
  /** Our pings waiting for their answer, by the opaque value they carry. */
  private final Map<Integer, PendingPing> pings = new HashMap<>();
  private int nextPingId;
  private ScheduledFuture<?> keepAliveTask;

  private record PendingPing(
      CompletableFuture<Duration> future, long startNanos, ScheduledFuture<?> timeout) {}

  YamuxKeepAlive(YamuxSession session) {
    this.session = session;
    this.config = session.config();
  }

  /** As {@link YamuxSession#ping()}: may be called from any thread. */
  CompletableFuture<Duration> ping() {
    CompletableFuture<Duration> f = new CompletableFuture<>();
    session.inLoop(
        () -> {
          if (session.closed) {
            f.completeExceptionally(session.closedException());
            return;
          }
          int id = nextPingId++;
          ScheduledFuture<?> timeout =
              session.eventLoop().schedule(
                  () -> {
                    PendingPing p = pings.remove(id);
                    if (p != null) {
                      p.future()
                          .completeExceptionally(
                              new YamuxTimeoutException(
                                  "yamux ping not answered within "
                                      + config.connectionWriteTimeout()
                                      + "; the peer is stuck or the connection is broken"));
                    }
                  },
                  config.connectionWriteTimeout().toNanos(),
                  TimeUnit.NANOSECONDS);
          pings.put(id, new PendingPing(f, System.nanoTime(), timeout));
          session.out.writeControl(YamuxHeader.TYPE_PING, YamuxHeader.FLAG_SYN, 0, id);
        });
    return f;
  }

  /** A Ping frame from the peer: answer its SYN, or complete our ping its ACK answers. */
  void onPing(YamuxHeader h) {
    if (h.has(YamuxHeader.FLAG_SYN)) {
      session.out.writeControl(YamuxHeader.TYPE_PING, YamuxHeader.FLAG_ACK, 0, h.length());
      return;
    }
    PendingPing p = pings.remove(h.length());
    if (p != null) {
      p.timeout().cancel(false);
      p.future().complete(Duration.ofNanos(System.nanoTime() - p.startNanos()));
    }
  }

  /** Schedules the next keepalive ping, if keepalive is on and the session open. */
  void start() {
    if (!config.keepAliveEnabled() || session.closed) {
      return;
    }
    keepAliveTask =
        session.eventLoop().schedule(
            () ->
                ping()
                    .whenComplete(
                        (rtt, e) -> {
                          if (e == null) {
                            start();
                          } else if (e instanceof YamuxTimeoutException) {
                            session.inLoop(
                                () ->
                                    session.terminate(
                                        new YamuxTimeoutException(
                                            "yamux keepalive failed: " + e.getMessage(), e),
                                        -1));
                          }
                        }),
            config.keepAliveInterval().toNanos(),
            TimeUnit.NANOSECONDS);
  }

  /** The session is closing: no more keepalive pings. */
  void stop() {
    if (keepAliveTask != null) {
      keepAliveTask.cancel(false);
    }
  }

  /** The session closed: fails every ping still waiting for its answer with {@code ex}. */
  void failPending(YamuxSessionClosedException ex) {
    for (PendingPing p : pings.values()) {
      p.timeout().cancel(false);
      p.future().completeExceptionally(ex);
    }
    pings.clear();
  }
}
