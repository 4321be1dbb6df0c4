package dev.goplugin4j.protocol.internal.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.goplugin4j.protocol.AddressRefusedException;
import dev.goplugin4j.protocol.NetAddress;
import dev.goplugin4j.protocol.internal.proto.ConnInfo;
import dev.goplugin4j.protocol.internal.transport.GrpcTransport;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A classic broker dials a ConnInfo address only after its {@code fromPeer} check passes (the
 * host gives {@link AddressRules} there): an address outside the socket directory, or with an
 * unknown network, is refused with {@link AddressRefusedException} and nothing is dialled.
 */
class BrokerDialAddressCheckTest {
  @TempDir Path tmp;
  EventLoopGroup group;
  ScheduledExecutorService timer;
  BrokerImpl broker;

  @BeforeEach
  void setUp() throws Exception {
    group = GrpcTransport.newEventLoopGroup(1, "broker-check-test");
    timer = Executors.newSingleThreadScheduledExecutor();
    Path socketDir = Files.createDirectory(tmp.resolve("goplugin4j-1"));
    broker = new BrokerImpl(msg -> {}, null, null, null, a -> a,
        a -> AddressRules.check(a, socketDir, false), group, null, timer);
  }

  @AfterEach
  void tearDown() {
    broker.close();
    GrpcTransport.shutdown(group);
    timer.shutdownNow();
  }

  @Test
  void aConnInfoOutsideTheSocketDirectoryIsRefusedAndNotDialled() throws Exception {
    Path evil = tmp.resolve("evil.sock");
    try (ServerSocketChannel trap = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      trap.bind(UnixDomainSocketAddress.of(evil));
      trap.configureBlocking(false);
      broker.onMessage(ConnInfo.newBuilder().setServiceId(1).setNetwork("unix")
          .setAddress(evil.toString()).build());
      assertThatThrownBy(() -> broker.dial(1))
          .isInstanceOfSatisfying(AddressRefusedException.class,
              e -> assertThat(e.rule()).isEqualTo(AddressRules.RULE_OUTSIDE_DIR))
          .hasMessageContaining(evil.toString());
      broker.onMessage(ConnInfo.newBuilder().setServiceId(2).setNetwork("unix")
          .setAddress(tmp.resolve("goplugin4j-1/../evil.sock").toString()).build());
      assertThatThrownBy(() -> broker.dial(2)).isInstanceOf(AddressRefusedException.class);
      assertThat(trap.accept()).as("a connection to the trap").isNull();
    }
  }

  @Test
  void aConnInfoWithAnUnknownNetworkOrNonLoopbackTcpIsRefused() {
    broker.onMessage(ConnInfo.newBuilder().setServiceId(3).setNetwork("udp")
        .setAddress("127.0.0.1:53").build());
    assertThatThrownBy(() -> broker.dial(3))
        .isInstanceOfSatisfying(AddressRefusedException.class,
            e -> assertThat(e.rule()).isEqualTo(AddressRules.RULE_MALFORMED))
        .hasMessageContaining("broker id 3");
    broker.onMessage(ConnInfo.newBuilder().setServiceId(4).setNetwork(NetAddress.TCP)
        .setAddress("10.0.0.1:80").build());
    assertThatThrownBy(() -> broker.dial(4))
        .isInstanceOfSatisfying(AddressRefusedException.class,
            e -> assertThat(e.rule()).isEqualTo(AddressRules.RULE_NON_LOOPBACK));
  }
}
