package dev.goplugin4j.host.internal.shared;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class SharedResourcesTest {

  @AfterEach
  void releaseLingeringThreads() {
    SharedResources.releaseIdleNow();
  }

  private static List<String> sharedThreads() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(Thread::isAlive)
        .map(Thread::getName)
        .filter(n -> n.startsWith("goplugin4j-grpc-") || n.startsWith("goplugin4j-timer-")
            || n.startsWith("goplugin4j-io"))
        .toList();
  }

  @Test
  void clientsShareOneEventLoopGroupAndOneClosingLeavesTheOtherWorking() throws Exception {
    SharedResources.Lease a = SharedResources.acquire("a");
    SharedResources.Lease b = SharedResources.acquire("b");
    assertThat(b.eventLoops()).isSameAs(a.eventLoops());
    a.close();
    assertThat(b.eventLoops().isShuttingDown()).isFalse();
    assertThat(b.executor().submit(() -> 42).get(10, TimeUnit.SECONDS)).isEqualTo(42);
    assertThat(b.timer().schedule(() -> 7, 1, TimeUnit.MILLISECONDS).get(10, TimeUnit.SECONDS))
        .isEqualTo(7);
    b.close();
  }

  @Test
  void theEventLoopsAreMadeWhenAClientFirstAsksForThemNotWithTheOtherThreads() {
    SharedResources.releaseIdleNow();
    SharedResources.Lease a = SharedResources.acquire("a");
    SharedResources.Lease b = SharedResources.acquire("b");
    assertThat(a.pool.groupIfMade()).isNull();
    var loops = b.eventLoops();
    assertThat(a.pool.groupIfMade()).isSameAs(loops);
    assertThat(a.eventLoops()).isSameAs(loops);
    a.close();
    b.close();
  }

  @Test
  void aGenerationShutDownBeforeAnyClientAskedForEventLoopsMakesNone() {
    SharedResources.releaseIdleNow();
    SharedResources.Lease a = SharedResources.acquire("a");
    a.close();
    assertThat(SharedResources.releaseIdleNow()).isTrue();
    assertThat(a.pool.groupIfMade()).isNull();
    assertThatThrownBy(a::eventLoops)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("shut down");
    assertThat(sharedThreads()).isEmpty();
  }

  @Test
  void closingALeaseInterruptsOnlyItsOwnRunningJobs() throws Exception {
    SharedResources.Lease a = SharedResources.acquire("a");
    SharedResources.Lease b = SharedResources.acquire("b");
    CountDownLatch bothRunning = new CountDownLatch(2);
    CountDownLatch never = new CountDownLatch(1);
    AtomicBoolean aInterrupted = new AtomicBoolean();
    AtomicBoolean bInterrupted = new AtomicBoolean();
    CountDownLatch release = new CountDownLatch(1);
    a.executor().execute(() -> {
      bothRunning.countDown();
      try {
        never.await();
      } catch (InterruptedException e) {
        aInterrupted.set(true);
      }
    });
    Future<?> bJob = b.executor().submit(() -> {
      bothRunning.countDown();
      try {
        release.await();
      } catch (InterruptedException e) {
        bInterrupted.set(true);
      }
    });
    assertThat(bothRunning.await(10, TimeUnit.SECONDS)).isTrue();
    a.close(); // waits for a's job, which ends on its interrupt
    assertThat(aInterrupted).isTrue();
    assertThat(bJob.isDone()).isFalse();
    release.countDown();
    bJob.get(10, TimeUnit.SECONDS);
    assertThat(bInterrupted).isFalse();
    b.close();
  }

  @Test
  void aClosedLeaseRejectsNewJobsAndCancelsItsTimers() {
    SharedResources.Lease a = SharedResources.acquire("a");
    SharedResources.Lease b = SharedResources.acquire("b");
    ScheduledFuture<?> aLater = a.timer().schedule(() -> {}, 1, TimeUnit.HOURS);
    ScheduledFuture<?> bLater = b.timer().schedule(() -> {}, 1, TimeUnit.HOURS);
    a.close();
    assertThat(aLater.isCancelled()).isTrue();
    assertThat(bLater.isCancelled()).isFalse();
    assertThat(a.executor().isTerminated()).isTrue();
    assertThatThrownBy(() -> a.executor().execute(() -> {}))
        .isInstanceOf(RejectedExecutionException.class);
    assertThatThrownBy(() -> a.timer().schedule(() -> {}, 1, TimeUnit.SECONDS))
        .isInstanceOf(RejectedExecutionException.class);
    b.close();
    assertThat(bLater.isCancelled()).isTrue();
  }

  @Test
  void aPoolThreadIsNamedAfterThePluginWhoseJobItRuns() throws Exception {
    SharedResources.Lease a = SharedResources.acquire("kv");
    AtomicReference<String> name = new AtomicReference<>();
    a.executor().submit(() -> name.set(Thread.currentThread().getName())).get(10, TimeUnit.SECONDS);
    assertThat(name.get()).matches("goplugin4j-grpc-kv-\\d+");
    a.close();
  }

  @Test
  void noSharedThreadIsLeftOnceTheLastLeaseClosedAndTheLingerEnded() throws Exception {
    SharedResources.releaseIdleNow();
    assertThat(sharedThreads()).isEmpty();
    SharedResources.Lease a = SharedResources.acquire("a");
    a.executor().submit(() -> {}).get(10, TimeUnit.SECONDS);
    a.timer().schedule(() -> {}, 0, TimeUnit.SECONDS).get(10, TimeUnit.SECONDS);
    a.eventLoops().submit(() -> {}).get(10, TimeUnit.SECONDS);
    assertThat(sharedThreads()).isNotEmpty();
    a.close();
    a.close(); // idempotent: does not give the share back twice
    assertThat(SharedResources.releaseIdleNow()).isTrue();
    assertThat(sharedThreads()).isEmpty();
  }

  @Test
  void atTheJvmsExitLingeringThreadsEndAtOnce() throws Exception {
    SharedResources.Lease a = SharedResources.acquire("a");
    a.eventLoops().submit(() -> {}).get(10, TimeUnit.SECONDS);
    a.close(); // the threads linger now
    SharedResources.atJvmExit(a.pool);
    assertThat(a.eventLoops().terminationFuture().await(10, TimeUnit.SECONDS)).isTrue();
    assertThat(a.pool.executor.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
    assertThat(a.pool.timer.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
    SharedResources.Lease b = SharedResources.acquire("b"); // a new generation
    assertThat(b.eventLoops()).isNotSameAs(a.eventLoops());
    assertThat(b.executor().submit(() -> 42).get(10, TimeUnit.SECONDS)).isEqualTo(42);
    b.close();
  }

  @Test
  void atTheJvmsExitTheThreadsOfAnOpenLeaseStay() throws Exception {
    SharedResources.Lease a = SharedResources.acquire("a");
    SharedResources.atJvmExit(a.pool);
    assertThat(a.eventLoops().isShuttingDown()).isFalse();
    assertThat(a.eventLoops().submit(() -> 7).get(10, TimeUnit.SECONDS)).isEqualTo(7);
    assertThat(a.executor().submit(() -> 42).get(10, TimeUnit.SECONDS)).isEqualTo(42);
    a.close();
  }

  @Test
  void aPoolThatShutsDownTakesItsExitHookWithIt() throws Exception {
    SharedResources.Lease a = SharedResources.acquire("a");
    a.close();
    assertThat(SharedResources.releaseIdleNow()).isTrue();
    // not registered any more: a JVM running many short-lived generations keeps no old pool
    assertThat(Runtime.getRuntime().removeShutdownHook(a.pool.exitHook)).isFalse();
  }

  @Test
  void releaseIdleNowLeavesTheThreadsOfAnOpenLeaseAlone() throws Exception {
    SharedResources.Lease a = SharedResources.acquire("a");
    assertThat(SharedResources.releaseIdleNow()).isFalse();
    assertThat(a.executor().submit(() -> 1).get(10, TimeUnit.SECONDS)).isEqualTo(1);
    assertThat(a.eventLoops().isShuttingDown()).isFalse();
    a.close();
  }

  @Test
  void aJobThatClosesItsOwnLeaseDoesNotWaitForItself() throws Exception {
    SharedResources.Lease a = SharedResources.acquire("a");
    Future<?> f = a.executor().submit(() -> a.close());
    f.get(10, TimeUnit.SECONDS);
    assertThat(a.executor().isShutdown()).isTrue();
  }

  @Test
  void aJobOfAClosedLeaseThatHandsOnMoreWorkRunsItItselfWhileOthersAreStillRejected()
      throws Exception {
    SharedResources.Lease a = SharedResources.acquire("a");
    CountDownLatch jobRunning = new CountDownLatch(1);
    AtomicReference<Thread> jobThread = new AtomicReference<>();
    AtomicReference<Thread> handedOnRanOn = new AtomicReference<>();
    AtomicReference<Throwable> jobFailure = new AtomicReference<>();
    Future<?> job = a.executor().submit(() -> {
      jobThread.set(Thread.currentThread());
      jobRunning.countDown();
      while (!a.executor().isShutdown()) {
        Thread.onSpinWait();
      }
      try {
        // what grpc's serializing executor does when callbacks were queued while it drained
        a.executor().execute(() -> handedOnRanOn.set(Thread.currentThread()));
      } catch (RuntimeException e) {
        jobFailure.set(e);
      }
    });
    jobRunning.await();
    a.close(); // waits for the job (up to its bound)

    assertThat(job.isDone()).isTrue();
    assertThat(jobFailure.get()).isNull();
    assertThat(handedOnRanOn.get()).isSameAs(jobThread.get());
    assertThatThrownBy(() -> a.executor().execute(() -> {}))
        .isInstanceOf(RejectedExecutionException.class);
  }
}
