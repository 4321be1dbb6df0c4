package dev.goplugin4j.server.internal.serve;

import dev.goplugin4j.protocol.GrpcBroker;
import dev.goplugin4j.protocol.Handshake;
import dev.goplugin4j.protocol.NetAddress;
import dev.goplugin4j.protocol.PluginEnv;
import dev.goplugin4j.protocol.TlsConfig;
import dev.goplugin4j.protocol.internal.broker.BrokerImpl;
import dev.goplugin4j.protocol.internal.broker.Muxer;
import dev.goplugin4j.protocol.internal.broker.YamuxMuxer;
import dev.goplugin4j.protocol.internal.transport.GrpcTransport;
import dev.goplugin4j.protocol.internal.yamux.YamuxConfig;
import dev.goplugin4j.protocol.internal.yamux.YamuxGrpc.YamuxGrpcServer;
import dev.goplugin4j.protocol.internal.yamux.YamuxSession;
import dev.goplugin4j.server.GrpcServerPlugin;
import dev.goplugin4j.server.PluginServeException;
import dev.goplugin4j.server.ServeConfig;
import dev.goplugin4j.server.ServiceRegistrar;
import dev.goplugin4j.server.internal.tls.PluginTls;
import dev.goplugin4j.server.internal.tls.SelfSignedCertificate;
import io.grpc.BindableService;
import io.grpc.ClientInterceptor;
import io.grpc.Server;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.bootstrap.ServerBootstrap;
import io.grpc.netty.shaded.io.netty.channel.Channel;
import io.grpc.netty.shaded.io.netty.channel.ChannelFuture;
import io.grpc.netty.shaded.io.netty.channel.ChannelOption;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollServerSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import java.io.IOException;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.slf4j.Logger;

/**
 * The pieces {@link ServerRuntime#start()} builds before it prints the handshake line, in the
 * order a start needs them: what the host asked for (protocol version, multiplexing), TLS, then
 * the services, the broker, the listeners and the threads. {@link ServerRuntime} keeps the
 * sequence, the state and every resource it releases; these steps make things and hand them back,
 * holding nothing.
 *
 * <p>Stateless; every method may be called from any thread (TLS set-up runs on a thread of its
 * own, beside the rest of a start).
 */
final class ServeSetup {
  private ServeSetup() {}

  // ---------------------------------------------------------------------------------------------
  // what the host asked for

  /** The version to print and whether the host supports it (false: the host will refuse it). */
  record Negotiated(int version, boolean shared) {}

  static Negotiated negotiateVersion(ServeConfig config, Logger log, Map<String, String> env) {
    List<Integer> hostVersions = new ArrayList<>();
    String raw = env.get(PluginEnv.PROTOCOL_VERSIONS);
    if (raw != null && !raw.isEmpty()) {
      for (String s : raw.split(",")) {
        try {
          hostVersions.add(Integer.parseInt(s));
        } catch (NumberFormatException e) {
          log.warn("the host sent an invalid plugin protocol version \"{}\" in {}; ignoring it", s,
              PluginEnv.PROTOCOL_VERSIONS);
        }
      }
    }
    int version = Handshake.negotiate(hostVersions, config.versionedPlugins().keySet());
    boolean shared = hostVersions.isEmpty() || hostVersions.contains(version);
    if (!shared) {
      log.warn(
          "no common protocol version: the host supports {}, this plugin {}; printing version {} so"
              + " that the host can report the mismatch, without listening (the host will not"
              + " connect). Upgrade the plugin or the host",
          hostVersions, config.versionedPlugins().keySet(), version);
    }
    return new Negotiated(version, shared);
  }

  /** Go's {@code strconv.ParseBool}: TRUE, FALSE, or null for anything else (and for null). */
  static Boolean parseGoBool(String s) {
    if (s == null) {
      return null;
    }
    switch (s) {
      case "1", "t", "T", "TRUE", "true", "True":
        return Boolean.TRUE;
      case "0", "f", "F", "FALSE", "false", "False":
        return Boolean.FALSE;
      default:
        return null;
    }
  }

  /**
   * Netty derives channel ids from a MAC address: enumerating interfaces costs start-up time and,
   * in a container without network, logs a warning the host would show. A random machine id
   * serves the same purpose. Only set when the user did not set it.
   */
  static void avoidMacAddressLookup() {
    String property = "io.grpc.netty.shaded.io.netty.machineId";
    if (System.getProperty(property) == null) {
      byte[] id = new byte[8];
      java.util.concurrent.ThreadLocalRandom.current().nextBytes(id);
      id[0] |= 0x02; // locally administered, as a random MAC should be
      StringBuilder sb = new StringBuilder(23);
      for (byte b : id) {
        if (sb.length() > 0) {
          sb.append(':');
        }
        sb.append(Character.forDigit((b >> 4) & 0xf, 16)).append(Character.forDigit(b & 0xf, 16));
      }
      System.setProperty(property, sb.toString());
    }
  }

  // ---------------------------------------------------------------------------------------------
  // TLS

  /** TLS contexts for the server and for dialling the host's brokered services; nulls: plaintext. */
  record TlsSetup(SslContext server, SslContext client, String certField) {}

  /**
   * The provider wins; else AutoMTLS when the host sent its certificate; else plaintext.
   *
   * @param ownCertificate receives the plugin's own AutoMTLS certificate as soon as it exists
   */
  static TlsSetup setUpTls(ServeConfig config, Logger log, Map<String, String> env,
      Consumer<SelfSignedCertificate> ownCertificate) {
    if (!tlsWanted(config, env)) {
      return new TlsSetup(null, null, "");
    }
    if (config.tlsProvider().isPresent()) {
      TlsConfig tls;
      try {
        tls = config.tlsProvider().get().get();
      } catch (RuntimeException e) {
        throw new PluginServeException("the plugin's TLS provider failed: " + e, e);
      }
      if (tls == null) {
        throw new PluginServeException("the plugin's TLS provider returned null");
      }
      return new TlsSetup(PluginTls.server(tls), PluginTls.client(tls), "");
    }
    String hostPem = env.get(PluginEnv.CLIENT_CERT);
    X509Certificate hostCert;
    try {
      hostCert = SelfSignedCertificate.parsePem(hostPem);
    } catch (CertificateException | RuntimeException e) {
      throw new PluginServeException(
          "the host's AutoMTLS certificate in " + PluginEnv.CLIENT_CERT + " cannot be parsed ("
              + e.getMessage() + "); the host must pass one PEM certificate", e);
    }
    log.debug("configuring server automatic mTLS");
    SelfSignedCertificate own = SelfSignedCertificate.generate();
    ownCertificate.accept(own);
    return new TlsSetup(PluginTls.server(own, hostCert), PluginTls.client(own, hostCert), own.base64Der());
  }

  /**
   * Whether the servers get TLS, the one rule {@link #setUpTls} and the main server's early bind
   * both follow: a TLS provider, or the host's AutoMTLS certificate in the environment (a
   * malformed one fails the set-up, not this check).
   */
  static boolean tlsWanted(ServeConfig config, Map<String, String> env) {
    String hostPem = env.get(PluginEnv.CLIENT_CERT);
    return config.tlsProvider().isPresent() || (hostPem != null && !hostPem.isEmpty());
  }

  static TlsSetup joinTls(CompletableFuture<TlsSetup> f) {
    try {
      return f.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new PluginServeException("interrupted while setting up TLS", e);
    } catch (ExecutionException e) {
      Throwable c = e.getCause();
      if (c instanceof PluginServeException pse) {
        throw pse;
      }
      throw new PluginServeException("cannot set up TLS: " + c, c);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // services, broker, listeners, threads

  static List<Object> registerPlugins(
      ServeConfig config, Map<String, GrpcServerPlugin> plugins, GrpcBroker userBroker) {
    Map<String, Object> byName = new LinkedHashMap<>();
    for (Map.Entry<String, GrpcServerPlugin> e : plugins.entrySet()) {
      String pluginName = e.getKey();
      ServiceRegistrar registrar = new ServiceRegistrar() {
        @Override
        public ServiceRegistrar addService(BindableService service) {
          java.util.Objects.requireNonNull(service, "service");
          return add(service.bindService(), service);
        }

        @Override
        public ServiceRegistrar addService(ServerServiceDefinition service) {
          java.util.Objects.requireNonNull(service, "service");
          return add(service, service);
        }

        private ServiceRegistrar add(ServerServiceDefinition def, Object service) {
          String name = def.getServiceDescriptor().getName();
          if (ServerRuntime.RESERVED_SERVICES.contains(name)) {
            throw new IllegalArgumentException(
                "plugin \"" + pluginName + "\" registers " + name + ", which the plugin server"
                    + " provides itself; pick another service name");
          }
          if (byName.containsKey(name)) {
            throw new IllegalArgumentException(
                "plugin \"" + pluginName + "\" registers " + name + ", which another plugin of"
                    + " this server already registered; gRPC service names must be unique");
          }
          List<ServerInterceptor> interceptors = config.interceptors();
          byName.put(name, interceptors.isEmpty() ? def
              : ServerInterceptors.intercept(def, interceptors));
          return this;
        }
      };
      try {
        e.getValue().register(registrar, userBroker);
      } catch (Exception ex) {
        throw new PluginServeException(
            "plugin \"" + pluginName + "\" failed to register its gRPC services: " + ex, ex);
      }
    }
    return new ArrayList<>(byName.values());
  }

  static BrokerImpl newBroker(ServeConfig config, PluginSockets sockets, SslContext serverTls,
      SslContext clientTls, Muxer muxer, BrokerStreamService brokerStream, EventLoopGroup group,
      ScheduledExecutorService timer) {
    BrokerImpl.Listeners listeners = new BrokerImpl.Listeners() {
      @Override
      public NetAddress newAddress() {
        return config.listenOnTcp()
            ? sockets.freeTcpAddress()
            : NetAddress.unix(sockets.newSocketPath().toString());
      }

      @Override
      public void prepare(NetAddress listening) {
        if (NetAddress.UNIX.equals(listening.network())) {
          sockets.applyGroup(Path.of(listening.address()));
        }
      }
    };
    // Addresses pass untranslated: a host's runner translates between its view and ours.
    List<ClientInterceptor> dialInterceptors = config.clientInterceptors();
    return new BrokerImpl(
        brokerStream::send, serverTls, clientTls, listeners, a -> a, a -> a, group, muxer, timer,
        dialInterceptors.isEmpty() ? null : b -> b.intercept(dialInterceptors),
        config.interceptors());
  }

  /** A started gRPC server on {@code address}; {@code customize} adds what every main server gets. */
  static Server startServer(EventLoopGroup group, NetAddress address, SslContext tls,
      List<Object> services, Consumer<NettyServerBuilder> customize) {
    boolean unix = NetAddress.UNIX.equals(address.network());
    NettyServerBuilder b =
        NettyServerBuilder.forAddress(GrpcTransport.socketAddress(address))
            .bossEventLoopGroup(group)
            .workerEventLoopGroup(group)
            .channelType(unix ? EpollServerDomainSocketChannel.class : EpollServerSocketChannel.class);
    if (unix) {
      // grpc sets SO_KEEPALIVE on every accepted channel; Unix sockets do not know it.
      b.withChildOption(ChannelOption.SO_KEEPALIVE, null);
    }
    // sizes, TLS, the services, and no look for an absent grpc-census: as every go-plugin server
    GrpcTransport.configure(b, tls, services);
    customize.accept(b);
    try {
      return b.build().start();
    } catch (IOException e) {
      throw new PluginServeException("cannot listen on " + address + ": " + e.getMessage(), e);
    }
  }

  /**
   * Listens on the socket for the host's one connection and runs the yamux server role on it, as
   * go-plugin's {@code GRPCServerMuxer}: streams the host opens without a knock are gRPC
   * connections to the main server; knocked ones go to brokered servers. Later connections are
   * refused: a go-plugin host makes one.
   */
  static Channel listenMultiplexed(EventLoopGroup group, ExecutorService executor,
      SessionMuxer sessionMuxer, Logger log, Path path, YamuxGrpcServer main) {
    ServerBootstrap b = new ServerBootstrap()
        .group(group)
        .channel(EpollServerDomainSocketChannel.class)
        .childHandler(YamuxSession.initializer(false, YamuxConfig.defaults(), session -> {
          if (!sessionMuxer.attach(new YamuxMuxer(session, group, executor, main::serve))) {
            log.warn("refusing a second connection to the multiplexed plugin socket: the host keeps"
                + " one yamux session per plugin");
            session.close();
          }
        }));
    ChannelFuture f = b.bind(new DomainSocketAddress(path.toString())).awaitUninterruptibly();
    if (!f.isSuccess()) {
      throw new PluginServeException("cannot listen on " + path + ": " + f.cause().getMessage(), f.cause());
    }
    return f.channel();
  }

  /**
   * The executor for gRPC calls: a cached pool of daemon threads that, once shut down, drops late
   * tasks with a DEBUG line instead of throwing. They come from streams torn down with the server
   * (a frame Netty read just before), and a refusal thrown back into an event loop is logged by
   * Netty as a WARN with a long stack trace, on a normal shutdown.
   *
   * @param log where a dropped task is noted, at DEBUG
   * @return a new executor; thread-safe
   */
  static ExecutorService callExecutor(Logger log) {
    return new ThreadPoolExecutor(0, Integer.MAX_VALUE, 60, TimeUnit.SECONDS,
        new SynchronousQueue<>(), daemon("plugin-grpc"), (task, pool) -> {
          if (!pool.isShutdown()) {
            throw new RejectedExecutionException("the plugin's gRPC executor refused a task");
          }
          log.debug("dropped a gRPC task that arrived after shutdown: {}", task);
        });
  }

  static ThreadFactory daemon(String prefix) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }
}
