package dev.goplugin4j.host.internal.client;

import dev.goplugin4j.host.AttachedRunner;
import dev.goplugin4j.host.PluginChannel;
import dev.goplugin4j.host.PluginClient;
import dev.goplugin4j.protocol.NetAddress;
import dev.goplugin4j.protocol.PluginException;
import dev.goplugin4j.protocol.internal.broker.BrokerImpl;
import dev.goplugin4j.protocol.internal.broker.YamuxMuxer;
import dev.goplugin4j.protocol.internal.proto.ConnInfo;
import dev.goplugin4j.protocol.internal.proto.GRPCBrokerGrpc;
import dev.goplugin4j.protocol.internal.proto.GRPCStdioGrpc;
import dev.goplugin4j.protocol.internal.proto.StdioData;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Broker and stdio phase of a start, opened with the main channel: the host's
 * {@link BrokerImpl} with its listeners, the GRPCBroker stream that carries its messages, and the
 * GRPCStdio stream that forwards the plugin's stdout and stderr to the application's sinks.
 */
final class BrokerAndStdio {
  // the session's logger: tests and users read these lines under PluginClient
  private static final Logger log = LoggerFactory.getLogger(PluginClient.class);
  private static final SecureRandom RANDOM = new SecureRandom();

  private final PluginClient.Config config;
  private final String name;
  private final BooleanSupplier closing;
  private final BooleanSupplier exited;

  /**
   * @param closing whether the session is closing: streams that end then are expected
   * @param exited whether the plugin has exited
   */
  BrokerAndStdio(PluginClient.Config config, String name, BooleanSupplier closing,
      BooleanSupplier exited) {
    this.config = config;
    this.name = name;
    this.closing = closing;
    this.exited = exited;
  }

  /**
   * The host's broker: it listens in {@code socketDir} (or the temp dir when there is none) and
   * dials only addresses that pass the rules.
   */
  BrokerImpl newBroker(Consumer<ConnInfo> sender, SslContext serverTls, SslContext clientTls,
      AttachedRunner r, Path socketDir, EventLoopGroup group, YamuxMuxer muxer,
      ScheduledExecutorService timer, Consumer<NettyChannelBuilder> tune) {
    AtomicInteger seq = new AtomicInteger();
    BrokerImpl.Listeners listeners = new BrokerImpl.Listeners() {
      @Override
      public NetAddress newAddress() {
        Path dir = socketDir != null ? socketDir : Path.of(System.getProperty("java.io.tmpdir"));
        return NetAddress.unix(dir.resolve("host" + seq.incrementAndGet() + "-"
            + Integer.toHexString(RANDOM.nextInt(0x10000)) + ".sock").toString());
      }

      @Override
      public void prepare(NetAddress listening) {
        if (config.unixSocketGroup() != null) {
          Path p = Path.of(listening.address());
          try {
            LaunchEnvironment.setGroup(p, config.unixSocketGroup());
            Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rw-rw----"));
          } catch (IOException e) {
            throw new PluginException("cannot give broker socket " + p + " to group "
                + config.unixSocketGroup() + ": " + e.getMessage(), e);
          }
        }
      }
    };
    return new BrokerImpl(
        sender, serverTls, clientTls, listeners,
        r::hostToPlugin,
        a -> AddressChecks.checkBrokerAddress(
            r.pluginToHost(a), socketDir, config.allowNonLoopbackTcp(), name),
        group, muxer, timer,
        tune instanceof Connector.Tuning t ? t.brokered() : tune,
        serverInterceptors());
  }

  /**
   * The application's server interceptors for the brokered servers, with one more that runs
   * first and puts this client's {@link PluginChannel} in the call's context; none when the
   * application has none.
   */
  private List<ServerInterceptor> serverInterceptors() {
    List<ServerInterceptor> configured = config.serverInterceptors();
    if (configured.isEmpty()) {
      return configured;
    }
    PluginChannel channel = new PluginChannel(name, config.runnerKind(), true);
    List<ServerInterceptor> all = new ArrayList<>(configured);
    // the last one runs first
    all.add(new ServerInterceptor() {
      @Override
      public <Q, A> ServerCall.Listener<Q> interceptCall(
          ServerCall<Q, A> call, Metadata headers, ServerCallHandler<Q, A> next) {
        return Contexts.interceptCall(
            Context.current().withValue(PluginChannel.CONTEXT_KEY, channel),
            call, headers, next);
      }
    });
    return all;
  }

  /** Opens the GRPCBroker stream: what the plugin sends goes to {@code b}. */
  StreamObserver<ConnInfo> openBrokerStream(ManagedChannel channel, BrokerImpl b) {
    return GRPCBrokerGrpc.newStub(channel).startStream(new StreamObserver<>() {
      @Override
      public void onNext(ConnInfo value) {
        b.onMessage(value);
      }

      @Override
      public void onError(Throwable t) {
        if (!closing.getAsBoolean()) {
          log.debug("broker stream of plugin {} ended: {}", name, t.toString());
        }
      }

      @Override
      public void onCompleted() {
        log.debug("broker stream of plugin {} completed", name);
      }
    });
  }

  /**
   * Opens the GRPCStdio stream in the current gRPC context (the session runs it in a cancellable
   * one, cancelled at teardown).
   */
  void streamStdio(ManagedChannel channel) {
    GRPCStdioGrpc.newStub(channel).streamStdio(
        com.google.protobuf.Empty.getDefaultInstance(), new StreamObserver<StdioData>() {
          @Override
          public void onNext(StdioData d) {
            OutputStream sink = d.getChannel() == StdioData.Channel.STDOUT ? config.syncStdout()
                : d.getChannel() == StdioData.Channel.STDERR ? config.syncStderr() : null;
            if (sink == null) {
              return;
            }
            try {
              synchronized (sink) {
                d.getData().writeTo(sink);
                sink.flush();
              }
            } catch (IOException e) {
              log.debug("cannot forward plugin stdio: {}", e.toString());
            }
          }

          @Override
          public void onError(Throwable t) {
            Status.Code c = Status.fromThrowable(t).getCode();
            if (c == Status.Code.UNIMPLEMENTED || c == Status.Code.UNAVAILABLE || c == Status.Code.CANCELLED) {
              log.debug("plugin {} stdio stream ended: {}", name, c);
            } else if (closing.getAsBoolean() || exited.getAsBoolean()) {
              // the plugin went away (close, Shutdown, exit): the stream's end says nothing new
              log.debug("plugin {} stdio stream ended: {}", name, t.toString());
            } else {
              log.warn("plugin {} stdio stream failed: {}", name, t.toString());
            }
          }

          @Override
          public void onCompleted() {}
        });
  }
}
