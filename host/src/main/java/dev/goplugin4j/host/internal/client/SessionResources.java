package dev.goplugin4j.host.internal.client;

import static dev.goplugin4j.host.internal.client.Cleanup.deleteRecursively;
import static dev.goplugin4j.host.internal.client.Cleanup.quietly;

import dev.goplugin4j.host.AttachedRunner;
import dev.goplugin4j.host.PluginClient;
import dev.goplugin4j.host.ReattachConfig;
import dev.goplugin4j.host.Runner;
import dev.goplugin4j.host.internal.log.StderrPump;
import dev.goplugin4j.host.internal.process.SocketDirOwner;
import dev.goplugin4j.host.internal.shared.SharedResources;
import dev.goplugin4j.protocol.AutoMtlsCertificate;
import dev.goplugin4j.protocol.Handshake;
import dev.goplugin4j.protocol.NetAddress;
import dev.goplugin4j.protocol.internal.broker.BrokerImpl;
import dev.goplugin4j.protocol.internal.broker.YamuxMuxer;
import dev.goplugin4j.protocol.internal.proto.ConnInfo;
import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.stub.StreamObserver;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stop phase of a {@link ClientSession}: every resource a start makes, each in its field as soon
 * as it exists, and the teardown that releases them all, whichever path the session leaves by.
 *
 * <p>Not thread-safe: every field is guarded by the session's lock, as when they were the
 * session's own fields.
 */
final class SessionResources {
  // the session's logger: tests and users read these lines under PluginClient
  private static final Logger log = LoggerFactory.getLogger(PluginClient.class);

  /** This client's share of the JVM's goplugin4j threads; the three below come from it. */
  SharedResources.Lease shared;
  ScheduledExecutorService timer;
  ExecutorService grpcExecutor;
  Path socketDir;
  boolean deleteSocketDir;
  AttachedRunner runner;
  StderrPump stderrPump;
  Thread stdoutThread;
  AutoMtlsCertificate hostCert;
  X509Certificate pluginCert;
  String pluginCertBase64 = "";
  ManagedChannel channel;
  BrokerImpl broker;
  YamuxMuxer muxer;
  StreamObserver<ConnInfo> brokerOut;
  Context.CancellableContext stdioContext;
  /** The runner's id once the runner reference is dropped. */
  String runnerId;

  /**
   * The threads come from {@link SharedResources}: a warm host's next start finds them running
   * instead of making a pool, a timer and event loops (~10 ms of each start before); teardown
   * gives the share back, shutting down this client's views of them only.
   */
  void initExecutors(String name) {
    shared = SharedResources.acquire(name);
    timer = shared.timer();
    grpcExecutor = shared.executor();
  }

  /**
   * The shared event loops, asked for apart from the other threads: in the JVM's first start
   * the loops are made at this call (Netty's platform set-up and its epoll library), which a
   * launch makes once the plugin is spawned, while the plugin starts.
   *
   * @return the group; {@link #initExecutors} first
   */
  EventLoopGroup eventLoops() {
    return shared.eventLoops();
  }

  /**
   * Releases everything; each step guarded so one failure does not leak the rest. The session
   * sets its closing flag before and its exited flag after, then calls {@link #dropReferences}.
   *
   * @param transportStats the session's mux byte counters, finished here; null when not muxed
   */
  void release(boolean killPlugin, boolean removeSocketDir, MuxTransportStats transportStats) {
    if (stdioContext != null) {
      stdioContext.cancel(null);
    }
    if (brokerOut != null) {
      quietly(() -> brokerOut.onCompleted());
    }
    if (broker != null) {
      quietly(broker::close);
    }
    if (killPlugin && runner != null) {
      quietly(runner::kill);
    }
    if (channel != null) {
      channel.shutdownNow();
      quietly(() -> channel.awaitTermination(2, TimeUnit.SECONDS));
    }
    if (muxer != null) {
      quietly(muxer::close);
    }
    if (transportStats != null) {
      transportStats.finish();
    }
    if (stderrPump != null) {
      quietly(stderrPump::close);
    }
    if (stdoutThread != null) {
      if (killPlugin) {
        quietly(() -> stdoutThread.join(2_000));
      }
      if (stdoutThread.isAlive()) {
        // a detached plugin keeps its stdout open; closing it ends our reader
        quietly(() -> ((Runner) runner).stdout().close());
        quietly(() -> stdoutThread.join(2_000));
      }
    }
    if (shared != null) {
      // this client's jobs and timers end; the threads stay for the other clients (and linger)
      quietly(shared::close);
    }
    if (removeSocketDir && deleteSocketDir && socketDir != null) {
      deleteRecursively(socketDir);
      SocketDirOwner.remove(socketDir);
    }
  }

  /** What a started client reports as its reattach config (the runner's attributes and ours). */
  ReattachConfig reattachConfig(AttachedRunner r, int version, NetAddress address,
      boolean multiplexBroker) {
    Map<String, String> attrs = new HashMap<>(r.reattachAttributes());
    String kind = r.kind();
    if (socketDir != null) {
      attrs.putIfAbsent("socket_dir", socketDir.toString());
    }
    return new ReattachConfig(
        Handshake.GRPC, version, address, kind, r.id(), attrs, multiplexBroker,
        pluginCertBase64,
        hostCert == null ? "" : hostCert.pem(),
        hostCert == null ? "" : hostCert.privateKeyPem(),
        false);
  }

  /**
   * A closed client that the application still references must cost next to nothing: forget
   * everything teardown released (channel, broker, muxer, event loops, executors, pumps, runner,
   * certificates), keeping only what the session's {@code describe()} and {@code
   * reattachConfig()} report.
   */
  void dropReferences(String name) {
    if (runner != null) {
      try {
        runnerId = runner.id();
      } catch (RuntimeException notStarted) {
        // a runner whose start failed has no id; the start's own failure is what the caller sees
        log.trace("runner of plugin {} has no id: {}", name, notStarted.toString());
      }
    }
    runner = null;
    channel = null;
    broker = null;
    muxer = null;
    brokerOut = null;
    stdioContext = null;
    shared = null;
    grpcExecutor = null;
    timer = null;
    stderrPump = null;
    stdoutThread = null;
    hostCert = null;
    pluginCert = null;
    pluginCertBase64 = "";
  }
}
