package dev.goplugin4j.container;

import static org.assertj.core.api.Assertions.assertThat;

import dev.goplugin4j.container.internal.ContainerInfo;
import dev.goplugin4j.container.internal.DockerJavaEngine;
import dev.goplugin4j.container.internal.Engine;
import dev.goplugin4j.host.PluginCommand;
import dev.goplugin4j.host.Runner;
import dev.goplugin4j.protocol.NetAddress;
import dev.goplugin4j.protocol.internal.transport.GrpcTransport;
import io.grpc.ManagedChannel;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** Shared helpers of the container integration tests (real engine, real images). */
final class ItSupport {
  static final String ENGINE = "unix:///var/run/docker.sock";
  /** Parent of every socket dir the tests make; checked empty after each class. */
  static final Path SOCKET_DIRS = Path.of("/tmp/goplugin4j-container-it");

  private ItSupport() {}

  static Engine engine() {
    return DockerJavaEngine.connect(ENGINE, null);
  }

  static Optional<ContainerInfo> inspect(String id) {
    try (Engine e = engine()) {
      return e.inspect(id);
    }
  }

  /** A fresh socket dir, 0700, as a host makes it. */
  static Path newSocketDir() {
    try {
      Files.createDirectories(SOCKET_DIRS);
      return Files.createTempDirectory(SOCKET_DIRS, "s",
          PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** What a host computes for plugincontainer's counter (no AutoMTLS: plaintext gRPC). */
  static PluginCommand counterCommand(Path socketDir) {
    Map<String, String> env = new LinkedHashMap<>();
    env.put("BASIC_PLUGIN", "hello");
    env.put("PLUGIN_PROTOCOL_VERSIONS", "1");
    env.put("PLUGIN_MIN_PORT", "10000");
    env.put("PLUGIN_MAX_PORT", "25000");
    env.put("PLUGIN_UNIX_SOCKET_DIR", socketDir.toString());
    return new PluginCommand(java.util.List.of(), env);
  }

  /** The first stdout line, or fails after the timeout; null at end of stream. */
  static String readLine(InputStream in, Duration timeout) {
    CompletableFuture<String> line = CompletableFuture.supplyAsync(() -> {
      ByteArrayOutputStream b = new ByteArrayOutputStream();
      try {
        int c;
        while ((c = in.read()) >= 0 && c != '\n') {
          b.write(c);
        }
        return c < 0 && b.size() == 0 ? null : b.toString(StandardCharsets.UTF_8);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    });
    try {
      return line.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      return "TIMEOUT";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    } catch (ExecutionException e) {
      throw new IllegalStateException(e.getCause());
    }
  }

  /** Collects a stream in the background (plugin logs), for failure messages. */
  static ByteArrayOutputStream drain(InputStream in) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    Thread t = new Thread(() -> {
      try {
        in.transferTo(new java.io.OutputStream() {
          @Override
          public void write(int b) {
            synchronized (out) {
              out.write(b);
            }
          }

          @Override
          public void write(byte[] b, int off, int len) {
            synchronized (out) {
              out.write(b, off, len);
            }
          }
        });
      } catch (IOException e) {
        // stream cut at kill
      }
    }, "it-drain");
    t.setDaemon(true);
    t.start();
    return out;
  }

  /**
   * Reads the handshake, translates the address, checks the socket on the host and calls
   * grpc.health.v1 "plugin".
   *
   * @return the host socket path
   */
  static Path handshakeAndHealthCheck(Runner runner, ByteArrayOutputStream stderr) {
    String line = readLine(runner.stdout(), Duration.ofSeconds(60));
    assertThat(line)
        .as("handshake line; stderr: %s; diagnosis: %s", stderr, line == null
            || "TIMEOUT".equals(line) ? runner.diagnose() : "")
        .isNotNull()
        .isNotEqualTo("TIMEOUT");
    String[] parts = line.split("\\|", -1);
    assertThat(parts).as(line).hasSizeGreaterThanOrEqualTo(6);
    assertThat(parts[0]).isEqualTo("1");
    assertThat(parts[1]).isEqualTo("1");
    assertThat(parts[2]).isEqualTo("unix");
    assertThat(parts[3]).startsWith(ContainerConfig.CONTAINER_SOCKET_DIR + "/");
    assertThat(parts[4]).isEqualTo("grpc");
    NetAddress host = runner.pluginToHost(NetAddress.unix(parts[3]));
    Path socket = Path.of(host.address());
    assertThat(socket.getParent()).isEqualTo(
        Path.of(runner instanceof dev.goplugin4j.container.internal.ContainerRunner
            ? ((dev.goplugin4j.container.internal.ContainerRunner) runner).socketDir().toString()
            : socket.getParent().toString()));
    assertThat(Files.exists(socket)).as("socket %s exists on the host", socket).isTrue();
    assertThat(health(host)).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
    return socket;
  }

  static HealthCheckResponse.ServingStatus health(NetAddress address) {
    EventLoopGroup group = GrpcTransport.newEventLoopGroup(1, "it-grpc");
    ManagedChannel ch = GrpcTransport.channel(address, null, group, null);
    try {
      return HealthGrpc.newBlockingStub(ch)
          .withDeadlineAfter(20, TimeUnit.SECONDS)
          .check(HealthCheckRequest.newBuilder().setService("plugin").build())
          .getStatus();
    } finally {
      ch.shutdownNow();
      try {
        ch.awaitTermination(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      GrpcTransport.shutdown(group);
    }
  }

  static void deleteSocketDir(Path dir) {
    TestImages.deleteTree(dir);
  }
}
