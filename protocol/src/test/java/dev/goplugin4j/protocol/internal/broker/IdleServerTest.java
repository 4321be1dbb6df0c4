package dev.goplugin4j.protocol.internal.broker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.goplugin4j.protocol.NetAddress;
import dev.goplugin4j.protocol.internal.transport.GrpcTransport;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@link IdleServer}: what building a brokered server costs besides its bind. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class IdleServerTest {
  /** grpc's server builder logs here (at FINE) each failed look for grpc-census. */
  private static final Logger BUILDER_LOG = Logger.getLogger("io.grpc.internal.ServerImplBuilder");

  @TempDir Path dir;
  private EventLoopGroup group;
  private final List<LogRecord> logged = new CopyOnWriteArrayList<>();
  private final Handler recorder = new Handler() {
    @Override
    public void publish(LogRecord r) {
      logged.add(r);
    }

    @Override
    public void flush() {}

    @Override
    public void close() {}
  };
  private Level levelBefore;

  @BeforeEach
  void setUp() {
    group = GrpcTransport.newEventLoopGroup(1, "idle-server-test");
    levelBefore = BUILDER_LOG.getLevel();
    BUILDER_LOG.setLevel(Level.FINE);
    BUILDER_LOG.addHandler(recorder);
  }

  @AfterEach
  void tearDown() throws InterruptedException {
    BUILDER_LOG.removeHandler(recorder);
    BUILDER_LOG.setLevel(levelBefore);
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

    assertThat(logged).extracting(LogRecord::getMessage)
        .noneMatch(m -> m != null && m.contains("census"));
  }
}
