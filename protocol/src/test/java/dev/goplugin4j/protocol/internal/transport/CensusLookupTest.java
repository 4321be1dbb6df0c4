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

/**
 * {@link GrpcTransport#configure}: without grpc-census on the class path (as in this module's
 * tests), building a channel or a server does not look for it. grpc's builders log each failed
 * look at FINE; a builder grpc configures alone is the control that shows the log is seen.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class CensusLookupTest {
  private static final Logger CHANNEL_LOG =
      Logger.getLogger("io.grpc.internal.ManagedChannelImplBuilder");
  private static final Logger SERVER_LOG = Logger.getLogger("io.grpc.internal.ServerImplBuilder");

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
  private Level channelLevel;
  private Level serverLevel;

  @BeforeEach
  void setUp() {
    group = GrpcTransport.newEventLoopGroup(1, "census-test");
    channelLevel = CHANNEL_LOG.getLevel();
    serverLevel = SERVER_LOG.getLevel();
    for (Logger l : List.of(CHANNEL_LOG, SERVER_LOG)) {
      l.setLevel(Level.FINE);
      l.addHandler(recorder);
    }
  }

  @AfterEach
  void tearDown() throws InterruptedException {
    CHANNEL_LOG.removeHandler(recorder);
    SERVER_LOG.removeHandler(recorder);
    CHANNEL_LOG.setLevel(channelLevel);
    SERVER_LOG.setLevel(serverLevel);
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

    assertThat(logged).extracting(LogRecord::getMessage)
        .noneMatch(m -> m != null && m.contains("census"));
  }

  @Test
  void aBuilderGrpcConfiguresAloneDoesLookForIt() throws Exception {
    ManagedChannel channel = NettyChannelBuilder
        .forAddress(new io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress(
            dir.resolve("c.sock").toString()))
        .eventLoopGroup(group).channelType(EpollDomainSocketChannel.class).usePlaintext().build();
    channel.shutdownNow();

    assertThat(logged).extracting(LogRecord::getMessage)
        .anyMatch(m -> m != null && m.contains("census"));
  }
}
