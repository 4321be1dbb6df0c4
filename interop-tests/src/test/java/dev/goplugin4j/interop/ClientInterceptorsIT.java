package dev.goplugin4j.interop;

import static dev.goplugin4j.interop.InteropSupport.PEERS;
import static dev.goplugin4j.interop.InteropSupport.assertNothingLeaked;
import static dev.goplugin4j.interop.InteropSupport.deleteKvFile;
import static dev.goplugin4j.interop.InteropSupport.exampleClient;
import static dev.goplugin4j.interop.InteropSupport.uniqueKey;
import static org.assertj.core.api.Assertions.assertThat;

import dev.goplugin4j.host.GrpcPlugin;
import dev.goplugin4j.host.PluginChannel;
import dev.goplugin4j.host.PluginClient;
import dev.goplugin4j.interop.proto.kv.GetRequest;
import dev.goplugin4j.interop.proto.kv.KVGrpc;
import dev.goplugin4j.protocol.GrpcBroker;
import dev.goplugin4j.testkit.GoPeers;
import dev.goplugin4j.testkit.Leaks;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link PluginClient.Builder#interceptors} sees the calls on the main channel and on every
 * brokered channel the host dials, each with its {@link PluginChannel}; {@link
 * PluginClient.Builder#serverInterceptors} sees the plugin's calls back into the host's brokered
 * servers.
 */
class ClientInterceptorsIT {
  @TempDir Path sockets;

  /** The plugin's main KV stub plus the host's broker. */
  record Offering(KVGrpc.KVBlockingStub kv, GrpcBroker broker) {}

  /** Hands out the raw stub and broker; stateless and thread-safe. */
  static final class OfferingPlugin implements GrpcPlugin<Offering> {
    @Override
    public Offering client(Channel channel, GrpcBroker broker) {
      return new Offering(KVGrpc.newBlockingStub(channel), broker);
    }
  }

  /** Records "method main|brokered plugin" for every call. */
  static final class Recorder implements ClientInterceptor {
    final List<String> calls = new CopyOnWriteArrayList<>();

    @Override
    public <Q, A> ClientCall<Q, A> interceptCall(
        MethodDescriptor<Q, A> method, CallOptions options, Channel next) {
      String where = PluginChannel.of(options)
          .map(c -> (c.brokered() ? "brokered " : "main ") + c.pluginName() + " " + c.runnerKind())
          .orElse("unknown");
      calls.add(method.getFullMethodName() + " " + where);
      return next.newCall(method, options);
    }
  }

  private static String get(KVGrpc.KVBlockingStub kv, String key) {
    return kv.withDeadlineAfter(30, TimeUnit.SECONDS)
        .get(GetRequest.newBuilder().setKey(key).build())
        .getValue()
        .toStringUtf8();
  }

  @ParameterizedTest(name = "multiplexed broker: {0}")
  @ValueSource(booleans = {false, true})
  void interceptorSeesMainAndBrokeredCallsWithTheirChannel(boolean multiplex) throws Exception {
    Path plugin = PEERS.badPlugin("broker-serve");
    Recorder recorder = new Recorder();
    Leaks leaks = Leaks.snapshot(InteropSupport.THREAD_PREFIX);
    try (PluginClient client = exampleClient(plugin, sockets)
        .plugin("kv", new OfferingPlugin()).multiplexBroker(multiplex)
        .interceptors(recorder).build()) {
      Offering offering = client.dispense("kv", Offering.class);
      int id = Integer.parseInt(get(offering.kv(), "serve"));
      ManagedChannel brokered = offering.broker().dial(id);
      try {
        assertThat(get(KVGrpc.newBlockingStub(brokered), "k")).isEqualTo("brokered:k");
      } finally {
        brokered.shutdownNow();
        assertThat(brokered.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
      }
      String name = plugin.getFileName().toString();
      assertThat(recorder.calls)
          .contains("plugin.GRPCBroker/StartStream main " + name + " process")
          .containsSubsequence(
              "proto.KV/Get main " + name + " process",
              "proto.KV/Get brokered " + name + " process")
          .doesNotContain("unknown");
    }
    assertNothingLeaked(leaks, sockets);
  }

  @Test
  void serverInterceptorSeesThePluginsCallsIntoTheHostsBrokeredServer() throws Exception {
    Path plugin = PEERS.goPluginExample(GoPeers.GO_PLUGIN_VERSIONS.get(0), GoPeers.COUNTER_PLUGIN);
    String key = uniqueKey("counter");
    List<String> served = new CopyOnWriteArrayList<>();
    ServerInterceptor recorder = new ServerInterceptor() {
      @Override
      public <Q, A> ServerCall.Listener<Q> interceptCall(
          ServerCall<Q, A> call, Metadata headers, ServerCallHandler<Q, A> next) {
        served.add(call.getMethodDescriptor().getFullMethodName() + " "
            + PluginChannel.current().map(PluginChannel::toString).orElse("no channel"));
        return next.startCall(call, headers);
      }
    };
    Leaks leaks = Leaks.snapshot(InteropSupport.THREAD_PREFIX);
    try (PluginClient client = exampleClient(plugin, sockets)
        .plugin("counter", new CounterPlugin()).serverInterceptors(recorder).build()) {
      Counter counter = client.dispense("counter", Counter.class);
      assertThat(counter.increment(key, 5, Math::addExact)).isEqualTo(5);
      assertThat(served).containsExactly("proto.AddHelper/Sum PluginChannel["
          + plugin.getFileName() + ", process, brokered]");
    } finally {
      deleteKvFile(key);
    }
    assertNothingLeaked(leaks, sockets);
  }
}
