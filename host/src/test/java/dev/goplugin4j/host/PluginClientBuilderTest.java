package dev.goplugin4j.host;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Channel;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PluginClientBuilderTest {
  private static final GrpcPlugin<Channel> ANY = (ch, b) -> ch;

  private static PluginClient.Builder valid() {
    return PluginClient.builder().handshake(1, "COOKIE", "v").plugin("p", ANY).command("/bin/true");
  }

  @Test
  void defaultsAreSafeAndDocumented() {
    PluginClient c = valid().build();
    try {
      assertThat(c.exited()).isFalse();
      assertThat(c.negotiatedVersion()).isEmpty();
      assertThat(c.reattachConfig()).isEmpty();
    } finally {
      c.close();
    }
  }

  @Test
  void exactlyOneOfCommandRunnerAndReattachIsRequired() {
    assertThatThrownBy(() -> PluginClient.builder().handshake(1, "K", "v").plugin("p", ANY).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("exactly one of command, runner and reattach");
    assertThatThrownBy(() -> valid().runner((cmd, dir) -> null).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("got 2");
  }

  @Test
  void handshakeIsRequired() {
    assertThatThrownBy(() -> PluginClient.builder().plugin("p", ANY).command("/bin/true").build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("handshake");
  }

  @Test
  void atLeastOnePluginIsRequired() {
    assertThatThrownBy(() -> PluginClient.builder().handshake(1, "K", "v").command("/bin/true").build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("at least one plugin");
  }

  @Test
  void settersRejectBadValuesAtOnceNamingTheArgument() {
    PluginClient.Builder b = PluginClient.builder();
    assertThatThrownBy(() -> b.handshake(0, "K", "v")).hasMessageContaining("protocolVersion");
    assertThatThrownBy(() -> b.handshake(1, "A=B", "v")).hasMessageContaining("magicCookieKey");
    assertThatThrownBy(() -> b.handshake(1, "K", "")).hasMessageContaining("magicCookieValue");
    assertThatThrownBy(() -> b.startTimeout(Duration.ZERO)).hasMessageContaining("startTimeout");
    assertThatThrownBy(() -> b.portRange(30000, 20000)).hasMessageContaining("port range");
    assertThatThrownBy(() -> b.sha256("abc")).hasMessageContaining("64 hex digits");
    assertThatThrownBy(() -> b.logLineBufferSize(10)).hasMessageContaining("logLineBufferSize");
    assertThatThrownBy(() -> b.env("A=B", "x")).hasMessageContaining("env name");
    assertThatThrownBy(() -> b.plugins(1, Map.of())).hasMessageContaining("must not be empty");
    assertThatThrownBy(() -> b.unixSocketTempDir(java.nio.file.Path.of("/nonexistent/dir")))
        .hasMessageContaining("not a directory");
  }

  @Test
  void checksumNeedsACommand() {
    assertThatThrownBy(
            () -> PluginClient.builder().handshake(1, "K", "v").plugin("p", ANY)
                .runner((cmd, dir) -> null).sha256("a".repeat(64)).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("sha256 can only be checked with command");
  }

  @Test
  void nonProcessReattachNeedsItsReattacher() {
    ReattachConfig rc = new ReattachConfig("grpc", 1, dev.goplugin4j.protocol.NetAddress.unix("/tmp/x"),
        ReattachConfig.KIND_CONTAINER, "abc", Map.of(), false, "", "", "", false);
    assertThatThrownBy(() -> PluginClient.builder().plugin("p", ANY).reattach(rc).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("reattach(config, reattacher)");
  }

  @Test
  void newBuilderDerivesAnIndependentCopy() {
    PluginClient a = valid().startTimeout(Duration.ofSeconds(3)).build();
    PluginClient b = a.newBuilder().startTimeout(Duration.ofSeconds(9)).build();
    assertThat(a.toString()).isNotNull();
    assertThat(b).isNotSameAs(a);
    a.close();
    b.close();
  }

  @Test
  void closingAnUnstartedClientIsANoOpAndStartAfterCloseFails() {
    PluginClient c = valid().build();
    c.close();
    c.close();
    assertThatThrownBy(c::start).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
  }
}
