package dev.goplugin4j.container;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.goplugin4j.container.internal.ContainerSpec;
import dev.goplugin4j.container.internal.DockerJavaEngine;
import dev.goplugin4j.container.internal.Engine;
import dev.goplugin4j.container.internal.EngineException;
import dev.goplugin4j.container.internal.HostId;
import dev.goplugin4j.container.internal.Labels;
import dev.goplugin4j.host.PluginClient;
import dev.goplugin4j.host.PluginStartException;
import dev.goplugin4j.interop.StorageCounterPlugin;
import dev.goplugin4j.testkit.Leaks;
import java.io.IOException;
import java.io.InputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Engine calls are bounded: a stuck engine fails a call at the call timeout, and the host's start
 * timeout bounds a runner stuck on it; attach and wait streams are not bounded.
 */
@ExtendWith(NoLeftoverContainers.class)
class EngineTimeoutsIT {

  /** A Unix socket that accepts connections, reads requests and never answers. */
  private static final class StuckEngine implements AutoCloseable {
    final Path dir;
    final Path socket;
    private final ServerSocketChannel server;
    private final List<SocketChannel> clients = new CopyOnWriteArrayList<>();
    private final Thread acceptor;

    StuckEngine() throws IOException {
      dir = ItSupport.newSocketDir();
      socket = dir.resolve("stuck.sock");
      server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
      server.bind(UnixDomainSocketAddress.of(socket));
      acceptor = new Thread(() -> {
        try {
          while (true) {
            SocketChannel c = server.accept();
            clients.add(c);
            Thread reader = new Thread(() -> {
              ByteBuffer b = ByteBuffer.allocate(4096);
              try {
                while (c.read(b.clear()) >= 0) {
                  // swallow the request, answer nothing
                }
              } catch (IOException e) {
                // closed
              }
            }, "test-stuck-engine-reader");
            reader.setDaemon(true);
            reader.start();
          }
        } catch (IOException e) {
          // closed
        }
      }, "test-stuck-engine");
      acceptor.setDaemon(true);
      acceptor.start();
    }

    String endpoint() {
      return "unix://" + socket;
    }

    @Override
    public void close() throws IOException {
      server.close();
      for (SocketChannel c : clients) {
        c.close();
      }
      try {
        acceptor.join(2000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      ItSupport.deleteSocketDir(dir);
    }
  }

  @Test
  void aStuckEngineFailsTheCallAtTheCallTimeoutSayingSo() throws Exception {
    try (StuckEngine stuck = new StuckEngine()) {
      long t0 = System.nanoTime();
      assertThatThrownBy(() -> DockerJavaEngine.connect(stuck.endpoint(), null,
          Duration.ofSeconds(1)))
          .isInstanceOf(EngineException.class)
          .hasMessageContaining("did not answer in time")
          .hasMessageContaining("docker info");
      assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0)).isBetween(900L, 10_000L);
    }
  }

  @Test
  void attachAndWaitStreamsOutliveTheCallTimeout() throws Exception {
    Path dir = ItSupport.newSocketDir();
    try (Engine e = DockerJavaEngine.connect(ItSupport.ENGINE, null, Duration.ofSeconds(1))) {
      ContainerSpec s = new ContainerSpec(TestImages.HANG + ":latest", List.of(), null, null,
          true, Map.of(Labels.MANAGED, "true", Labels.OWNER, HostId.current().toString(),
              Labels.PLUGIN, "timeouts-it"), true, "", 0, 0, "", List.of("ALL"), List.of(),
          List.of(), List.of(), 0, false, Map.of(), dir.toString(),
          ContainerConfig.CONTAINER_SOCKET_DIR, Map.of());
      String id = e.createContainer(s);
      try (InputStream attached = e.attach(id)) {
        CompletableFuture<Long> exit = e.waitForExit(id, true);
        e.start(id);
        CompletableFuture<Integer> firstByte = CompletableFuture.supplyAsync(() -> {
          try {
            return attached.read();
          } catch (IOException ex) {
            throw new java.io.UncheckedIOException(ex);
          }
        });
        Thread.sleep(2500);
        assertThat(exit).as("the wait is still open past the 1 s call timeout").isNotDone();
        assertThat(firstByte).as("the attach stream is still open").isNotDone();
        assertThat(e.inspect(id)).hasValueSatisfying(i -> assertThat(i.running()).isTrue());
        e.stop(id, 0);
        assertThat(exit.get(10, TimeUnit.SECONDS)).isEqualTo(137L);
        assertThat(firstByte.get(10, TimeUnit.SECONDS)).as("end of stream at exit").isEqualTo(-1);
      } finally {
        e.stop(id, 0);
        e.remove(id);
      }
    } finally {
      ItSupport.deleteSocketDir(dir);
    }
  }

  @Test
  void hostStartTimeoutBoundsARunnerStuckOnAHangingEngine() throws Exception {
    Leaks leaks = Leaks.snapshot("goplugin4j-");
    try (StuckEngine stuck = new StuckEngine()) {
      ContainerConfig config = ContainerConfig.builder().image(TestImages.COUNTER)
          .engineEndpoint(stuck.endpoint()).build();
      long t0 = System.nanoTime();
      try (PluginClient client = PluginClient.builder()
          .handshake(1, "BASIC_PLUGIN", "hello")
          .plugin("counter", new StorageCounterPlugin())
          .unixSocketTempDir(Files.createDirectories(ItSupport.SOCKET_DIRS))
          .runner(config)
          .startTimeout(Duration.ofSeconds(2))
          .build()) {
        assertThatThrownBy(client::start).isInstanceOf(PluginStartException.class)
            .hasMessageContaining("timeout while starting the plugin")
            .hasMessageContaining("2000 ms")
            .hasMessageContaining("Image ref: " + TestImages.COUNTER);
      }
      assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0))
          .as("start and close end near the start timeout, not at the engine's call timeout")
          .isLessThan(10_000);
      // the runner's start gives up at the engine's call timeout, then nothing is left
      leaks.assertNoneWithin(Duration.ofSeconds(45));
    }
  }
}
