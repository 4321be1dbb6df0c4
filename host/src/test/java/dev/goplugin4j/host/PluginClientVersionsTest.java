package dev.goplugin4j.host;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.goplugin4j.host.PluginClientStartFailureTest.ScriptedRunner;
import dev.goplugin4j.protocol.GrpcBroker;
import dev.goplugin4j.protocol.HandshakeException;
import dev.goplugin4j.protocol.IncompatibleVersionException;
import dev.goplugin4j.protocol.PluginEnv;
import io.grpc.Channel;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * App protocol versions on the host: what the builder accepts, what the host offers in {@code
 * PLUGIN_PROTOCOL_VERSIONS}, the refusal of a version it did not offer, and what adapters are told.
 * A scripted runner plays the plugin; the IT {@code ProtocolVersionsIT} does it with Go plugins.
 */
class PluginClientVersionsTest {
  private static final GrpcPlugin<Channel> RAW = (channel, broker) -> channel;

  private static PluginClient.Builder base() {
    return PluginClient.builder().command("/nonexistent/plugin");
  }

  /** Builds with a scripted plugin that answers {@code answer}; returns what the host offered. */
  private static String offeredWhenPluginAnswers(PluginClient.Builder b, int answer,
      AtomicReference<Throwable> failure) {
    ScriptedRunner r = new ScriptedRunner("");
    AtomicReference<String> offered = new AtomicReference<>();
    PluginClient client = b.runner((cmd, socketDir) -> {
      offered.set(cmd.env().get(PluginEnv.PROTOCOL_VERSIONS));
      r.print("1|" + answer + "|unix|" + socketDir.resolve("plugin.sock") + "|grpc|");
      return r;
    }).startTimeout(Duration.ofSeconds(10)).build();
    try (client) {
      client.start();
    } catch (RuntimeException e) {
      failure.set(e);
    }
    assertThat(client.negotiatedVersion()).as("no version after a failed start").isEmpty();
    return offered.get();
  }

  @Test
  void aHostOfSeveralVersionsNeedsOnlyTheMagicCookieAndOffersEveryDeclaredVersion() {
    AtomicReference<Throwable> failure = new AtomicReference<>();
    String offered = offeredWhenPluginAnswers(PluginClient.builder()
        .handshake("COOKIE", "yes")
        .plugins(6, Map.of("p", RAW))
        .plugins(5, Map.of("p", RAW)), 7, failure);

    assertThat(offered).isEqualTo("5,6");
    assertThat(failure.get())
        .isInstanceOf(IncompatibleVersionException.class)
        .hasMessageContaining("Plugin version: 7, host versions: [5, 6]")
        .hasMessageContaining(PluginEnv.PROTOCOL_VERSIONS)
        .hasMessageContaining("scripted runner diagnosis");
    IncompatibleVersionException e = (IncompatibleVersionException) failure.get();
    assertThat(e.pluginVersion()).isEqualTo(7);
    assertThat(e.hostVersions()).containsExactly(5, 6);
    assertThat(e).isInstanceOf(HandshakeException.class);
  }

  @Test
  void aSingleVersionHostOffersItsHandshakeVersion() {
    AtomicReference<Throwable> failure = new AtomicReference<>();
    String offered = offeredWhenPluginAnswers(PluginClient.builder()
        .handshake(3, "COOKIE", "yes")
        .plugin("p", RAW), 4, failure);

    assertThat(offered).isEqualTo("3");
    assertThat(failure.get()).isInstanceOf(IncompatibleVersionException.class)
        .hasMessageContaining("Plugin version: 4, host versions: [3]");
  }

  @Test
  void pluginEntriesJoinTheHandshakeVersionNextToOtherDeclaredVersions() {
    AtomicReference<Throwable> failure = new AtomicReference<>();
    String offered = offeredWhenPluginAnswers(PluginClient.builder()
        .handshake(1, "COOKIE", "yes")
        .plugin("old", RAW)
        .plugins(2, Map.of("new", RAW)), 9, failure);

    assertThat(offered).isEqualTo("1,2");
  }

  @Test
  void aHandshakeVersionThatIsAlsoDeclaredWithPluginsIsAccepted() {
    AtomicReference<Throwable> failure = new AtomicReference<>();
    String offered = offeredWhenPluginAnswers(PluginClient.builder()
        .handshake(2, "COOKIE", "yes")
        .plugins(2, Map.of("p", RAW))
        .plugins(3, Map.of("p", RAW)), 9, failure);

    assertThat(offered).isEqualTo("2,3");
  }

  @Test
  void aHandshakeVersionNoPluginBelongsToIsRefusedInsteadOfIgnored() {
    PluginClient.Builder b = base()
        .handshake(4, "COOKIE", "yes")
        .plugins(5, Map.of("p", RAW))
        .plugins(6, Map.of("p", RAW));

    assertThatThrownBy(b::build)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("handshake(4, ...) declares protocol version 4")
        .hasMessageContaining("[5, 6]")
        .hasMessageContaining("handshake(magicCookieKey, magicCookieValue)")
        .hasMessageContaining("plugins(4, map)");
  }

  @Test
  void pluginEntriesWithoutAHandshakeVersionAreRefused() {
    PluginClient.Builder b = base()
        .handshake("COOKIE", "yes")
        .plugin("kv", RAW)
        .plugins(5, Map.of("p", RAW));

    assertThatThrownBy(b::build)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("plugin(name, adapter)")
        .hasMessageContaining("[kv] have no version");
  }

  @Test
  void theCookieOnlyHandshakeClearsAnEarlierVersion() {
    AtomicReference<Throwable> failure = new AtomicReference<>();
    String offered = offeredWhenPluginAnswers(PluginClient.builder()
        .handshake(4, "OLD", "x")
        .handshake("COOKIE", "yes")
        .plugins(5, Map.of("p", RAW)), 9, failure);

    assertThat(offered).isEqualTo("5");
  }

  @Test
  void aHandshakeIsStillRequired() {
    assertThatThrownBy(() -> base().plugins(5, Map.of("p", RAW)).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("a handshake is required")
        .hasMessageContaining("handshake(magicCookieKey, magicCookieValue) with plugins(version, map)");
  }

  @Test
  void theCookieOnlyHandshakeChecksTheCookieAsTheFullOneDoes() {
    PluginClient.Builder b = PluginClient.builder();
    assertThatThrownBy(() -> b.handshake("", "v")).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("magicCookieKey");
    assertThatThrownBy(() -> b.handshake("A=B", "v")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> b.handshake("K", "")).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("magicCookieValue");
    assertThatThrownBy(() -> b.handshake(0, "K", "v")).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("protocolVersion must be >= 1");
  }

  @Test
  void aDerivedBuilderKeepsAMultiVersionHostsMeaning() {
    PluginClient first = PluginClient.builder()
        .handshake("COOKIE", "yes")
        .plugins(5, Map.of("p", RAW))
        .plugins(6, Map.of("p", RAW))
        .runner((cmd, dir) -> new ScriptedRunner(""))
        .build();
    AtomicReference<Throwable> failure = new AtomicReference<>();
    String offered = offeredWhenPluginAnswers(
        first.newBuilder().plugins(7, Map.of("p", RAW)), 8, failure);

    assertThat(offered).isEqualTo("5,6,7");
  }

  @Test
  void aVersionedAdapterIsToldTheVersionAndAPlainOneIgnoresIt() {
    GrpcPlugin<String> versioned =
        GrpcPlugin.versioned((channel, broker, version) -> "v" + version);
    GrpcPlugin<String> plain = (channel, broker) -> "plain";
    Channel channel = null;
    GrpcBroker broker = null;

    assertThat(versioned.client(channel, broker, 5)).isEqualTo("v5");
    assertThat(plain.client(channel, broker, 5)).isEqualTo("plain");
    assertThatThrownBy(() -> versioned.client(channel, broker))
        .isInstanceOf(UnsupportedOperationException.class)
        .hasMessageContaining("client(channel, broker, negotiatedVersion)");
    assertThatThrownBy(() -> GrpcPlugin.versioned(null)).isInstanceOf(NullPointerException.class);
  }
}
