package dev.goplugin4j.host;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.goplugin4j.host.PluginClientStartFailureTest.ScriptedRunner;
import dev.goplugin4j.protocol.HandshakeException;
import dev.goplugin4j.protocol.NetAddress;
import io.grpc.Channel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** {@link PluginClient.Builder#allowedProtocols}: go-plugin's AllowedProtocols, gRPC only. */
class PluginClientAllowedProtocolsTest {

  private static PluginClient.Builder scripted(ScriptedRunner r, AtomicReference<Path> dir) {
    return PluginClient.builder()
        .handshake(1, "COOKIE", "yes")
        .plugin("p", (GrpcPlugin<Channel>) (ch, b) -> ch)
        .runner((cmd, socketDir) -> {
          dir.set(socketDir);
          return r;
        })
        .startTimeout(Duration.ofSeconds(5));
  }

  @Test
  void defaultRefusesANetRpcPluginNamingTheAllowedSetAndKillsIt() {
    ScriptedRunner r = new ScriptedRunner("");
    AtomicReference<Path> dir = new AtomicReference<>();
    r.print("1|1|unix|/tmp/nowhere|netrpc|");
    try (PluginClient c = scripted(r, dir).build()) {
      assertThatThrownBy(c::start)
          .isInstanceOf(HandshakeException.class)
          .hasMessageContaining("unsupported plugin protocol \"netrpc\"; allowedProtocols is [grpc]")
          .hasMessageContaining("only Go hosts can use")
          .hasMessageContaining("scripted runner diagnosis");
    }
    assertThat(r.killed).isTrue();
    assertThat(dir.get()).doesNotExist();
  }

  @Test
  void aPluginAnnouncingAnUnknownProtocolIsRefusedByTheConfiguredSet() {
    ScriptedRunner r = new ScriptedRunner("");
    AtomicReference<Path> dir = new AtomicReference<>();
    r.print("1|1|unix|/tmp/nowhere|thrift|");
    try (PluginClient c = scripted(r, dir).allowedProtocols("grpc").build()) {
      assertThatThrownBy(c::start)
          .isInstanceOf(HandshakeException.class)
          .hasMessageContaining("unsupported plugin protocol \"thrift\"; allowedProtocols is [grpc]");
    }
    assertThat(r.killed).isTrue();
  }

  @Test
  void aGrpcPluginPassesTheProtocolCheckAndMeetsTheNextOne() {
    ScriptedRunner r = new ScriptedRunner("");
    AtomicReference<Path> dir = new AtomicReference<>();
    r.print("1|1|unix|/tmp/nowhere|grpc|");
    try (PluginClient c = scripted(r, dir).allowedProtocols("grpc", "grpc").build()) {
      // no certificate under AutoMTLS is the check after the protocol one
      assertThatThrownBy(c::start)
          .isInstanceOf(HandshakeException.class)
          .hasMessageContaining("returned no certificate")
          .hasMessageNotContaining("allowedProtocols");
    }
  }

  @Test
  void allowingNetRpcFailsAtBuildSayingTheJvmCannotSpeakIt() {
    PluginClient.Builder b =
        scripted(new ScriptedRunner(""), new AtomicReference<>()).allowedProtocols("grpc", "netrpc");
    assertThatThrownBy(b::build)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("allowedProtocols [grpc, netrpc] includes \"netrpc\"")
        .hasMessageContaining("the JVM cannot speak Go's net/rpc protocol")
        .hasMessageContaining("allowedProtocols(\"grpc\")");
  }

  @Test
  void netRpcAloneAlsoFailsAtBuild() {
    PluginClient.Builder b =
        scripted(new ScriptedRunner(""), new AtomicReference<>()).allowedProtocols("netrpc");
    assertThatThrownBy(b::build)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("cannot speak Go's net/rpc");
  }

  @Test
  void anEmptyOrUnknownProtocolListIsRejectedAtOnce() {
    PluginClient.Builder b = PluginClient.builder();
    assertThatThrownBy(() -> b.allowedProtocols())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("at least one protocol");
    assertThatThrownBy(() -> b.allowedProtocols("grpc", "http"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("unknown plugin protocol \"http\"")
        .hasMessageContaining("\"grpc\" and \"netrpc\"");
    assertThatThrownBy(() -> b.allowedProtocols("grpc", null)).isInstanceOf(NullPointerException.class);
  }

  @Test
  void aDerivedBuilderKeepsTheAllowedProtocols() {
    ScriptedRunner r = new ScriptedRunner("");
    AtomicReference<Path> dir = new AtomicReference<>();
    r.print("1|1|unix|/tmp/nowhere|netrpc|");
    try (PluginClient first = scripted(r, dir).allowedProtocols("grpc").build();
        PluginClient c = first.newBuilder().build()) {
      assertThatThrownBy(c::start)
          .isInstanceOf(HandshakeException.class)
          .hasMessageContaining("allowedProtocols is [grpc]");
    }
  }

  @Test
  void aReattachConfigOfAnotherProtocolIsRefusedBeforeTheReattacherRuns() {
    ReattachConfig rc = new ReattachConfig(
        "netrpc", 1, NetAddress.unix("/tmp/nowhere.sock"), "test", "t-1", Map.of(), false, "", "", "",
        false);
    AtomicBoolean reattacherCalled = new AtomicBoolean();
    try (PluginClient c =
        PluginClient.builder()
            .plugin("p", (GrpcPlugin<Channel>) (ch, b) -> ch)
            .reattach(rc, config -> {
              reattacherCalled.set(true);
              throw new AssertionError("the reattacher must not run");
            })
            .build()) {
      assertThatThrownBy(c::start)
          .isInstanceOf(HandshakeException.class)
          .hasMessageContaining("cannot reattach to a \"netrpc\" plugin: allowedProtocols is [grpc]");
    }
    assertThat(reattacherCalled).isFalse();
  }
}
