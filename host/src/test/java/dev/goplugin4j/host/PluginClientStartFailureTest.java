package dev.goplugin4j.host;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.goplugin4j.protocol.HandshakeException;
import dev.goplugin4j.protocol.NetAddress;
import io.grpc.Channel;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** Start failures with a scripted in-memory runner: fast checks of the messages and cleanup. */
class PluginClientStartFailureTest {

  /** A runner whose stdout/stderr are scripted; exit and kill are observable. */
  static final class ScriptedRunner implements Runner {
    final PipedOutputStream stdoutWriter = new PipedOutputStream();
    final PipedInputStream stdout;
    final InputStream stderr;
    final CompletableFuture<Integer> exit = new CompletableFuture<>();
    final AtomicBoolean killed = new AtomicBoolean();
    final AtomicReference<PluginCommand> command = new AtomicReference<>();

    ScriptedRunner(String stderrText) {
      try {
        stdout = new PipedInputStream(stdoutWriter, 64 * 1024);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      stderr = new ByteArrayInputStream(stderrText.getBytes(StandardCharsets.UTF_8));
    }

    void print(String line) {
      try {
        stdoutWriter.write((line + "\n").getBytes(StandardCharsets.UTF_8));
        stdoutWriter.flush();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    void exit(int code) {
      try {
        stdoutWriter.close();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      exit.complete(code);
    }

    @Override public void start() {}
    @Override public String diagnose() { return "scripted runner diagnosis"; }
    @Override public InputStream stdout() { return stdout; }
    @Override public InputStream stderr() { return stderr; }
    @Override public String name() { return "scripted"; }
    @Override public CompletableFuture<Integer> onExit() { return exit; }
    @Override public void kill() {
      killed.set(true);
      if (!exit.isDone()) {
        exit(-9);
      }
    }
    @Override public String id() { return "scripted-1"; }
    @Override public NetAddress pluginToHost(NetAddress a) { return a; }
    @Override public NetAddress hostToPlugin(NetAddress a) { return a; }
  }

  private static PluginClient client(ScriptedRunner r, AtomicReference<Path> dir, Duration timeout) {
    return PluginClient.builder()
        .handshake(1, "COOKIE", "yes")
        .plugin("p", (GrpcPlugin<Channel>) (ch, b) -> ch)
        .runner((cmd, socketDir) -> {
          r.command.set(cmd);
          dir.set(socketDir);
          return r;
        })
        .startTimeout(timeout)
        .build();
  }

  @Test
  void junkOnStdoutIsNamedAsTheLikelyCause() {
    ScriptedRunner r = new ScriptedRunner("");
    AtomicReference<Path> dir = new AtomicReference<>();
    r.print("Starting my plugin v1.2...");
    try (PluginClient c = client(r, dir, Duration.ofSeconds(5))) {
      assertThatThrownBy(c::start)
          .isInstanceOf(HandshakeException.class)
          .hasMessageContaining("unrecognized remote plugin message")
          .hasMessageContaining("printed to stdout before its handshake")
          .hasMessageContaining("Starting my plugin v1.2")
          .hasMessageContaining("scripted runner diagnosis");
    }
    assertThat(r.killed).isTrue();
    assertThat(dir.get()).doesNotExist();
  }

  @Test
  void exitBeforeHandshakeReportsStatusAndStderr() {
    ScriptedRunner r = new ScriptedRunner("fatal: config file missing\n");
    AtomicReference<Path> dir = new AtomicReference<>();
    r.exit(3);
    try (PluginClient c = client(r, dir, Duration.ofSeconds(5))) {
      assertThatThrownBy(c::start)
          .isInstanceOf(PluginStartException.class)
          .hasMessageContaining("plugin exited before we could connect")
          .hasMessageContaining("exit status 3")
          .hasMessageContaining("fatal: config file missing")
          .hasMessageContaining("scripted runner diagnosis");
    }
    assertThat(dir.get()).doesNotExist();
  }

  @Test
  void noHandshakeWithinTheTimeoutKillsThePlugin() {
    ScriptedRunner r = new ScriptedRunner("");
    AtomicReference<Path> dir = new AtomicReference<>();
    try (PluginClient c = client(r, dir, Duration.ofMillis(300))) {
      assertThatThrownBy(c::start)
          .isInstanceOf(PluginStartException.class)
          .hasMessageContaining("timeout while waiting for plugin to start");
    }
    assertThat(r.killed).isTrue();
    assertThat(dir.get()).doesNotExist();
  }

  @Test
  void wrongCoreVersionSaysRecompileAndKills() {
    ScriptedRunner r = new ScriptedRunner("");
    AtomicReference<Path> dir = new AtomicReference<>();
    r.print("2|1|unix|/tmp/nowhere|grpc|");
    try (PluginClient c = client(r, dir, Duration.ofSeconds(5))) {
      assertThatThrownBy(c::start)
          .isInstanceOf(HandshakeException.class)
          .hasMessageContaining("incompatible core API version");
    }
    assertThat(r.killed).isTrue();
  }

  @Test
  void autoMtlsWithoutPluginCertificateIsRefusedClearly() {
    ScriptedRunner r = new ScriptedRunner("");
    AtomicReference<Path> dir = new AtomicReference<>();
    r.print("1|1|unix|/tmp/nowhere|grpc|");
    try (PluginClient c = client(r, dir, Duration.ofSeconds(5))) {
      assertThatThrownBy(c::start)
          .isInstanceOf(HandshakeException.class)
          .hasMessageContaining("returned no certificate")
          .hasMessageContaining("autoMtls(false)");
    }
  }

  @Test
  void pluginEnvironmentCarriesGoPluginVariables() {
    ScriptedRunner r = new ScriptedRunner("");
    AtomicReference<Path> dir = new AtomicReference<>();
    r.exit(1);
    try (PluginClient c = client(r, dir, Duration.ofSeconds(5))) {
      assertThatThrownBy(c::start).isInstanceOf(PluginStartException.class);
    }
    var env = r.command.get().env();
    assertThat(env).containsEntry("COOKIE", "yes")
        .containsEntry("PLUGIN_PROTOCOL_VERSIONS", "1")
        .containsEntry("PLUGIN_MIN_PORT", "10000")
        .containsEntry("PLUGIN_MAX_PORT", "25000")
        .containsEntry("PLUGIN_UNIX_SOCKET_DIR", dir.get().toString())
        .doesNotContainKey("PLUGIN_MULTIPLEX_GRPC");
    assertThat(env.get("PLUGIN_CLIENT_CERT")).startsWith("-----BEGIN CERTIFICATE-----");
  }

  @Test
  void socketDirectoryIsPrivateToTheUser() throws Exception {
    ScriptedRunner r = new ScriptedRunner("");
    AtomicReference<Path> dir = new AtomicReference<>();
    AtomicReference<String> perms = new AtomicReference<>();
    PluginClient c = PluginClient.builder()
        .handshake(1, "COOKIE", "yes")
        .plugin("p", (GrpcPlugin<Channel>) (ch, b) -> ch)
        .runner((cmd, socketDir) -> {
          dir.set(socketDir);
          try {
            perms.set(java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(socketDir)));
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
          return r;
        })
        .build();
    r.exit(1);
    try (c) {
      assertThatThrownBy(c::start).isInstanceOf(PluginStartException.class);
    }
    assertThat(perms.get()).isEqualTo("rwx------");
  }
}
