package dev.goplugin4j.interop;

import static dev.goplugin4j.interop.InteropSupport.PEERS;
import static dev.goplugin4j.interop.InteropSupport.THREAD_PREFIX;
import static dev.goplugin4j.interop.InteropSupport.assertNothingLeaked;
import static dev.goplugin4j.interop.InteropSupport.exampleClient;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.goplugin4j.host.PluginClient;
import dev.goplugin4j.host.PluginEvent;
import dev.goplugin4j.host.ReattachConfig;
import dev.goplugin4j.testkit.Leaks;
import io.grpc.StatusRuntimeException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * The client's events against a real Go plugin (testkit's flaky-kv): the sequence of a crash, of
 * a normal close, stderr lines at WARN and above, detach and reattach, and that a throwing
 * listener changes nothing.
 */
class PluginEventsIT {
  static {
    LoggerFactory.getILoggerFactory();
  }

  @TempDir Path sockets;

  /** Records events and lets a test wait for one. */
  static final class Recorder implements dev.goplugin4j.host.PluginListener {
    final List<PluginEvent> events = new CopyOnWriteArrayList<>();

    @Override
    public void onEvent(PluginEvent event) {
      events.add(event);
    }

    List<String> kinds() {
      return events.stream()
          .filter(e -> !(e instanceof PluginEvent.Stderr))
          .map(e -> e.getClass().getSimpleName())
          .toList();
    }

    <T extends PluginEvent> T await(Class<T> type, Predicate<T> when) throws InterruptedException {
      long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
      while (System.nanoTime() < deadline) {
        for (PluginEvent e : events) {
          if (type.isInstance(e) && when.test(type.cast(e))) {
            return type.cast(e);
          }
        }
        Thread.sleep(20);
      }
      throw new AssertionError("no " + type.getSimpleName() + " event within 20 s; got " + events);
    }

    <T extends PluginEvent> T only(Class<T> type) {
      List<T> found = events.stream().filter(type::isInstance).map(type::cast).toList();
      assertThat(found).as(type.getSimpleName() + " events in " + events).hasSize(1);
      return found.get(0);
    }
  }

  private PluginClient.Builder flaky(Recorder r) {
    return exampleClient(PEERS.badPlugin("flaky-kv"), sockets)
        .plugin("kv", new KvPlugin())
        .listener(r);
  }

  @Test
  void aCrashGivesStartingStartedExitedUnrequestedWithItsExitCodeThenClosed() throws Exception {
    Leaks leaks = Leaks.snapshot(THREAD_PREFIX);
    Recorder r = new Recorder();
    Path binary = PEERS.badPlugin("flaky-kv");
    try (PluginClient client = flaky(r).build()) {
      Kv kv = client.dispense("kv", Kv.class);
      PluginEvent.Started started = r.only(PluginEvent.Started.class);
      assertThat(started.source().name()).isEqualTo(binary.getFileName().toString());
      assertThat(started.source().command()).containsExactly(binary.toString());
      assertThat(started.source().runnerKind()).isEqualTo(ReattachConfig.KIND_PROCESS);
      assertThat(started.protocolVersion()).isEqualTo(ExampleHandshake.PROTOCOL_VERSION);
      assertThat(started.protocol()).isEqualTo("grpc");
      assertThat(started.address().toString()).contains(sockets.toString());
      assertThat(Long.parseLong(started.runnerId())).isPositive();
      assertThat(started.containerId()).isEmpty();
      assertThat(started.phases().keySet()).containsExactly("prepare", "runner start",
          "handshake line", "handshake parse", "channel", "broker and stdio", "connect");
      assertThat(started.total()).isPositive();

      assertThatThrownBy(() -> kv.put("crash", "7".getBytes(StandardCharsets.UTF_8)))
          .isInstanceOf(StatusRuntimeException.class);
      PluginEvent.Exited exited = r.await(PluginEvent.Exited.class, e -> true);
      assertThat(exited.requested()).isFalse();
      assertThat(exited.exitCode()).hasValue(7);
      assertThat(exited.signal()).isEmpty();
      assertThat(exited.uptime()).isPositive();
      assertThat(client.exited()).isTrue();
      PluginEvent.Stderr last = r.await(PluginEvent.Stderr.class,
          e -> e.message().contains("crashing with 7"));
      assertThat(last.level()).isEqualTo(PluginEvent.Level.ERROR);
    }
    assertThat(r.kinds()).containsExactly("Starting", "Started", "Exited", "Closed");
    assertThat(r.only(PluginEvent.Closed.class).started()).isTrue();
    assertNothingLeaked(leaks, sockets);
  }

  @Test
  void aNormalCloseGivesExitedRequestedThenClosedAndWarningsArriveOnTheWay() throws Exception {
    Leaks leaks = Leaks.snapshot(THREAD_PREFIX);
    Recorder r = new Recorder();
    List<PluginEvent> afterThrow = new CopyOnWriteArrayList<>();
    try (PluginClient client = flaky(r)
        .listener(e -> {
          throw new IllegalStateException("a broken listener");
        })
        .listener(afterThrow::add)
        .build()) {
      Kv kv = client.dispense("kv", Kv.class);
      kv.put("warn", "disk almost full".getBytes(StandardCharsets.UTF_8));
      kv.put("k", "v".getBytes(StandardCharsets.UTF_8));
      assertThat(new String(kv.get("k"), StandardCharsets.UTF_8)).isEqualTo("v");
      PluginEvent.Stderr warn = r.await(PluginEvent.Stderr.class,
          e -> e.message().contains("disk almost full"));
      assertThat(warn.level()).isEqualTo(PluginEvent.Level.WARN);
      assertThat(warn.message()).isEqualTo("[WARN] disk almost full");
    }
    assertThat(r.kinds()).containsExactly("Starting", "Started", "Exited", "Closed");
    PluginEvent.Exited exited = r.only(PluginEvent.Exited.class);
    assertThat(exited.requested()).isTrue();
    assertThat(r.events.get(r.events.size() - 1)).isInstanceOf(PluginEvent.Closed.class);
    assertThat(afterThrow).hasSameSizeAs(r.events);
    assertNothingLeaked(leaks, sockets);
  }

  @Test
  void detachEndsWithDetachedAndAReattachingClientGivesReattachedThenExitedAndClosed()
      throws Exception {
    Leaks leaks = Leaks.snapshot(THREAD_PREFIX);
    Recorder first = new Recorder();
    ReattachConfig rc;
    try (PluginClient client = flaky(first).build()) {
      client.dispense("kv", Kv.class).put("k", "kept".getBytes(StandardCharsets.UTF_8));
      rc = client.reattachConfig().orElseThrow();
      client.detach();
    }
    assertThat(first.kinds()).containsExactly("Starting", "Started", "Detached");

    Recorder second = new Recorder();
    try (PluginClient again = PluginClient.builder()
        .reattach(rc)
        .plugin("kv", new KvPlugin())
        .listener(second)
        .build()) {
      assertThat(new String(again.dispense("kv", Kv.class).get("k"), StandardCharsets.UTF_8))
          .isEqualTo("kept");
      PluginEvent.Starting starting = second.only(PluginEvent.Starting.class);
      assertThat(starting.reattach()).isTrue();
      PluginEvent.Reattached reattached = second.only(PluginEvent.Reattached.class);
      assertThat(reattached.runnerId()).isEqualTo(rc.runnerId());
      assertThat(reattached.address()).isEqualTo(rc.address());
      assertThat(reattached.source().runnerKind()).isEqualTo(ReattachConfig.KIND_PROCESS);
    }
    assertThat(second.kinds()).containsExactly("Starting", "Reattached", "Exited", "Closed");
    assertThat(second.only(PluginEvent.Exited.class).requested()).isTrue();
    assertNothingLeaked(leaks, sockets);
  }
}
