package dev.goplugin4j.server.internal.serve;

import dev.goplugin4j.protocol.GrpcBroker;
import dev.goplugin4j.protocol.PluginException;
import dev.goplugin4j.protocol.internal.broker.Muxer;
import dev.goplugin4j.protocol.internal.broker.YamuxMuxer;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import java.util.List;
import java.util.function.Consumer;
import org.slf4j.Logger;

/**
 * The plugin's {@link Muxer} before and after the host connects: the broker exists from the start,
 * the yamux session only once the host dialled the plugin's socket. Delegates to the session's
 * {@link YamuxMuxer}; the first session is the only one. Thread-safe.
 */
final class SessionMuxer implements Muxer, AutoCloseable {
  private final Logger log;
  private YamuxMuxer muxer;
  private boolean closed;

  SessionMuxer(Logger log) {
    this.log = log;
  }

  /** Takes the host's session; false if there already is one (or we are closed). */
  synchronized boolean attach(YamuxMuxer m) {
    if (muxer != null || closed) {
      return false;
    }
    muxer = m;
    m.session().closeFuture().thenRun(() -> log.debug("the host's yamux session ended"));
    return true;
  }

  private synchronized YamuxMuxer muxer() {
    if (muxer == null) {
      throw new PluginException(
          "the host has not connected to the plugin's multiplexed socket yet; brokered connections"
              + " need its yamux session");
    }
    return muxer;
  }

  @Override
  public GrpcBroker.BrokeredServer serve(int id, List<?> services, SslContext tls) {
    return muxer().serve(id, services, tls);
  }

  @Override
  public synchronized String acceptKnock(int id) {
    return muxer == null ? "no multiplexed session for id " + id : muxer.acceptKnock(id);
  }

  @Override
  public ManagedChannel dial(int id, Runnable knock, SslContext tls) {
    return muxer().dial(id, knock, tls);
  }

  @Override
  public ManagedChannel dial(
      int id, Runnable knock, SslContext tls, Consumer<NettyChannelBuilder> customizer) {
    return muxer().dial(id, knock, tls, customizer);
  }

  /** Closes the session, if any; idempotent. */
  @Override
  public void close() {
    YamuxMuxer m;
    synchronized (this) {
      closed = true;
      m = muxer;
    }
    if (m != null) {
      m.close();
    }
  }
}
