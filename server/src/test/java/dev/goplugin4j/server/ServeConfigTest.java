package dev.goplugin4j.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.ClientInterceptor;
import io.grpc.ServerInterceptor;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ServeConfigTest {
  private static final GrpcServerPlugin NOTHING = (services, broker) -> {};

  @Test
  void buildRequiresTheHandshake() {
    assertThatThrownBy(() -> ServeConfig.builder().plugin("kv", NOTHING).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("handshake(");
  }

  @Test
  void buildRequiresAtLeastOnePlugin() {
    assertThatThrownBy(() -> ServeConfig.builder().handshake(1, "K", "v").build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("no plugins to serve");
  }

  @Test
  void handshakeRejectsEmptyCookieAndVersionBelowOne() {
    assertThatThrownBy(() -> ServeConfig.builder().handshake(0, "K", "v"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("protocolVersion");
    assertThatThrownBy(() -> ServeConfig.builder().handshake(1, "", "v"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("magicCookieKey");
    assertThatThrownBy(() -> ServeConfig.builder().handshake(1, "A=B", "v"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("magicCookieKey");
    assertThatThrownBy(() -> ServeConfig.builder().handshake(1, "K", ""))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("magicCookieValue");
  }

  @Test
  void pluginNamesMustBeUniquePerVersion() {
    ServeConfig.Builder b = ServeConfig.builder().plugin("kv", NOTHING);
    assertThatThrownBy(() -> b.plugin("kv", NOTHING))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("\"kv\" is already set");
  }

  @Test
  void pluginsOfTheHandshakeVersionCannotBeSetTwoWays() {
    ServeConfig.Builder b =
        ServeConfig.builder()
            .handshake(2, "K", "v")
            .plugin("kv", NOTHING)
            .plugins(2, Map.of("other", NOTHING));
    assertThatThrownBy(b::build)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("version 2 are set twice");
  }

  @Test
  void versionedPluginsAreSortedAndIncludeTheHandshakeVersion() {
    ServeConfig c =
        ServeConfig.builder()
            .handshake(2, "K", "v")
            .plugin("kv", NOTHING)
            .plugins(5, Map.of("kv", NOTHING))
            .plugins(1, Map.of("kv", NOTHING))
            .build();
    assertThat(c.versionedPlugins().keySet()).containsExactly(1, 2, 5);
    assertThat(c.protocolVersion()).isEqualTo(2);
  }

  @Test
  void defaultsAreDocumentedValues() {
    ServeConfig c = ServeConfig.builder().handshake(1, "K", "v").plugin("kv", NOTHING).build();
    assertThat(c.exitWhenHostExits()).isTrue();
    assertThat(c.ignoreInterrupts()).isTrue();
    assertThat(c.listenOnTcp()).isFalse();
    assertThat(c.shutdownGracePeriod()).isEqualTo(Duration.ofSeconds(1));
    assertThat(c.tlsProvider()).isEmpty();
    assertThat(c.logger()).isEmpty();
    assertThat(c.serverCustomizer()).isEmpty();
  }

  @Test
  void shutdownGracePeriodIsBounded() {
    assertThatThrownBy(() -> ServeConfig.builder().shutdownGracePeriod(Duration.ofMillis(-1)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> ServeConfig.builder().shutdownGracePeriod(Duration.ofMinutes(2)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("shutdownGracePeriod");
  }

  @Test
  void newBuilderDerivesAModifiedCopy() {
    ServeConfig c = ServeConfig.builder().handshake(1, "K", "v").plugin("kv", NOTHING).build();
    ServeConfig d = c.newBuilder().listenOnTcp(true).build();
    assertThat(d.listenOnTcp()).isTrue();
    assertThat(c.listenOnTcp()).isFalse();
    assertThat(d.versionedPlugins()).isEqualTo(c.versionedPlugins());
  }

  @Test
  void notLaunchedByHostCarriesGoPluginsGuidance() {
    NotLaunchedByHostException e = new NotLaunchedByHostException("BASIC_PLUGIN");
    assertThat(e.getMessage())
        .startsWith("This binary is a plugin. These are not meant to be executed directly.")
        .endsWith("load any plugins automatically");
    assertThat(e.cookieKey()).isEqualTo("BASIC_PLUGIN");
  }

  @Test
  void aPluginOfSeveralVersionsNeedsOnlyTheMagicCookie() {
    ServeConfig c = ServeConfig.builder()
        .handshake("K", "v")
        .plugins(6, Map.of("kv", NOTHING))
        .plugins(5, Map.of("kv", NOTHING))
        .build();
    assertThat(c.versionedPlugins().keySet()).containsExactly(5, 6);
    assertThat(c.protocolVersion()).isZero();
    assertThat(c.newBuilder().plugins(7, Map.of("kv", NOTHING)).build().versionedPlugins().keySet())
        .containsExactly(5, 6, 7);
  }

  @Test
  void aHandshakeVersionNoPluginBelongsToIsRefusedInsteadOfIgnored() {
    ServeConfig.Builder b = ServeConfig.builder()
        .handshake(4, "K", "v")
        .plugins(5, Map.of("kv", NOTHING))
        .plugins(6, Map.of("kv", NOTHING));
    assertThatThrownBy(b::build)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("handshake(4, ...) declares protocol version 4")
        .hasMessageContaining("[5, 6]")
        .hasMessageContaining("handshake(magicCookieKey, magicCookieValue)");
  }

  @Test
  void aHandshakeVersionAlsoDeclaredWithPluginsIsAccepted() {
    ServeConfig c = ServeConfig.builder()
        .handshake(5, "K", "v")
        .plugins(5, Map.of("kv", NOTHING))
        .plugins(6, Map.of("kv", NOTHING))
        .build();
    assertThat(c.versionedPlugins().keySet()).containsExactly(5, 6);
  }

  @Test
  void pluginEntriesWithoutAHandshakeVersionAreRefused() {
    ServeConfig.Builder b = ServeConfig.builder()
        .handshake(3, "OLD", "x")
        .handshake("K", "v")
        .plugin("kv", NOTHING);
    assertThatThrownBy(b::build)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("[kv] have no version");
    assertThatThrownBy(() -> ServeConfig.builder().handshake("", "v"))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void interceptorsDefaultToNoneAccumulateInOrderAndSurviveNewBuilder() {
    ServeConfig plain = ServeConfig.builder().handshake(1, "K", "v").plugin("kv", NOTHING).build();
    assertThat(plain.interceptors()).isEmpty();
    assertThat(plain.clientInterceptors()).isEmpty();

    ServerInterceptor s1 = new ServerInterceptor() {
      @Override
      public <Q, A> io.grpc.ServerCall.Listener<Q> interceptCall(io.grpc.ServerCall<Q, A> call,
          io.grpc.Metadata headers, io.grpc.ServerCallHandler<Q, A> next) {
        return next.startCall(call, headers);
      }
    };
    ServerInterceptor s2 = new ServerInterceptor() {
      @Override
      public <Q, A> io.grpc.ServerCall.Listener<Q> interceptCall(io.grpc.ServerCall<Q, A> call,
          io.grpc.Metadata headers, io.grpc.ServerCallHandler<Q, A> next) {
        return next.startCall(call, headers);
      }
    };
    ClientInterceptor c1 = new ClientInterceptor() {
      @Override
      public <Q, A> io.grpc.ClientCall<Q, A> interceptCall(io.grpc.MethodDescriptor<Q, A> method,
          io.grpc.CallOptions options, io.grpc.Channel next) {
        return next.newCall(method, options);
      }
    };
    ServeConfig c = plain.newBuilder().interceptors(s1).interceptors(s2).clientInterceptors(c1)
        .build();
    assertThat(c.interceptors()).containsExactly(s1, s2);
    assertThat(c.clientInterceptors()).containsExactly(c1);
    assertThat(c.newBuilder().build().interceptors()).containsExactly(s1, s2);
    assertThatThrownBy(() -> c.interceptors().add(s1))
        .isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(() -> ServeConfig.builder().interceptors(s1, null))
        .isInstanceOf(NullPointerException.class);
  }
}
