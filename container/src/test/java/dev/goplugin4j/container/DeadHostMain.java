package dev.goplugin4j.container;

import dev.goplugin4j.host.PluginClient;
import dev.goplugin4j.interop.StorageCounterPlugin;
import java.nio.file.Path;
import java.time.Duration;

/**
 * A host that {@link ReaperSocketDirIT} kills (SIGKILL, or SIGTERM): in a JVM of its own it starts
 * plugincontainer's counter (as a process, or in a container under runc), prints {@value
 * #READY_PREFIX} and the client's reattach config (one line of JSON), then waits. It never closes
 * the client: what its death leaves behind is the point.
 *
 * <p>Arguments: {@code process|runc}, the socket parent directory, the counter binary, and
 * optionally {@code keep} to build the client with {@code closeOnJvmExit(false)}.
 */
final class DeadHostMain {
  static final String READY_PREFIX = "DEAD-HOST-READY ";

  private DeadHostMain() {}

  public static void main(String[] args) throws Exception {
    PluginClient.Builder b = PluginClient.builder()
        .handshake(1, "BASIC_PLUGIN", "hello")
        .plugin("counter", new StorageCounterPlugin())
        .skipHostEnv(true)
        .unixSocketTempDir(Path.of(args[1]))
        .startTimeout(Duration.ofSeconds(60))
        .closeOnJvmExit(!(args.length > 3 && args[3].equals("keep")));
    if (args[0].equals("process")) {
      b.command(args[2]);
    } else {
      b.runner(ContainerConfig.builder().image(TestImages.COUNTER).runtime(args[0]).build());
    }
    PluginClient client = b.build();
    client.start();
    System.out.println(READY_PREFIX + client.reattachConfig().orElseThrow().toJson());
    System.out.flush();
    Thread.sleep(Long.MAX_VALUE);
  }
}
