package dev.goplugin4j.interop;

import static dev.goplugin4j.interop.InteropSupport.PEERS;
import static dev.goplugin4j.interop.InteropSupport.assertNothingLeaked;
import static dev.goplugin4j.interop.InteropSupport.exampleClient;
import static org.assertj.core.api.Assertions.assertThat;

import dev.goplugin4j.host.GrpcPlugin;
import dev.goplugin4j.host.PluginClient;
import dev.goplugin4j.interop.proto.kv.GetRequest;
import dev.goplugin4j.interop.proto.kv.KVGrpc;
import dev.goplugin4j.protocol.GrpcBroker;
import dev.goplugin4j.protocol.internal.broker.BrokerImpl;
import dev.goplugin4j.testkit.Leaks;
import io.grpc.Channel;
import io.grpc.ManagedChannel;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The host's dial side of the gRPC broker against a real Go plugin (testkit's {@code
 * broker-serve}, built from go-plugin v1.8.0): the plugin calls {@code
 * broker.AcceptAndServe(id, ...)} inside an RPC and answers the id, and the host reaches that
 * server with {@link GrpcBroker#dial(int)}, over a new Unix socket (classic broker) or a knocked
 * yamux stream (multiplexed broker).
 */
class HostDialsPluginBrokerIT {
  @TempDir Path sockets;

  /** The plugin's main KV stub plus the host's broker for that connection. */
  record Offering(KVGrpc.KVBlockingStub kv, GrpcBroker broker) {}

  /** Hands out the raw stub and broker; stateless and thread-safe. */
  static final class OfferingPlugin implements GrpcPlugin<Offering> {
    @Override
    public Offering client(Channel channel, GrpcBroker broker) {
      return new Offering(KVGrpc.newBlockingStub(channel), broker);
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
  void hostDialsServersThePluginOffersWithAcceptAndServe(boolean multiplex) throws Exception {
    Path plugin = PEERS.badPlugin("broker-serve");
    Leaks leaks = Leaks.snapshot(InteropSupport.THREAD_PREFIX);
    try (PluginClient client = exampleClient(plugin, sockets)
        .plugin("kv", new OfferingPlugin()).multiplexBroker(multiplex).build()) {
      Offering offering = client.dispense("kv", Offering.class);
      assertThat(client.reattachConfig().orElseThrow().multiplexed()).isEqualTo(multiplex);
      int streamsBefore = ((BrokerImpl) offering.broker()).openStreamCount();
      for (int round = 0; round < 3; round++) {
        int id = Integer.parseInt(get(offering.kv(), "serve"));
        assertThat(id).as("broker id the plugin took from NextId").isPositive();
        ManagedChannel brokered = offering.broker().dial(id);
        try {
          KVGrpc.KVBlockingStub stub = KVGrpc.newBlockingStub(brokered);
          assertThat(get(stub, "k" + round)).isEqualTo("brokered:k" + round);
          assertThat(get(stub, "again")).isEqualTo("brokered:again");
        } finally {
          brokered.shutdownNow();
          assertThat(brokered.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
        }
      }
      if (multiplex) {
        // each dialled channel's stream is closed with its channel
        BrokerImpl broker = (BrokerImpl) offering.broker();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (broker.openStreamCount() != streamsBefore && System.nanoTime() < deadline) {
          Thread.sleep(20);
        }
        assertThat(broker.openStreamCount()).as("open yamux streams").isEqualTo(streamsBefore);
      } else {
        assertThat(((BrokerImpl) offering.broker()).openStreamCount()).isEqualTo(-1);
      }
    }
    assertNothingLeaked(leaks, sockets);
  }
}
