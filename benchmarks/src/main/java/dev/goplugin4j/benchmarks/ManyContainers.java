package dev.goplugin4j.benchmarks;

import dev.goplugin4j.container.ContainerConfig;
import dev.goplugin4j.host.PluginClient;
import dev.goplugin4j.interop.Storage;
import dev.goplugin4j.interop.StorageCounter;
import dev.goplugin4j.interop.StorageCounterPlugin;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Figure {@code containers_32_first_calls_{runc,runsc}}: {@code count} containerized plugins
 * (plugincontainer's plugin-counter image, AutoMTLS, classic broker) started at once from one
 * warm host, one thread each: the wall time from the start until every one has answered its
 * first brokered {@code Increment}. Closing them is not measured. One warm-up round first. The
 * Go driver ({@code containerhost many}) does the same with go-plugin + plugincontainer, one
 * goroutine each. Goal (issue 11): at most Go's time. Not thread-safe.
 */
final class ManyContainers {
  private ManyContainers() {}

  static String run(String image, String runtime, int count, int warmups, int runs) throws Exception {
    ContainerConfig config = ContainerConfig.builder().image(image).tag("latest").runtime(runtime)
        .disableNetwork(true).build();
    List<Long> samples = new ArrayList<>();
    ExecutorService pool = Executors.newFixedThreadPool(count);
    try {
      for (int r = 0; r < warmups + runs; r++) {
        List<PluginClient> clients = new ArrayList<>();
        for (int i = 0; i < count; i++) {
          clients.add(PluginClient.builder()
              .handshake(1, "BASIC_PLUGIN", "hello")
              .plugin("counter", new StorageCounterPlugin())
              .runner(config)
              .skipHostEnv(true)
              .build());
        }
        try {
          long t0 = System.nanoTime();
          List<Future<Long>> calls = new ArrayList<>();
          for (PluginClient c : clients) {
            calls.add(pool.submit(() -> c.dispense("counter", StorageCounter.class).increment("bench", 1, new Memory())));
          }
          for (Future<Long> f : calls) {
            if (f.get() != 1) {
              throw new IllegalStateException("a first increment did not return 1");
            }
          }
          long wall = System.nanoTime() - t0;
          if (r >= warmups) {
            samples.add(wall);
          }
        } finally {
          List<Future<?>> closing = new ArrayList<>();
          for (PluginClient c : clients) {
            closing.add(pool.submit(c::close));
          }
          for (Future<?> f : closing) {
            f.get();
          }
        }
      }
    } finally {
      pool.shutdownNow();
    }
    Map<String, Object> m = Results.perRunNanos(samples);
    m.put("runtime", runtime);
    m.put("plugins", count);
    m.put("mtls", true);
    return Results.line("containers_" + count + "_first_calls_" + runtime, "java", m);
  }

  private static final class Memory implements Storage {
    private final Map<String, Long> data = new ConcurrentHashMap<>();

    @Override
    public long get(String key) {
      return data.getOrDefault(key, 0L);
    }

    @Override
    public void put(String key, long value) {
      data.put(key, value);
    }
  }
}
