package dev.goplugin4j.container;

import static org.assertj.core.api.Assertions.assertThat;

import dev.goplugin4j.host.PluginClient;
import dev.goplugin4j.host.PluginCommand;
import dev.goplugin4j.host.Runner;
import dev.goplugin4j.interop.StorageCounter;
import dev.goplugin4j.interop.StorageCounterPlugin;
import dev.goplugin4j.protocol.NetAddress;
import dev.goplugin4j.protocol.PluginException;
import dev.goplugin4j.testkit.GoPeers;
import dev.goplugin4j.testkit.Leaks;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The runner SPI allows a remote runner (docs/scale-out.md, section 4): a plugin in a container
 * on its own Docker network, sharing no directory with the host, reached over TCP published on
 * the host's loopback through a sidecar that forwards to the plugin's Unix socket. AutoMTLS runs
 * end to end through the bridge and every brokered call rides the multiplexed connection.
 */
class RemoteRunnerIT {
  private static final String BRIDGE_IMAGE = "goplugin4j-it/socket-bridge";
  private static final String LABEL = "dev.goplugin4j.test.remote-runner";
  private static final int BRIDGE_PORT = 7000;

  @BeforeAll
  static void images() throws IOException {
    TestImages.ensureBuilt();
    Path bridge = GoPeers.create().badPlugin("socket-bridge");
    Path ctx = Files.createTempDirectory("goplugin4j-bridge-image");
    try {
      Files.copy(bridge, ctx.resolve("socket-bridge"), StandardCopyOption.REPLACE_EXISTING);
      Files.writeString(ctx.resolve("Dockerfile"),
          "FROM scratch\nCOPY socket-bridge /socket-bridge\nENTRYPOINT [\"/socket-bridge\"]\n");
      TestImages.run(List.of("docker", "build", "-q", "-t", BRIDGE_IMAGE, ctx.toString()));
    } finally {
      TestImages.deleteTree(ctx);
    }
  }

  @Test
  void aPluginOnItsOwnNetworkIsReachedOverLoopbackTcpWithAutoMtlsAndBrokeredCallbacks() {
    Leaks leaks = Leaks.snapshot("goplugin4j-");
    List<BridgedRunner> runners = new ArrayList<>();
    try (PluginClient client = PluginClient.builder()
        .handshake(1, "BASIC_PLUGIN", "hello")
        .plugin("counter", new StorageCounterPlugin())
        .autoMtls(true)
        .multiplexBroker(true)
        .skipHostEnv(true)
        .startTimeout(Duration.ofSeconds(60))
        .runner((command, socketDir) -> {
          BridgedRunner r = new BridgedRunner(command);
          runners.add(r);
          return r;
        })
        .build()) {
      client.start();
      BridgedRunner runner = runners.get(0);
      assertThat(client.toString()).contains("tcp:127.0.0.1:" + runner.hostPort);

      // the plugin shares no directory with the host and sits on its own network
      String mounts = TestImages.run(List.of("docker", "inspect", "-f",
          "{{range .Mounts}}{{.Type}}:{{.Source}} {{end}}|{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}",
          runner.pluginName)).trim();
      assertThat(mounts).startsWith("volume:").doesNotContain("bind:")
          .endsWith("|" + runner.network);

      StorageCounter counter = client.dispense("counter", StorageCounter.class);
      PluginClientContainerIT.MemoryStorage storage = new PluginClientContainerIT.MemoryStorage();
      assertThat(counter.increment("hello", 1, storage)).isEqualTo(1);
      assertThat(counter.increment("hello", 2, storage)).isEqualTo(3);
      assertThat(counter.increment("world", 2, storage)).isEqualTo(2);
      assertThat(storage.data).containsEntry("hello", 3L).containsEntry("world", 2L);
    }
    assertThat(runners).hasSize(1);
    BridgedRunner r = runners.get(0);
    assertThat(TestImages.run(List.of("docker", "ps", "-aq", "--filter", "label=" + LABEL + "=" + r.tag)))
        .as("containers left").isBlank();
    assertThat(TestImages.run(List.of("docker", "network", "ls", "-q", "--filter", "name=" + r.network)))
        .as("network left").isBlank();
    assertThat(TestImages.run(List.of("docker", "volume", "ls", "-q", "--filter", "name=" + r.volume)))
        .as("volume left").isBlank();
    leaks.assertNoneWithin(Duration.ofSeconds(10));
  }

  /**
   * A runner that starts the plugin on a Docker network of its own, with a sidecar that
   * forwards a TCP port (published on 127.0.0.1 only) to the plugin's socket in a volume the two
   * containers share. It translates the plugin's in-container Unix address to that TCP address;
   * the reverse direction is refused, so only the multiplexed broker works, as docs/scale-out.md
   * says.
   */
  private static final class BridgedRunner implements Runner {
    final String tag = UUID.randomUUID().toString().substring(0, 8);
    final String network = "goplugin4j-remote-" + tag;
    final String volume = "goplugin4j-remote-" + tag;
    final String pluginName = "goplugin4j-remote-plugin-" + tag;
    final String bridgeName = "goplugin4j-remote-bridge-" + tag;
    private final PluginCommand command;
    private Process docker;
    volatile int hostPort;

    BridgedRunner(PluginCommand command) {
      this.command = command;
    }

    @Override
    public void start() {
      TestImages.run(List.of("docker", "network", "create", "--label", LABEL + "=" + tag, network));
      TestImages.run(List.of("docker", "volume", "create", "--label", LABEL + "=" + tag, volume));
      TestImages.run(List.of("docker", "run", "-d", "--rm", "--name", bridgeName,
          "--label", LABEL + "=" + tag, "--network", network, "-v", volume + ":/sock",
          "-p", "127.0.0.1::" + BRIDGE_PORT, BRIDGE_IMAGE, "/sock", ":" + BRIDGE_PORT));
      String port = TestImages.run(List.of("docker", "port", bridgeName, BRIDGE_PORT + "/tcp"))
          .lines().filter(l -> l.startsWith("127.0.0.1:")).findFirst().orElseThrow();
      hostPort = Integer.parseInt(port.substring(port.lastIndexOf(':') + 1).trim());
      List<String> cmd = new ArrayList<>(List.of("docker", "run", "-i", "--rm", "--name", pluginName,
          "--label", LABEL + "=" + tag, "--network", network, "-v", volume + ":/sock",
          "--cap-drop", "ALL", "--security-opt", "no-new-privileges"));
      command.env().forEach((k, v) -> {
        if (!k.equals("PLUGIN_UNIX_SOCKET_DIR") && !k.equals("PLUGIN_UNIX_SOCKET_GROUP")) {
          cmd.add("-e");
          cmd.add(k + "=" + v);
        }
      });
      cmd.add("-e");
      cmd.add("PLUGIN_UNIX_SOCKET_DIR=/sock");
      cmd.add(TestImages.COUNTER);
      try {
        docker = new ProcessBuilder(cmd).directory(Path.of("/").toFile()).start();
        docker.getOutputStream().close();
      } catch (IOException e) {
        cleanUp();
        throw new PluginException("cannot run docker: " + e, e);
      }
    }

    @Override
    public String diagnose() {
      return "remote test runner: plugin " + pluginName + ", bridge " + bridgeName
          + " on 127.0.0.1:" + hostPort;
    }

    @Override
    public InputStream stdout() {
      return docker.getInputStream();
    }

    @Override
    public InputStream stderr() {
      return docker.getErrorStream();
    }

    @Override
    public String name() {
      return TestImages.COUNTER + " (bridged)";
    }

    @Override
    public CompletableFuture<Integer> onExit() {
      return docker.onExit().thenApply(Process::exitValue);
    }

    @Override
    public void kill() {
      cleanUp();
    }

    private void cleanUp() {
      quietly(List.of("docker", "rm", "-f", pluginName, bridgeName));
      if (docker != null) {
        docker.destroyForcibly();
        docker.onExit().join();
      }
      quietly(List.of("docker", "network", "rm", network));
      quietly(List.of("docker", "volume", "rm", "-f", volume));
    }

    private static void quietly(List<String> cmd) {
      try {
        Process p = new ProcessBuilder(cmd).directory(Path.of("/").toFile())
            .redirectErrorStream(true).start();
        p.getOutputStream().close();
        p.getInputStream().readAllBytes();
        p.waitFor();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

    @Override
    public String id() {
      return pluginName;
    }

    @Override
    public NetAddress pluginToHost(NetAddress pluginAddress) {
      if (!NetAddress.UNIX.equals(pluginAddress.network())
          || !pluginAddress.address().startsWith("/sock/plugin")) {
        throw new PluginException("unexpected plugin address " + pluginAddress);
      }
      return NetAddress.tcp("127.0.0.1:" + hostPort);
    }

    @Override
    public NetAddress hostToPlugin(NetAddress hostAddress) {
      throw new PluginException("a remote plugin cannot dial the host: use multiplexBroker(true)");
    }
  }
}
