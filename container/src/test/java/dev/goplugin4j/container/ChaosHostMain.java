package dev.goplugin4j.container;

import dev.goplugin4j.host.PluginClient;
import dev.goplugin4j.interop.Storage;
import dev.goplugin4j.interop.StorageCounter;
import dev.goplugin4j.interop.StorageCounterPlugin;
import java.nio.file.Path;
import java.time.Duration;

/**
 * A host that {@link ChaosIT} kills: in a JVM of its own, starts plugincontainer's counter (as a
 * process, or in a container under runc or runsc), calls it once, prints {@value #READY_PREFIX}
 * and the client's reattach config (one line of JSON), then waits to be killed. It never closes
 * the client: its death is the point.
 *
 * <p>Arguments: {@code process|runc|runsc}, the socket parent directory, the counter binary.
 */
final class ChaosHostMain {
  static final String READY_PREFIX = "CHAOS-HOST-READY ";

  private ChaosHostMain() {}

  public static void main(String[] args) throws Exception {
    String kind = args[0];
    Path socketParent = Path.of(args[1]);
    PluginClient.Builder b = PluginClient.builder()
        .handshake(1, "BASIC_PLUGIN", "hello")
        .plugin("counter", new StorageCounterPlugin())
        .autoMtls(true)
        .skipHostEnv(true)
        .unixSocketTempDir(socketParent)
        .startTimeout(Duration.ofSeconds(60));
    if (kind.equals("process")) {
      b.command(args[2]);
    } else {
      b.runner(ContainerConfig.builder().image(TestImages.COUNTER).runtime(kind).build());
    }
    PluginClient client = b.build();
    client.start();
    long v = client.dispense("counter", StorageCounter.class).increment("k", 1, new Storage() {
      @Override
      public long get(String key) {
        return 0;
      }

      @Override
      public void put(String key, long value) {}
    });
    if (v != 1) {
      throw new IllegalStateException("counter returned " + v);
    }
    System.out.println(READY_PREFIX + client.reattachConfig().orElseThrow().toJson());
    System.out.flush();
    Thread.sleep(Long.MAX_VALUE);
  }
}
