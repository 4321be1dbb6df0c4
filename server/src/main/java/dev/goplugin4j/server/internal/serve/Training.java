package dev.goplugin4j.server.internal.serve;

import dev.goplugin4j.protocol.Handshake;
import dev.goplugin4j.protocol.NetAddress;
import dev.goplugin4j.protocol.PluginEnv;
import dev.goplugin4j.protocol.PluginException;
import dev.goplugin4j.protocol.internal.proto.ConnInfo;
import dev.goplugin4j.protocol.internal.proto.Empty;
import dev.goplugin4j.protocol.internal.proto.GRPCBrokerGrpc;
import dev.goplugin4j.protocol.internal.proto.GRPCControllerGrpc;
import dev.goplugin4j.protocol.internal.proto.GRPCStdioGrpc;
import dev.goplugin4j.protocol.internal.proto.StdioData;
import dev.goplugin4j.protocol.internal.transport.GrpcTransport;
import dev.goplugin4j.server.PluginServer;
import dev.goplugin4j.server.ServeConfig;
import dev.goplugin4j.server.internal.tls.PluginTls;
import dev.goplugin4j.server.internal.tls.SelfSignedCertificate;
import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The class-data-sharing training run behind {@link PluginServer#CDS_TRAINING_ENV}: serves the
 * configured plugins to an in-process host over a real Unix socket with AutoMTLS, and walks the
 * start-up path a real host takes (handshake, health check, stdio stream, broker stream, a
 * brokered connection each way, Shutdown). Every class on that path is loaded, so a JVM started
 * with {@code -XX:ArchiveClassesAtExit} archives them.
 */
public final class Training {
  private static final Logger log = LoggerFactory.getLogger(Training.class);

  private Training() {}

  /**
   * Runs the training; returns when the in-process server stopped.
   *
   * @param config the plugin's configuration
   * @throws PluginException if a step fails
   */
  public static void run(ServeConfig config) {
    Path dir;
    try {
      dir = Files.createTempDirectory("goplugin4j-cds");
    } catch (IOException e) {
      throw new PluginException("CDS training: cannot create a temp directory: " + e, e);
    }
    EventLoopGroup group = GrpcTransport.newEventLoopGroup(1, "cds-host");
    ManagedChannel channel = null;
    Server hostBrokered = null;
    ServerRuntime runtime = null;
    Context.CancellableContext streams = Context.current().withCancellation();
    try {
      SelfSignedCertificate host = SelfSignedCertificate.generate();
      Map<String, String> env = new HashMap<>(System.getenv());
      env.remove(PluginServer.CDS_TRAINING_ENV);
      env.put(config.magicCookieKey(), config.magicCookieValue());
      env.put(PluginEnv.PROTOCOL_VERSIONS,
          config.versionedPlugins().keySet().stream().map(String::valueOf).collect(Collectors.joining(",")));
      env.put(PluginEnv.UNIX_SOCKET_DIR, dir.toString());
      env.put(PluginEnv.CLIENT_CERT, host.pem());
      env.remove(PluginEnv.MULTIPLEX_GRPC);
      env.remove(PluginEnv.UNIX_SOCKET_GROUP);
      ByteArrayOutputStream stdout = new ByteArrayOutputStream();
      runtime = new ServerRuntime(config.newBuilder().exitWhenHostExits(false).build(),
          new ServerRuntime.Io(env, stdout, false));
      runtime.start();
      Handshake h = Handshake.parse(stdout.toString(java.nio.charset.StandardCharsets.US_ASCII));
      X509Certificate pluginCert = SelfSignedCertificate.parseBase64Der(h.certificate());
      channel = GrpcTransport.channel(h.address(), PluginTls.client(host, pluginCert), group, null);

      HealthGrpc.newBlockingStub(channel).withWaitForReady().withDeadlineAfter(30, TimeUnit.SECONDS)
          .check(HealthCheckRequest.newBuilder().setService(ServerRuntime.HEALTH_SERVICE).build());

      ManagedChannel ch = channel;
      StreamObserver<ConnInfo>[] brokerOut = newArray();
      java.util.concurrent.CompletableFuture<ConnInfo> announced = new java.util.concurrent.CompletableFuture<>();
      streams.run(() -> {
        GRPCStdioGrpc.newStub(ch).streamStdio(com.google.protobuf.Empty.getDefaultInstance(), ignore());
        brokerOut[0] = GRPCBrokerGrpc.newStub(ch).startStream(new StreamObserver<>() {
          @Override
          public void onNext(ConnInfo value) {
            announced.complete(value);
          }

          @Override
          public void onError(Throwable t) {
            announced.completeExceptionally(t);
          }

          @Override
          public void onCompleted() {}
        });
      });

      // plugin → host: the plugin offers a service, the host dials it
      int pluginId = runtime.broker().nextId();
      runtime.broker().acceptAndServe(pluginId, List.of(new HealthStatusManager().getHealthService()));
      ConnInfo info = announced.get(30, TimeUnit.SECONDS);
      ManagedChannel toPlugin = GrpcTransport.channel(
          new NetAddress(info.getNetwork(), info.getAddress()), PluginTls.client(host, pluginCert), group, null);
      try {
        HealthGrpc.newBlockingStub(toPlugin).withWaitForReady().withDeadlineAfter(30, TimeUnit.SECONDS)
            .check(HealthCheckRequest.getDefaultInstance());
      } finally {
        toPlugin.shutdownNow();
      }

      // host → plugin: the host offers a service, the plugin dials it
      NetAddress hostAddr = NetAddress.unix(dir.resolve("host.sock").toString());
      hostBrokered = GrpcTransport.server(hostAddr, PluginTls.server(host, pluginCert), group, group,
          List.of(new HealthStatusManager().getHealthService()));
      synchronized (brokerOut) {
        brokerOut[0].onNext(ConnInfo.newBuilder().setServiceId(1_000_000)
            .setNetwork(hostAddr.network()).setAddress(hostAddr.address()).build());
      }
      ManagedChannel toHost = runtime.broker().dial(1_000_000);
      HealthGrpc.newBlockingStub(toHost).withWaitForReady().withDeadlineAfter(30, TimeUnit.SECONDS)
          .check(HealthCheckRequest.getDefaultInstance());
      toHost.shutdownNow();

      GRPCControllerGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS)
          .shutdown(Empty.getDefaultInstance());
      if (!runtime.awaitTermination(Duration.ofSeconds(30))) {
        throw new PluginException("CDS training: the server did not stop after Shutdown");
      }
      log.info("class-data-sharing training run finished");
    } catch (PluginException e) {
      throw e;
    } catch (Exception e) {
      throw new PluginException("CDS training failed: " + e, e);
    } finally {
      streams.cancel(null);
      if (runtime != null && !runtime.stopped()) {
        runtime.stop("CDS training ended");
        try {
          runtime.awaitTermination(Duration.ofSeconds(10));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      if (channel != null) {
        channel.shutdownNow();
      }
      if (hostBrokered != null) {
        hostBrokered.shutdownNow();
      }
      GrpcTransport.shutdown(group);
      try (Stream<Path> s = Files.walk(dir)) {
        for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
          Files.deleteIfExists(p);
        }
      } catch (IOException e) {
        log.debug("cannot remove {}: {}", dir, e.toString());
      }
    }
  }

  @SuppressWarnings("unchecked")
  private static StreamObserver<ConnInfo>[] newArray() {
    return (StreamObserver<ConnInfo>[]) new StreamObserver<?>[1];
  }

  private static StreamObserver<StdioData> ignore() {
    return new StreamObserver<>() {
      @Override
      public void onNext(StdioData value) {}

      @Override
      public void onError(Throwable t) {}

      @Override
      public void onCompleted() {}
    };
  }
}
