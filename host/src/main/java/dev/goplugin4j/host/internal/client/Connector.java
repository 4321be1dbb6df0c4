package dev.goplugin4j.host.internal.client;

import dev.goplugin4j.host.AttachedRunner;
import dev.goplugin4j.host.PluginChannel;
import dev.goplugin4j.host.PluginClient;
import dev.goplugin4j.host.PluginStartException;
import dev.goplugin4j.protocol.AutoMtlsCertificate;
import dev.goplugin4j.protocol.NetAddress;
import dev.goplugin4j.protocol.internal.broker.YamuxMuxer;
import dev.goplugin4j.protocol.internal.tls.TlsContexts;
import dev.goplugin4j.protocol.internal.transport.GrpcTransport;
import dev.goplugin4j.protocol.internal.yamux.YamuxConfig;
import dev.goplugin4j.protocol.internal.yamux.YamuxSession;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Connection phase of a start: the TLS contexts (configured material or AutoMTLS), the yamux
 * muxer when the broker is multiplexed, the channel tuning, and the wait that proves the plugin's
 * gRPC server reachable (the channel READY; a health check when it is not, or on reattach).
 */
final class Connector {
  // the session's logger: tests and users read these lines under PluginClient
  private static final Logger log = LoggerFactory.getLogger(PluginClient.class);

  /**
   * The client side's TLS context (null for plaintext) and the server side's, built meanwhile
   * on the gRPC executor: the broker first needs it after the health check.
   */
  record Tls(SslContext client, CompletableFuture<SslContext> serverBuilt) {
    /** The server side's context (null for plaintext), waiting for it if need be. */
    SslContext server() {
      try {
        return serverBuilt.join();
      } catch (java.util.concurrent.CompletionException e) {
        if (e.getCause() instanceof RuntimeException re) {
          throw re;
        }
        throw e;
      }
    }
  }

  private final PluginClient.Config config;
  private final String name;
  private final NetAddress address;
  private final EventLoopGroup group;
  private final ExecutorService grpcExecutor;
  private final FailureDiagnosis diagnosis;

  Connector(PluginClient.Config config, String name, NetAddress address, EventLoopGroup group,
      ExecutorService grpcExecutor, FailureDiagnosis diagnosis) {
    this.config = config;
    this.name = name;
    this.address = address;
    this.group = group;
    this.grpcExecutor = grpcExecutor;
    this.diagnosis = diagnosis;
  }

  /**
   * The TLS contexts: the configured material, else AutoMTLS when both certificates are known,
   * else plaintext.
   */
  Tls tls(AutoMtlsCertificate hostCert, X509Certificate pluginCert) {
    SslContext clientTls = null;
    // The broker's server side is first needed after the health check: build it meanwhile.
    CompletableFuture<SslContext> serverTlsBuilt = CompletableFuture.completedFuture(null);
    if (config.tls() != null) {
      serverTlsBuilt = CompletableFuture.supplyAsync(() -> TlsContexts.server(config.tls()),
          grpcExecutor);
      clientTls = TlsContexts.client(config.tls());
    } else if (hostCert != null && pluginCert != null) {
      AutoMtlsCertificate own = hostCert;
      X509Certificate peer = pluginCert;
      serverTlsBuilt = CompletableFuture.supplyAsync(() -> TlsContexts.server(own, peer),
          grpcExecutor);
      clientTls = TlsContexts.client(hostCert, pluginCert);
    }
    return new Tls(clientTls, serverTlsBuilt);
  }

  /**
   * The tuning of every channel to the plugin: our executor, the application's interceptors (with
   * the {@link PluginChannel} call option), then the application's customizer. Its {@link
   * Tuning#brokered()} variant is for the channels the broker dials.
   */
  Consumer<NettyChannelBuilder> tune() {
    return new Tuning(config, name, grpcExecutor, false);
  }

  /**
   * A channel tuning; main channel or brokered ones: our executor, an on-ready threshold of
   * {@link GrpcTransport#ON_READY_THRESHOLD} for calls that set none, the application's
   * interceptors, then its customizer.
   */
  static final class Tuning implements Consumer<NettyChannelBuilder> {
    private final PluginClient.Config config;
    private final String name;
    private final ExecutorService exec;
    private final boolean brokered;

    Tuning(PluginClient.Config config, String name, ExecutorService exec, boolean brokered) {
      this.config = config;
      this.name = name;
      this.exec = exec;
      this.brokered = brokered;
    }

    /** The same tuning for channels dialled through the broker. */
    Tuning brokered() {
      return new Tuning(config, name, exec, true);
    }

    @Override
    public void accept(NettyChannelBuilder b) {
      b.executor(exec);
      // installed first, so it runs last: a threshold set by a stub or by the application's
      // interceptors below is kept
      b.intercept(GrpcTransport.defaultOnReadyThreshold());
      List<ClientInterceptor> interceptors = config.interceptors();
      if (!interceptors.isEmpty()) {
        b.intercept(interceptors);
        // added last, so it runs first: the application's interceptors see the option
        PluginChannel channel = new PluginChannel(name, config.runnerKind(), brokered);
        b.intercept(new ClientInterceptor() {
          @Override
          public <Q, A> ClientCall<Q, A> interceptCall(
              MethodDescriptor<Q, A> method, CallOptions options, Channel next) {
            return next.newCall(method, options.withOption(PluginChannel.CALL_OPTION, channel));
          }
        });
      }
      var customizer = config.channelCustomizer();
      if (customizer != null) {
        customizer.accept(b);
      }
    }
  }

  /** Dials the plugin's socket once and runs the yamux client role over it. */
  YamuxMuxer connectMuxer(long deadline, AttachedRunner r) {
    YamuxSession session;
    try {
      // Unix socket, or TCP where a runner bridges to the plugin (a remote runner).
      session = YamuxSession.connect(address, group, YamuxConfig.defaults())
          .get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
    } catch (TimeoutException e) {
      throw new PluginStartException(diagnosis.failure(
          "timeout while waiting for plugin to start: cannot open the multiplexed connection to "
              + address + " in time", r));
    } catch (ExecutionException e) {
      throw new PluginStartException(diagnosis.failure(
          "cannot open the multiplexed connection to " + address + ": " + e.getCause().getMessage(), r),
          e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new PluginStartException(diagnosis.failure("interrupted while connecting to the plugin", r), e);
    }
    return new YamuxMuxer(session, group, grpcExecutor, null);
  }

  /**
   * Waits until the plugin's gRPC server is reachable on {@code channel}, within the deadline: the
   * channel READY (connected, TLS handshook, the server's HTTP/2 settings read). That is what
   * go-plugin's own host trusts before the first call (it makes no health RPC), and it saves a
   * warm host's start an RPC whose code runs interpreted on a path taken once per start. When the
   * channel fails instead, or is not READY by the deadline, the {@link #healthCheck health check}
   * runs: its failure tells why (a TLS mismatch, an exit, a timeout), as before, or its retries
   * find a plugin that was not serving yet.
   *
   * @return true when the channel became READY; false when the health check answered instead,
   *     on a connection other than the first
   */
  boolean awaitReachable(ManagedChannel channel, long deadline, AttachedRunner r) {
    if (awaitReady(channel, deadline)) {
      return true;
    }
    healthCheck(channel, deadline, r);
    return false;
  }

  /**
   * Whether the channel became READY by the deadline; false at its first failure
   * (TRANSIENT_FAILURE), shutdown or the deadline.
   */
  private static boolean awaitReady(ManagedChannel channel, long deadline) {
    CompletableFuture<ConnectivityState> settled = new CompletableFuture<>();
    watch(channel, channel.getState(true), settled);
    try {
      return settled.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)
          == ConnectivityState.READY;
    } catch (TimeoutException | ExecutionException e) {
      return false;
    } catch (InterruptedException e) {
      // the health check that follows sees the interrupt and says so
      Thread.currentThread().interrupt();
      return false;
    }
  }

  private static void watch(ManagedChannel channel, ConnectivityState state,
      CompletableFuture<ConnectivityState> settled) {
    if (state == ConnectivityState.READY || state == ConnectivityState.TRANSIENT_FAILURE
        || state == ConnectivityState.SHUTDOWN) {
      settled.complete(state);
      return;
    }
    if (state == ConnectivityState.IDLE) {
      state = channel.getState(true);
      if (state != ConnectivityState.IDLE) {
        watch(channel, state, settled);
        return;
      }
    }
    ConnectivityState seen = state;
    channel.notifyWhenStateChanged(seen, () -> {
      if (!settled.isDone()) {
        watch(channel, channel.getState(false), settled);
      }
    });
  }

  /** Waits until the plugin's gRPC server answers SERVING on {@code channel}, within the deadline. */
  void healthCheck(ManagedChannel channel, long deadline, AttachedRunner r) {
    // Not waitForReady: it would hide why the connection fails (a TLS mismatch looked like a
    // start timeout). Retry UNAVAILABLE while the plugin may still be coming up; stop at once on
    // a TLS failure or when the plugin is gone.
    StatusRuntimeException last = null;
    while (true) {
      long remaining = deadline - System.nanoTime();
      if (remaining <= 0) {
        throw new PluginStartException(diagnosis.failure(
            "timeout while waiting for plugin to start: it handshook but its gRPC server at "
                + address + " did not answer a health check in time"
                + (last == null ? "" : "; last error: " + describe(last)), r), last);
      }
      try {
        HealthCheckResponse resp =
            HealthGrpc.newBlockingStub(channel)
                .withDeadlineAfter(Math.min(remaining, TimeUnit.SECONDS.toNanos(5)), TimeUnit.NANOSECONDS)
                .check(HealthCheckRequest.newBuilder().setService("plugin").build());
        if (resp.getStatus() != HealthCheckResponse.ServingStatus.SERVING) {
          throw new PluginStartException(diagnosis.failure(
              "the plugin at " + address + " reports health " + resp.getStatus() + ", not SERVING", r));
        }
        return;
      } catch (StatusRuntimeException e) {
        last = e;
        if (e.getStatus().getCode() != Status.Code.UNAVAILABLE
            && e.getStatus().getCode() != Status.Code.DEADLINE_EXCEEDED) {
          throw new PluginStartException(diagnosis.failure(
              "the plugin's gRPC server at " + address + " failed its health check: " + describe(e), r), e);
        }
        if (isTlsFailure(e)) {
          throw new PluginStartException(diagnosis.failure(
              "cannot reach the plugin's gRPC server at " + address + ": the TLS handshake failed ("
                  + describe(e) + "). Check that both sides use AutoMTLS, or TLS material that"
                  + " trusts the other side's certificate", r), e);
        }
        if (r.onExit().isDone()) {
          throw new PluginStartException(diagnosis.failure(
              "plugin exited before we could connect (exit status " + r.onExit().getNow(null) + ")", r), e);
        }
        log.debug("health check of plugin {} at {} not answered yet, retrying: {}", name, address,
            describe(e));
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new PluginStartException(diagnosis.failure("interrupted while connecting to the plugin", r), e);
      }
    }
  }

  private static boolean isTlsFailure(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof javax.net.ssl.SSLException) {
        return true;
      }
    }
    return false;
  }

  private static String describe(StatusRuntimeException e) {
    Throwable root = e;
    while (root.getCause() != null) {
      root = root.getCause();
    }
    return e.getStatus().getCode() + (e.getStatus().getDescription() == null ? "" : ": " + e.getStatus().getDescription())
        + (root != e ? " (" + root.getClass().getSimpleName() + ": " + root.getMessage() + ")" : "");
  }
}
