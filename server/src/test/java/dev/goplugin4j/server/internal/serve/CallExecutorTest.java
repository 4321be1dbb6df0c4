package dev.goplugin4j.server.internal.serve;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Proxy;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;

class CallExecutorTest {
  /** The names of the logging methods called ({@code debug}, {@code warn}...), in order. */
  private final List<String> calls = new CopyOnWriteArrayList<>();

  private final Logger log = (Logger) Proxy.newProxyInstance(
      Logger.class.getClassLoader(), new Class<?>[] {Logger.class}, (proxy, method, args) -> {
        String name = method.getName();
        if (name.startsWith("is") && name.endsWith("Enabled")) {
          return true;
        }
        if (method.getReturnType() == void.class) {
          calls.add(name);
        }
        return method.getReturnType() == String.class ? "test" : null;
      });

  @Test
  void runsCallsOnDaemonThreadsNamedForThePlugin() throws Exception {
    ExecutorService e = ServeSetup.callExecutor(log);
    CountDownLatch ran = new CountDownLatch(1);
    String[] name = new String[1];
    boolean[] daemon = new boolean[1];
    e.execute(() -> {
      name[0] = Thread.currentThread().getName();
      daemon[0] = Thread.currentThread().isDaemon();
      ran.countDown();
    });
    assertThat(ran.await(10, TimeUnit.SECONDS)).isTrue();
    e.shutdownNow();
    assertThat(e.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
    assertThat(name[0]).startsWith("plugin-grpc-");
    assertThat(daemon[0]).isTrue();
  }

  @Test
  void aTaskArrivingAfterShutdownIsDroppedWithADebugLineInsteadOfAnException() throws Exception {
    ExecutorService e = ServeSetup.callExecutor(log);
    e.shutdownNow();
    assertThat(e.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
    AtomicBoolean ran = new AtomicBoolean();

    e.execute(() -> ran.set(true));

    assertThat(ran).isFalse();
    assertThat(calls).containsExactly("debug");
  }
}
