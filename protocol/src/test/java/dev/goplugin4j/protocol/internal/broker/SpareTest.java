package dev.goplugin4j.protocol.internal.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.goplugin4j.protocol.internal.transport.GrpcTransport;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@link Spare} with a held executor (the test runs each build when and where it wants), builds
 * that wait on latches and disposals it watches, so every interleaving of a build with the owner's
 * close is forced, not hoped for.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SpareTest {
  private static final Object KEY = new Object();

  /** Keeps each task until the test runs it. */
  private static final class HeldExecutor implements Executor {
    final List<Runnable> held = new CopyOnWriteArrayList<>();

    @Override
    public void execute(Runnable task) {
      held.add(task);
    }

    Runnable takeOnly() {
      assertThat(held).hasSize(1);
      return held.remove(0);
    }
  }

  private final AtomicBoolean ownerClosed = new AtomicBoolean();
  private final List<Object> built = new CopyOnWriteArrayList<>();
  private final List<Object> disposed = new CopyOnWriteArrayList<>();
  private final AtomicInteger seq = new AtomicInteger();

  private Function<Object, Object> building() {
    return key -> {
      Object r = "spare" + seq.incrementAndGet();
      built.add(r);
      return r;
    };
  }

  private Spare<Object, Object> spare(Executor executor, Function<Object, Object> build,
      Consumer<Object> dispose) {
    return new Spare<>(executor, build, dispose, ownerClosed::get);
  }

  private Spare<Object, Object> direct() {
    return spare(Runnable::run, building(), disposed::add);
  }

  /**
   * Waits until {@code t} has ended or is parked waiting for a future (in {@link Spare#close()}):
   * a state, not a time. Returns whether it had ended.
   */
  private static boolean endedRatherThanWaiting(Thread t) {
    while (true) {
      Thread.State s = t.getState();
      if (s == Thread.State.TERMINATED) {
        return true;
      }
      if ((s == Thread.State.WAITING || s == Thread.State.TIMED_WAITING)
          && Arrays.stream(t.getStackTrace()).anyMatch(
              f -> f.getClassName().equals("java.util.concurrent.CompletableFuture"))) {
        return false;
      }
      Thread.onSpinWait();
    }
  }

  /**
   * The interleaving that failed in CI (a spare's socket left after the broker's close): the owner
   * closes while the spare is being built, the build ends and starts disposing it, and only then
   * does the owner's close look at the spare. The close must wait for that disposal.
   */
  @Test
  void closeDoesNotReturnWhileABuildThatSawTheOwnerClosedIsStillDisposingItsSpare()
      throws Exception {
    HeldExecutor executor = new HeldExecutor();
    CountDownLatch buildEntered = new CountDownLatch(1);
    CountDownLatch ownerNowClosed = new CountDownLatch(1);
    Function<Object, Object> slowBuild = key -> {
      buildEntered.countDown();
      awaitUninterruptibly(ownerNowClosed);
      return building().apply(key);
    };
    AtomicReference<Spare<Object, Object>> slot = new AtomicReference<>();
    AtomicReference<Thread> closer = new AtomicReference<>();
    AtomicBoolean closeReturnedDuringDisposal = new AtomicBoolean();
    Consumer<Object> watchedDispose = r -> {
      // the build thread disposes what it made: the owner's close looks now, in the middle
      Thread c = new Thread(() -> slot.get().close(), "owner-close");
      closer.set(c);
      c.start();
      closeReturnedDuringDisposal.set(endedRatherThanWaiting(c));
      disposed.add(r);
    };
    slot.set(spare(executor, slowBuild, watchedDispose));

    slot.get().refill(KEY);
    Thread builder = new Thread(executor.takeOnly(), "spare-builder");
    builder.start();
    buildEntered.await();
    ownerClosed.set(true); // the owner's close has begun (before it reaches the spare)
    ownerNowClosed.countDown();
    builder.join();
    closer.get().join();

    assertThat(closeReturnedDuringDisposal)
        .as("the owner's close returned while the spare it missed was still being disposed")
        .isFalse();
    assertThat(built).hasSize(1);
    assertThat(disposed).isEqualTo(built);
    assertThat(slot.get().take(KEY)).isNull();
  }

  @Test
  void closeWaitsForABuildInFlightThenNothingIsLeft() throws Exception {
    HeldBuild held = new HeldBuild();

    ownerClosed.set(true);
    Thread closer = new Thread(held.slot::close, "owner-close");
    closer.start();
    assertThat(endedRatherThanWaiting(closer)).as("close returned before the build ended")
        .isFalse();
    held.releaseAndJoin();
    closer.join();

    assertThat(built).hasSize(1);
    assertThat(disposed).isEqualTo(built);
  }

  @Test
  void aBuildStillQueuedWhenTheOwnerClosesBuildsNothingAndCloseDoesNotWaitForIt() {
    HeldExecutor executor = new HeldExecutor();
    Spare<Object, Object> slot = spare(executor, building(), disposed::add);
    slot.refill(KEY);

    ownerClosed.set(true);
    slot.close(); // returns at once: the queued build cannot have bound anything
    executor.takeOnly().run();

    assertThat(built).isEmpty();
    assertThat(slot.take(KEY)).isNull();
  }

  @Test
  void aSpareKeptBeforeTheOwnerClosedIsDisposedByClose() {
    Spare<Object, Object> slot = direct();
    slot.refill(KEY);
    assertThat(built).hasSize(1);

    ownerClosed.set(true);
    slot.close();
    slot.close(); // idempotent

    assertThat(disposed).isEqualTo(built);
    assertThat(slot.take(KEY)).isNull();
  }

  @Test
  void noBuildStartsOnceTheOwnerIsClosed() {
    Spare<Object, Object> slot = direct();
    ownerClosed.set(true);
    slot.refill(KEY);
    slot.close();
    assertThat(built).isEmpty();
  }

  @Test
  void closeIsRefusedWhileTheOwnerIsOpen() {
    assertThatThrownBy(direct()::close).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void atMostOneSpareExistsAndTakeHandsItOverOnce() {
    Spare<Object, Object> slot = direct();
    slot.refill(KEY);
    slot.refill(KEY);
    assertThat(built).hasSize(1);
    assertThat(slot.take(KEY)).isEqualTo(built.get(0));
    assertThat(slot.take(KEY)).isNull();
    slot.refill(KEY);
    assertThat(slot.take(KEY)).isEqualTo(built.get(1));
    assertThat(disposed).isEmpty();
  }

  @Test
  void aSpareIsTakenOnlyForItsKeyAndARefillForAnotherKeyDisposesIt() {
    Spare<Object, Object> slot = direct();
    Object other = new Object();
    slot.refill(KEY);
    assertThat(slot.take(other)).isNull();

    slot.refill(other);
    assertThat(disposed).containsExactly(built.get(0));
    assertThat(slot.take(KEY)).isNull();
    assertThat(slot.take(other)).isEqualTo(built.get(1));
  }

  @Test
  void aFailedBuildLeavesNoSpareAndTheNextRefillTriesAgain() {
    AtomicBoolean fail = new AtomicBoolean(true);
    Function<Object, Object> ok = building();
    Spare<Object, Object> slot = spare(Runnable::run, key -> {
      if (fail.get()) {
        throw new IllegalStateException("cannot listen");
      }
      return ok.apply(key);
    }, disposed::add);
    slot.refill(KEY);
    assertThat(slot.take(KEY)).isNull();

    fail.set(false);
    slot.refill(KEY);
    assertThat(slot.take(KEY)).isEqualTo(built.get(0));
  }

  @Test
  void anExecutorThatRefusesTheBuildLeavesNoBuildInFlight() {
    List<Runnable> refused = new ArrayList<>();
    Spare<Object, Object> slot = spare(task -> {
      refused.add(task);
      throw new java.util.concurrent.RejectedExecutionException("shut down");
    }, building(), disposed::add);
    slot.refill(KEY);
    slot.refill(KEY); // not blocked by a build that never ran
    assertThat(refused).hasSize(2);
    ownerClosed.set(true);
    slot.close(); // does not wait for it
    assertThat(built).isEmpty();
  }

  private static void awaitUninterruptibly(CountDownLatch latch) {
    boolean interrupted = false;
    while (true) {
      try {
        latch.await();
        break;
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  // ------------------------------------------------------------------ takeOrAwait

  /**
   * A spare whose one refill is being built on its own thread, held inside the build until
   * {@link #release()}: the set-up every "a build is under way" test starts from.
   */
  private final class HeldBuild {
    final Spare<Object, Object> slot;
    final Thread builder;
    private final CountDownLatch release = new CountDownLatch(1);

    HeldBuild() {
      HeldExecutor executor = new HeldExecutor();
      CountDownLatch entered = new CountDownLatch(1);
      Function<Object, Object> b = building();
      slot = spare(executor, key -> {
        entered.countDown();
        awaitUninterruptibly(release);
        return b.apply(key);
      }, disposed::add);
      slot.refill(KEY);
      builder = new Thread(executor.takeOnly(), "spare-builder");
      builder.start();
      awaitUninterruptibly(entered);
    }

    /** Lets the build finish and waits until it has. */
    void releaseAndJoin() throws InterruptedException {
      release();
      builder.join();
    }

    void release() {
      release.countDown();
    }
  }

  @Test
  void takeOrAwaitWaitsForABuildUnderWayAndTakesWhatItMade() throws Exception {
    HeldBuild held = new HeldBuild();
    Spare<Object, Object> slot = held.slot;

    AtomicReference<Object> taken = new AtomicReference<>();
    Thread taker = new Thread(() -> taken.set(slot.takeOrAwait(KEY, 60_000)), "taker");
    taker.start();
    assertThat(endedRatherThanWaiting(taker)).as("takeOrAwait returned before the build ended")
        .isFalse();
    held.releaseAndJoin();
    taker.join();

    assertThat(built).hasSize(1);
    assertThat(taken.get()).isEqualTo(built.get(0));
    assertThat(slot.take(KEY)).isNull();
    assertThat(disposed).isEmpty();
  }

  @Test
  void takeOrAwaitDoesNotWaitForABuildStillQueuedNorForOneOfAnotherKey() {
    HeldExecutor executor = new HeldExecutor();
    Spare<Object, Object> slot = spare(executor, building(), disposed::add);
    slot.refill(KEY);

    assertThat(slot.takeOrAwait(KEY, 60_000)).isNull(); // queued: returns at once
    assertThat(slot.takeOrAwait(new Object(), 60_000)).isNull();
    executor.takeOnly().run();
    assertThat(slot.takeOrAwait(new Object(), 60_000)).isNull();
    assertThat(slot.takeOrAwait(KEY, 60_000)).isEqualTo(built.get(0));
  }

  @Test
  void takeOrAwaitGivesUpWhenItsWaitRunsOutAndTheSpareStaysForTheNextTake() throws Exception {
    HeldBuild held = new HeldBuild();
    Spare<Object, Object> slot = held.slot;

    assertThat(slot.takeOrAwait(KEY, 1)).isNull(); // the build is held until after this
    held.releaseAndJoin();

    assertThat(slot.take(KEY)).isEqualTo(built.get(0));
  }

  @Test
  void takeOrAwaitTakesNothingWhenTheOwnerClosesDuringTheWaitAndTheBuildDisposesItsSpare()
      throws Exception {
    HeldBuild held = new HeldBuild();
    Spare<Object, Object> slot = held.slot;

    AtomicReference<Object> taken = new AtomicReference<>("not yet");
    Thread taker = new Thread(() -> taken.set(slot.takeOrAwait(KEY, 60_000)), "taker");
    taker.start();
    assertThat(endedRatherThanWaiting(taker)).isFalse();
    ownerClosed.set(true);
    Thread closer = new Thread(slot::close, "owner-close");
    closer.start();
    held.releaseAndJoin();
    taker.join();
    closer.join();

    assertThat(taken.get()).isNull();
    assertThat(built).hasSize(1);
    assertThat(disposed).isEqualTo(built);
  }

  @Test
  void takeOrAwaitKeepsTheInterruptAndTakesNothingWhenInterruptedWhileWaiting() throws Exception {
    HeldBuild held = new HeldBuild();
    Spare<Object, Object> slot = held.slot;

    AtomicReference<Object> taken = new AtomicReference<>("not yet");
    AtomicBoolean stillInterrupted = new AtomicBoolean();
    Thread taker = new Thread(() -> {
      taken.set(slot.takeOrAwait(KEY, 60_000));
      stillInterrupted.set(Thread.currentThread().isInterrupted());
    }, "taker");
    taker.start();
    assertThat(endedRatherThanWaiting(taker)).isFalse();
    taker.interrupt();
    taker.join();
    held.releaseAndJoin();

    assertThat(taken.get()).isNull();
    assertThat(stillInterrupted).isTrue();
    assertThat(slot.take(KEY)).isEqualTo(built.get(0));
  }

  // ------------------------------------------------------------------ take(key, group)

  @Test
  void takeForAGroupWaitsForABuildUnderWayWhenCalledOffTheGroupsLoops() throws Exception {
    HeldBuild held = new HeldBuild();
    Spare<Object, Object> slot = held.slot;
    EventLoopGroup group = GrpcTransport.newEventLoopGroup(1, "spare-test");
    try {
      AtomicReference<Object> taken = new AtomicReference<>();
      Thread taker = new Thread(() -> taken.set(slot.take(KEY, group)), "taker");
      taker.start();
      assertThat(endedRatherThanWaiting(taker)).as("take returned before the build ended")
          .isFalse();
      held.releaseAndJoin();
      taker.join();

      assertThat(taken.get()).isEqualTo(built.get(0));
    } finally {
      group.shutdownGracefully(0, 0, TimeUnit.SECONDS).sync();
    }
  }

  @Test
  void takeForAGroupDoesNotWaitForABuildUnderWayWhenCalledOnOneOfTheGroupsLoops()
      throws Exception {
    HeldBuild held = new HeldBuild();
    Spare<Object, Object> slot = held.slot;
    EventLoopGroup group = GrpcTransport.newEventLoopGroup(2, "spare-test");
    try {
      // the build is held until after this take has returned
      Object onLoop = group.submit(() -> slot.take(KEY, group)).get(60, TimeUnit.SECONDS);
      held.releaseAndJoin();

      assertThat(onLoop).isNull();
      assertThat(slot.take(KEY)).isEqualTo(built.get(0));
    } finally {
      held.release();
      group.shutdownGracefully(0, 0, TimeUnit.SECONDS).sync();
    }
  }
}
