package dev.goplugin4j.protocol.internal.broker;

import dev.goplugin4j.protocol.NetAddress;
import dev.goplugin4j.protocol.PluginException;
import dev.goplugin4j.protocol.internal.transport.GrpcTransport;
import io.grpc.BindableService;
import io.grpc.HandlerRegistry;
import io.grpc.ServerMethodDefinition;
import io.grpc.Server;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.ChannelOption;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollServerSocketChannel;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A started brokered gRPC server (classic or multiplexed) whose services are given after it
 * starts: the broker keeps one ready, so building, starting and binding a server is not on the
 * path of the call that serves an id. The services go into a {@link Registry} the
 * server falls back to (its own registry is empty), before the address is announced or a knock
 * acked, so the peer cannot reach the server before they are there.
 *
 * @param server the started server (null for a multiplexed one, see {@code yamux})
 * @param yamux the started multiplexed server, or null for a classic one
 * @param address where a classic server listens, or null
 * @param registry where its services go
 */
record IdleServer(
    Server server,
    dev.goplugin4j.protocol.internal.yamux.YamuxGrpc.YamuxGrpcServer yamux,
    NetAddress address,
    Registry registry) {

  /**
   * Starts a classic server listening on {@code address} with no services yet: the same settings
   * as {@link GrpcTransport#server} (max inbound sizes 2^31-1, TLS when given, no SO_KEEPALIVE on
   * Unix sockets).
   */
  static IdleServer listen(NetAddress address, SslContext tls, EventLoopGroup group) {
    boolean unix = NetAddress.UNIX.equals(address.network());
    Registry registry = new Registry();
    // one loop accepts and runs the connection: no hand-over to another loop per connection
    EventLoopGroup loop = group.next();
    NettyServerBuilder b =
        NettyServerBuilder.forAddress(GrpcTransport.socketAddress(address))
            .bossEventLoopGroup(loop)
            .workerEventLoopGroup(loop)
            .channelType(unix ? EpollServerDomainSocketChannel.class : EpollServerSocketChannel.class)
            .fallbackHandlerRegistry(registry);
    if (unix) {
      // grpc sets SO_KEEPALIVE on every accepted channel; Unix sockets do not know it.
      b.withChildOption(ChannelOption.SO_KEEPALIVE, null);
    }
    GrpcTransport.configure(b, tls, List.of());
    try {
      return new IdleServer(b.build().start(), null, address, registry);
    } catch (IOException e) {
      throw new PluginException("cannot listen on " + address + ": " + e.getMessage(), e);
    }
  }

  /** Starts a multiplexed server (fed streams by id) with no services yet. */
  static IdleServer yamux(EventLoopGroup group, SslContext tls) {
    Registry registry = new Registry();
    return new IdleServer(null,
        dev.goplugin4j.protocol.internal.yamux.YamuxGrpc.server(
            group, tls, List.of(), b -> b.fallbackHandlerRegistry(registry)),
        null, registry);
  }

  /**
   * Service definitions for {@code services}, each wrapped in {@code interceptors} (none: as
   * given).
   *
   * @throws IllegalArgumentException if one is neither a {@link BindableService} nor a {@link
   *     ServerServiceDefinition}
   */
  static List<ServerServiceDefinition> definitions(
      List<?> services, List<ServerInterceptor> interceptors) {
    List<ServerServiceDefinition> out = new ArrayList<>(services.size());
    for (Object s : services) {
      ServerServiceDefinition d;
      if (s instanceof BindableService bs) {
        d = bs.bindService();
      } else if (s instanceof ServerServiceDefinition def) {
        d = def;
      } else {
        throw new IllegalArgumentException(
            "service must be a BindableService or ServerServiceDefinition: " + s);
      }
      out.add(interceptors.isEmpty() ? d : ServerInterceptors.intercept(d, interceptors));
    }
    return out;
  }

  /**
   * Adds the services, once (a later one of the same name replaces an earlier one, as a server
   * builder does).
   */
  void serve(List<ServerServiceDefinition> services) {
    registry.add(services);
  }

  /** The services a server falls back to: methods by full name, filled once. Thread-safe. */
  static final class Registry extends HandlerRegistry {
    private final Map<String, ServerMethodDefinition<?, ?>> methods = new ConcurrentHashMap<>();
    private volatile List<ServerServiceDefinition> services = List.of();

    void add(List<ServerServiceDefinition> added) {
      Map<String, ServerServiceDefinition> byName = new LinkedHashMap<>();
      for (ServerServiceDefinition d : added) {
        byName.put(d.getServiceDescriptor().getName(), d);
      }
      for (ServerServiceDefinition d : byName.values()) {
        for (ServerMethodDefinition<?, ?> m : d.getMethods()) {
          methods.put(m.getMethodDescriptor().getFullMethodName(), m);
        }
      }
      services = List.copyOf(byName.values());
    }

    /** Removes every service: calls that arrive later fail with UNIMPLEMENTED. */
    void clear() {
      services = List.of();
      methods.clear();
    }

    @Override
    public List<ServerServiceDefinition> getServices() {
      return services;
    }

    @Override
    public ServerMethodDefinition<?, ?> lookupMethod(String methodName, String authority) {
      return methods.get(methodName);
    }
  }
}
