package dev.goplugin4j.protocol.internal.broker;

import dev.goplugin4j.protocol.GrpcBroker;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.util.List;
import java.util.function.Consumer;

/**
 * The multiplexed broker's transport (go-plugin's {@code grpcmux.GRPCMuxer}): brokered
 * connections are new streams on the one yamux session instead of new sockets. The knock
 * exchange itself is run by {@link BrokerImpl}; a muxer only routes streams.
 */
public interface Muxer {
  /**
   * Serves {@code services} on streams routed to {@code id}.
   *
   * @return a handle whose close stops the server and unregisters the id
   */
  GrpcBroker.BrokeredServer serve(int id, List<?> services, SslContext tls);

  /**
   * Starts a server for the next {@link #serve} with {@code tls} ahead, off the caller's thread
   * (see {@link BrokerImpl#startSpare()}); the default does nothing.
   */
  default void startSpare(SslContext tls) {}

  /**
   * The other side knocked for {@code id}: arrange that the next stream it opens goes to the
   * server registered for {@code id}.
   *
   * @return null on success, else the error text to send back (e.g. "no listener for id 7")
   */
  String acceptKnock(int id);

  /**
   * A channel to the other side's service {@code id}; every connection attempt first runs {@code
   * knock} (which throws when the other side refuses or does not answer) and then opens a new
   * stream.
   */
  ManagedChannel dial(int id, Runnable knock, SslContext tls);

  /**
   * As {@link #dial(int, Runnable, SslContext)}, with {@code customizer} applied to the channel's
   * builder after the transport and TLS settings. The default accepts only a null customizer
   * (muxers that cannot apply one must not drop it silently).
   *
   * @throws UnsupportedOperationException if {@code customizer} is not null and this muxer does not
   *     support customizers
   */
  default ManagedChannel dial(
      int id, Runnable knock, SslContext tls, Consumer<NettyChannelBuilder> customizer) {
    if (customizer != null) {
      throw new UnsupportedOperationException(
          getClass().getName() + " cannot apply a channel customizer to brokered channels");
    }
    return dial(id, knock, tls);
  }
}
