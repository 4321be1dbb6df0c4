package dev.goplugin4j.interop;

import static dev.goplugin4j.interop.InteropSupport.PEERS;
import static dev.goplugin4j.interop.InteropSupport.THREAD_PREFIX;
import static dev.goplugin4j.interop.InteropSupport.assertNothingLeaked;
import static dev.goplugin4j.interop.InteropSupport.assertProcessGone;
import static dev.goplugin4j.interop.InteropSupport.exampleClient;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.goplugin4j.host.PluginClient;
import dev.goplugin4j.host.PluginGaveUpException;
import dev.goplugin4j.host.PluginRestartingException;
import dev.goplugin4j.host.PluginSupervisor;
import dev.goplugin4j.testkit.Leaks;
import io.grpc.StatusRuntimeException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * {@link PluginSupervisor} against real Go plugins (testkit's flaky-kv): a crash is restarted
 * while callers fail fast or wait, a plugin that keeps dying is given up on, a hanging one is
 * found by the health check and restarted, and an upgrade lets an in-flight call finish on the
 * old version. Each test checks that closing the supervisor leaves no thread, process or socket
 * directory.
 */
class PluginSupervisorIT {
  static {
    LoggerFactory.getILoggerFactory();
  }

  private static final Duration LONG_WAIT = Duration.ofSeconds(60);

  @TempDir Path sockets;

  private Supplier<PluginClient.Builder> flaky(String... env) {
    Path binary = PEERS.badPlugin("flaky-kv");
    return () -> {
      PluginClient.Builder b = exampleClient(binary, sockets).plugin("kv", new KvPlugin());
      for (int i = 0; i < env.length; i += 2) {
        b.env(env[i], env[i + 1]);
      }
      return b;
    };
  }

  private static String get(PluginSupervisor s, String key, Duration wait) {
    return s.call("kv", wait, c -> new String(c.dispense("kv", Kv.class).get(key),
        StandardCharsets.UTF_8));
  }

  @Test
  void aCrashedPluginIsRestartedWhileCallersFailFastOrWait() throws Exception {
    Leaks leaks = Leaks.snapshot(THREAD_PREFIX);
    List<PluginSupervisor.Event> events = new CopyOnWriteArrayList<>();
    long firstPid;
    try (PluginSupervisor s = PluginSupervisor.builder()
        .plugin("kv", flaky())
        .restartBackoff(Duration.ofMillis(500), Duration.ofSeconds(2))
        .healthCheckInterval(Duration.ZERO)
        .listener(events::add)
        .build()) {
      s.start();
      firstPid = Long.parseLong(get(s, "pid", Duration.ZERO));
      assertThat(s.status("kv").state()).isEqualTo(PluginSupervisor.State.RUNNING);

      assertThatThrownBy(() -> s.call("kv", c -> {
        c.dispense("kv", Kv.class).put("crash", "5".getBytes(StandardCharsets.UTF_8));
        return null;
      })).isInstanceOf(StatusRuntimeException.class);
      assertProcessGone(firstPid);
      // until the runner reports the exit the supervisor still lends the dead client: wait for it
      long deadline = System.nanoTime() + LONG_WAIT.toNanos();
      while (s.status("kv").state() == PluginSupervisor.State.RUNNING) {
        assertThat(System.nanoTime() - deadline).as("exit seen within " + LONG_WAIT).isNegative();
        Thread.sleep(5);
      }
      // the restart waits 500 ms: a caller that does not wait is told so at once
      assertThatThrownBy(() -> get(s, "pid", Duration.ZERO))
          .isInstanceOf(PluginRestartingException.class)
          .hasMessageContaining("plugin kv is restarting")
          .hasMessageContaining("status 5");

      long secondPid = Long.parseLong(get(s, "pid", LONG_WAIT));
      assertThat(secondPid).isNotEqualTo(firstPid);
      PluginSupervisor.Status status = s.status("kv");
      assertThat(status.state()).isEqualTo(PluginSupervisor.State.RUNNING);
      assertThat(status.restarts()).isEqualTo(1);
      assertThat(status.failuresInWindow()).isEqualTo(1);
      assertThat(status.lastFailure()).contains("exited with status 5");
    }
    assertThat(events).hasSize(2);
    assertThat(events.get(0)).isInstanceOfSatisfying(PluginSupervisor.Restarting.class, r -> {
      assertThat(r.delay()).isEqualTo(Duration.ofMillis(500));
      assertThat(r.failuresInWindow()).isEqualTo(1);
    });
    assertThat(events.get(1)).isInstanceOf(PluginSupervisor.Restarted.class);
    assertNothingLeaked(leaks, sockets);
  }

  @Test
  void aPluginThatKeepsDyingIsGivenUpOnAfterKFailuresInTheWindow() throws Exception {
    Leaks leaks = Leaks.snapshot(THREAD_PREFIX);
    CountDownLatch gaveUp = new CountDownLatch(1);
    List<PluginSupervisor.Event> events = new CopyOnWriteArrayList<>();
    try (PluginSupervisor s = PluginSupervisor.builder()
        .plugin("kv", flaky("FLAKY_EXIT_AFTER_MS", "300"))
        .restartBackoff(Duration.ofMillis(100), Duration.ofMillis(200))
        .giveUpAfter(3, Duration.ofMinutes(5))
        .healthCheckInterval(Duration.ZERO)
        .listener(e -> {
          events.add(e);
          if (e instanceof PluginSupervisor.GaveUp) {
            gaveUp.countDown();
          }
        })
        .build()) {
      s.start();
      assertThat(gaveUp.await(2, TimeUnit.MINUTES)).as("gave up").isTrue();
      assertThat(s.status("kv").state()).isEqualTo(PluginSupervisor.State.GAVE_UP);
      assertThat(s.status("kv").failuresInWindow()).isEqualTo(3);
      assertThatThrownBy(() -> get(s, "pid", Duration.ofSeconds(1)))
          .isInstanceOf(PluginGaveUpException.class)
          .hasMessageContaining("gave up on plugin kv after 3 failures")
          .hasMessageContaining("restart(\"kv\")");
    }
    assertThat(events.stream().map(e -> e.getClass().getSimpleName()).toList())
        .containsExactly("Restarting", "Restarted", "Restarting", "Restarted", "GaveUp");
    PluginSupervisor.Restarting second = (PluginSupervisor.Restarting) events.get(2);
    assertThat(second.delay()).isEqualTo(Duration.ofMillis(200));
    assertNothingLeaked(leaks, sockets);
  }

  @Test
  void aHangingPluginIsFoundByTheHealthCheckKilledAndRestarted() throws Exception {
    Leaks leaks = Leaks.snapshot(THREAD_PREFIX);
    List<PluginSupervisor.Event> events = new CopyOnWriteArrayList<>();
    try (PluginSupervisor s = PluginSupervisor.builder()
        .plugin("kv", flaky())
        .restartBackoff(Duration.ofMillis(100), Duration.ofSeconds(1))
        .healthCheckInterval(Duration.ofMillis(500))
        .listener(events::add)
        .build()) {
      s.start();
      long firstPid = Long.parseLong(get(s, "pid", Duration.ZERO));
      s.call("kv", c -> {
        c.dispense("kv", Kv.class).put("hang", new byte[0]);
        return null;
      });
      // the hung plugin is still alive: only the health check can tell (a call made now would
      // hang with it until the supervisor kills it)
      long deadline = System.nanoTime() + LONG_WAIT.toNanos();
      while (s.status("kv").restarts() < 1) {
        assertThat(System.nanoTime() - deadline).as("restarted within " + LONG_WAIT).isNegative();
        Thread.sleep(50);
      }
      long secondPid = Long.parseLong(get(s, "pid", LONG_WAIT));
      assertThat(secondPid).isNotEqualTo(firstPid);
      assertProcessGone(firstPid);
      assertThat(s.status("kv").lastFailure()).contains("health check failed");
    }
    assertThat(events.get(0)).isInstanceOfSatisfying(PluginSupervisor.Restarting.class,
        r -> assertThat(r.cause()).contains("health check failed"));
    assertNothingLeaked(leaks, sockets);
  }

  @Test
  void anUpgradeLetsInFlightCallsFinishOnTheOldVersionThenClosesIt() throws Exception {
    Leaks leaks = Leaks.snapshot(THREAD_PREFIX);
    List<PluginSupervisor.Event> events = new CopyOnWriteArrayList<>();
    try (PluginSupervisor s = PluginSupervisor.builder()
        .plugin("kv", flaky("FLAKY_VERSION", "1"))
        .healthCheckInterval(Duration.ZERO)
        .drainTimeout(Duration.ofSeconds(30))
        .listener(events::add)
        .build()) {
      s.start();
      assertThat(get(s, "version", Duration.ZERO)).isEqualTo("1");
      long oldPid = Long.parseLong(get(s, "pid", Duration.ZERO));
      CountDownLatch inFlight = new CountDownLatch(1);
      CompletableFuture<String> slowCall = CompletableFuture.supplyAsync(() ->
          s.call("kv", c -> {
            Kv kv = c.dispense("kv", Kv.class);
            inFlight.countDown();
            kv.put("sleep", "1500".getBytes(StandardCharsets.UTF_8));
            return new String(kv.get("version"), StandardCharsets.UTF_8);
          }));
      assertThat(inFlight.await(30, TimeUnit.SECONDS)).isTrue();

      s.upgrade("kv", flaky("FLAKY_VERSION", "2"));

      assertThat(slowCall.get(30, TimeUnit.SECONDS)).as("the in-flight call ran on v1").isEqualTo("1");
      assertThat(get(s, "version", Duration.ZERO)).isEqualTo("2");
      assertProcessGone(oldPid);
      assertThat(s.status("kv").restarts()).isZero();
    }
    assertThat(events).singleElement().isInstanceOfSatisfying(PluginSupervisor.Upgraded.class,
        u -> assertThat(u.drained()).isTrue());
    assertNothingLeaked(leaks, sockets);
  }
}
