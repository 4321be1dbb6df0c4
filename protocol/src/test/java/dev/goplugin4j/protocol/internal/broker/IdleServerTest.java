package dev.goplugin4j.protocol.internal.broker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.goplugin4j.protocol.NetAddress;
import dev.goplugin4j.protocol.internal.transport.CensusLookupLog;
import dev.goplugin4j.protocol.internal.transport.GrpcTransport;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link IdleServer}: what building a brokered server costs besides its bind. Brokered servers,
 * the yamux one included, go through {@link GrpcTransport#configure} ({@code CensusLookupTest}
 * proves that for plain channels and servers, with a control).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class IdleServerTest {
  @TempDir Path dir;
  private EventLoopGroup group;
  private CensusLookupLog log;

  @BeforeEach
  void setUp() {
    group = GrpcTransport.newEventLoopGroup(1, "idle-server-test");
    log = CensusLookupLog.open();
  }

  @AfterEach
  void tearDown() throws InterruptedException {
    log.close();
    group.shutdownGracefully(0, 0, TimeUnit.SECONDS).sync();
  }

  @Test
  void buildingAClassicOrMultiplexedBrokeredServerDoesNotLookForAnAbsentGrpcCensus()
      throws Exception {
    IdleServer classic =
        IdleServer.listen(NetAddress.unix(dir.resolve("b.sock").toString()), null, group);
    IdleServer muxed = IdleServer.yamux(group, null);
    classic.server().shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    muxed.yamux().close();

    assertThat(log.lookedForCensus()).isFalse();
  }
}
