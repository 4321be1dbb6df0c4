package dev.goplugin4j.host.internal.events;

import static org.assertj.core.api.Assertions.assertThat;

import dev.goplugin4j.host.PluginEvent;
import dev.goplugin4j.host.PluginListener;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class EventDispatcherTest {
  private static final PluginEvent.Source SOURCE =
      new PluginEvent.Source("p", List.of("./p"), "process");

  private static PluginEvent starting() {
    return new PluginEvent.Starting(SOURCE, Instant.now(), false);
  }

  private static PluginEvent stderr(String m) {
    return new PluginEvent.Stderr(SOURCE, Instant.now(), PluginEvent.Level.WARN, m);
  }

  private static PluginEvent closed() {
    return new PluginEvent.Closed(SOURCE, Instant.now(), true, Duration.ZERO);
  }

  @Test
  void listenersGetEveryEventInOrderOfRegistrationAndFiring() {
    List<String> seen = new ArrayList<>();
    EventDispatcher d = new EventDispatcher(List.of(
        e -> seen.add("a:" + e.getClass().getSimpleName()),
        e -> seen.add("b:" + e.getClass().getSimpleName())));
    d.fire(starting());
    d.fire(closed());
    assertThat(seen).containsExactly("a:Starting", "b:Starting", "a:Closed", "b:Closed");
  }

  @Test
  void aThrowingListenerNeitherStopsTheOthersNorTheFiringThread() {
    List<PluginEvent> seen = new ArrayList<>();
    AtomicInteger calls = new AtomicInteger();
    PluginListener bad = e -> {
      calls.incrementAndGet();
      throw new IllegalStateException("listener bug");
    };
    EventDispatcher d = new EventDispatcher(List.of(bad, seen::add));
    d.fire(starting());
    d.fire(stderr("x"));
    d.fire(closed());
    assertThat(calls).hasValue(3);
    assertThat(seen).hasSize(3);
  }

  @Test
  void nothingIsDeliveredAfterTheFinalEvent() {
    List<PluginEvent> seen = new ArrayList<>();
    EventDispatcher d = new EventDispatcher(List.of(seen::add));
    d.fire(starting());
    d.fire(closed());
    d.fire(stderr("late"));
    d.fire(new PluginEvent.Detached(SOURCE, Instant.now(), Duration.ZERO));
    assertThat(seen).extracting(e -> e.getClass().getSimpleName())
        .containsExactly("Starting", "Closed");
    assertThat(d.ended()).isTrue();
  }

  @Test
  void postedEventsWaitForFlushAndKeepTheirOrder() {
    List<PluginEvent> seen = new ArrayList<>();
    EventDispatcher d = new EventDispatcher(List.of(seen::add));
    d.post(starting());
    d.post(closed());
    assertThat(seen).isEmpty();
    d.flush();
    assertThat(seen).extracting(e -> e.getClass().getSimpleName())
        .containsExactly("Starting", "Closed");
  }

  @Test
  void anEventFiredFromAListenerIsDeliveredAfterTheCurrentOneToEveryListener() {
    List<String> seen = new ArrayList<>();
    EventDispatcher[] self = new EventDispatcher[1];
    PluginListener reentrant = e -> {
      seen.add("first:" + e.getClass().getSimpleName());
      if (e instanceof PluginEvent.Starting) {
        self[0].fire(closed());
      }
    };
    self[0] = new EventDispatcher(List.of(reentrant, e -> seen.add("second:"
        + e.getClass().getSimpleName())));
    self[0].fire(starting());
    assertThat(seen).containsExactly(
        "first:Starting", "second:Starting", "first:Closed", "second:Closed");
  }

  @Test
  void eventsFromOtherThreadsNeverRunConcurrentlyAndNoneIsLost() throws Exception {
    AtomicInteger inside = new AtomicInteger();
    AtomicInteger overlaps = new AtomicInteger();
    List<PluginEvent> seen = Collections.synchronizedList(new ArrayList<>());
    EventDispatcher d = new EventDispatcher(List.of(e -> {
      if (inside.incrementAndGet() > 1) {
        overlaps.incrementAndGet();
      }
      seen.add(e);
      Thread.onSpinWait();
      inside.decrementAndGet();
    }));
    int threads = 4;
    int each = 500;
    CountDownLatch go = new CountDownLatch(1);
    List<Thread> ts = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      Thread th = new Thread(() -> {
        try {
          go.await();
        } catch (InterruptedException e) {
          return;
        }
        for (int i = 0; i < each; i++) {
          d.fire(stderr("line " + i));
        }
      });
      th.start();
      ts.add(th);
    }
    go.countDown();
    for (Thread th : ts) {
      th.join(TimeUnit.SECONDS.toMillis(30));
    }
    assertThat(overlaps).hasValue(0);
    assertThat(seen).hasSize(threads * each);
  }

  @Test
  void listenersAddedLaterGetOnlyLaterEventsAndRemovedOnesNone() {
    List<PluginEvent> late = new ArrayList<>();
    List<PluginEvent> removed = new ArrayList<>();
    PluginListener r = removed::add;
    EventDispatcher d = new EventDispatcher(List.of(r));
    assertThat(d.active()).isTrue();
    d.fire(starting());
    d.add(late::add);
    assertThat(d.remove(r)).isTrue();
    d.fire(closed());
    assertThat(removed).hasSize(1);
    assertThat(late).extracting(e -> e.getClass().getSimpleName()).containsExactly("Closed");
  }
}
