package dev.goplugin4j.protocol.internal.transport;

import static org.assertj.core.api.Assertions.assertThat;

import dev.goplugin4j.protocol.NetAddress;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollDomainSocketChannel;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link GrpcTransport#configure}: without grpc-census on the class path (as in this module's
 * tests), building a channel or a server does not look for it. grpc's builders log each failed
 * look at FINE; a builder grpc configures alone is the control that shows the log is seen.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class CensusLookupTest {
  @TempDir Path dir;
  private EventLoopGroup group;
  private CensusLookupLog log;

  @BeforeEach
  void setUp() {
    group = GrpcTransport.newEventLoopGroup(1, "census-test");
    log = CensusLookupLog.open();
  }

  @AfterEach
  void tearDown() throws InterruptedException {
    log.close();
    group.shutdownGracefully(0, 0, TimeUnit.SECONDS).sync();
  }

  @Test
  void grpcCensusIsAbsentFromThisClassPath() {
    assertThat(GrpcTransport.CENSUS_PRESENT).isFalse();
  }

  @Test
  void buildingAChannelOrServerDoesNotLookForAnAbsentGrpcCensus() throws Exception {
    ManagedChannel channel =
        GrpcTransport.channel(NetAddress.unix(dir.resolve("c.sock").toString()), null, group, null);
    Server server = GrpcTransport.server(NetAddress.unix(dir.resolve("s.sock").toString()), null,
        group, group, List.of());
    channel.shutdownNow();
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);

    assertThat(log.lookedForCensus()).isFalse();
  }

  @Test
  void aBuilderGrpcConfiguresAloneDoesLookForIt() throws Exception {
    ManagedChannel channel = NettyChannelBuilder
        .forAddress(new io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress(
            dir.resolve("c.sock").toString()))
        .eventLoopGroup(group).channelType(EpollDomainSocketChannel.class).usePlaintext().build();
    channel.shutdownNow();

    assertThat(log.lookedForCensus()).isTrue();
  }
}
