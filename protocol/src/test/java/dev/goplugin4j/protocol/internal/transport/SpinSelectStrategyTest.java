package dev.goplugin4j.protocol.internal.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.netty.shaded.io.netty.channel.DefaultSelectStrategyFactory;
import io.grpc.netty.shaded.io.netty.channel.SelectStrategy;
import io.grpc.netty.shaded.io.netty.util.IntSupplier;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class SpinSelectStrategyTest {
  private static final long LONG = 60_000_000_000L;

  private final AtomicInteger polls = new AtomicInteger();
  private int ready;
  private final IntSupplier selectNow = () -> {
    polls.incrementAndGet();
    return ready;
  };

  @Test
  void aLoopThatHadNoWorkBlocksAtOnce() throws Exception {
    SpinSelectStrategy s = new SpinSelectStrategy(LONG);

    assertThat(s.calculateStrategy(selectNow, false)).isEqualTo(SelectStrategy.SELECT);
    assertThat(polls).hasValue(0);
  }

  @Test
  void afterTasksTheLoopPollsInsteadOfBlocking() throws Exception {
    SpinSelectStrategy s = new SpinSelectStrategy(LONG);
    ready = 2;
    assertThat(s.calculateStrategy(selectNow, true)).isEqualTo(2);
    ready = 0;

    assertThat(s.calculateStrategy(selectNow, false)).isZero();
    assertThat(s.calculateStrategy(selectNow, false)).isZero();
    assertThat(polls).hasValue(3);
  }

  @Test
  void aReturnFromABlockingWaitCountsAsWork() throws Exception {
    SpinSelectStrategy s = new SpinSelectStrategy(LONG);
    assertThat(s.calculateStrategy(selectNow, false)).isEqualTo(SelectStrategy.SELECT);

    // the loop blocked, was woken (the answer arrived), and asks again
    assertThat(s.calculateStrategy(selectNow, false)).isZero();
    assertThat(polls).hasValue(1);
  }

  @Test
  void readyDescriptorsFoundWhilePollingAreReturned() throws Exception {
    SpinSelectStrategy s = new SpinSelectStrategy(LONG);
    s.calculateStrategy(selectNow, true);
    ready = 5;

    assertThat(s.calculateStrategy(selectNow, false)).isEqualTo(5);
  }

  @Test
  void onceTheWindowHasPassedWithoutWorkTheLoopBlocks() throws Exception {
    SpinSelectStrategy s = new SpinSelectStrategy(1);
    s.calculateStrategy(selectNow, true);
    long start = System.nanoTime();
    while (System.nanoTime() - start < 1_000_000) {
      Thread.onSpinWait();
    }

    assertThat(s.calculateStrategy(selectNow, false)).isEqualTo(SelectStrategy.SELECT);
    assertThat(polls).hasValue(1);
  }

  @Test
  void windowZeroIsNettysDefaultAndOutOfRangeWindowsAreRefused() {
    assertThat(SpinSelectStrategy.factory(0)).isSameAs(DefaultSelectStrategyFactory.INSTANCE);
    assertThat(SpinSelectStrategy.factory(50).newSelectStrategy())
        .isInstanceOf(SpinSelectStrategy.class);
    assertThatThrownBy(() -> SpinSelectStrategy.factory(-1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("0 (off) to 10000 microseconds, got -1");
    assertThatThrownBy(() -> SpinSelectStrategy.factory(10_001))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void aPropertyThatIsNotANumberIsNamedInTheError() {
    String old = System.getProperty(GrpcTransport.SPIN_MICROS_PROPERTY);
    System.setProperty(GrpcTransport.SPIN_MICROS_PROPERTY, "fast");
    try {
      assertThatThrownBy(GrpcTransport::spinMicros)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining(GrpcTransport.SPIN_MICROS_PROPERTY)
          .hasMessageContaining("\"fast\"");
    } finally {
      if (old == null) {
        System.clearProperty(GrpcTransport.SPIN_MICROS_PROPERTY);
      } else {
        System.setProperty(GrpcTransport.SPIN_MICROS_PROPERTY, old);
      }
    }
  }
}
