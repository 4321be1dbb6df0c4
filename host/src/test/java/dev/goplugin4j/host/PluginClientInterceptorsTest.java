package dev.goplugin4j.host;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import org.junit.jupiter.api.Test;

/**
 * The interceptor settings of {@link PluginClient.Builder} and {@link PluginClientDefaults}, and
 * {@link PluginChannel}; ClientInterceptorsIT (interop-tests) checks them against real plugins.
 */
class PluginClientInterceptorsTest {
  private static final ClientInterceptor CLIENT = new ClientInterceptor() {
    @Override
    public <Q, A> ClientCall<Q, A> interceptCall(
        MethodDescriptor<Q, A> method, CallOptions options, Channel next) {
      return next.newCall(method, options);
    }
  };
  private static final ServerInterceptor SERVER = new ServerInterceptor() {
    @Override
    public <Q, A> ServerCall.Listener<Q> interceptCall(
        ServerCall<Q, A> call, Metadata headers, ServerCallHandler<Q, A> next) {
      return next.startCall(call, headers);
    }
  };

  @Test
  void defaultsCarryInterceptorsAlongsideListenersWithoutChangingTheOriginal() {
    PluginListener listener = e -> {};
    PluginClientDefaults base = PluginClientDefaults.of(listener);
    PluginClientDefaults more = base.withInterceptors(CLIENT).withServerInterceptors(SERVER)
        .withListener(listener);

    assertThat(base.interceptors()).isEmpty();
    assertThat(base.serverInterceptors()).isEmpty();
    assertThat(more.interceptors()).containsExactly(CLIENT);
    assertThat(more.serverInterceptors()).containsExactly(SERVER);
    assertThat(more.listeners()).containsExactly(listener, listener);
    assertThat(PluginClientDefaults.none().interceptors()).isEmpty();
    assertThat(more.builder()).isNotNull();
  }

  @Test
  void nullInterceptorsAreRejected() {
    assertThatThrownBy(() -> PluginClient.builder().interceptors((ClientInterceptor) null))
        .isInstanceOf(NullPointerException.class).hasMessageContaining("interceptors");
    assertThatThrownBy(() -> PluginClient.builder().serverInterceptors((ServerInterceptor[]) null))
        .isInstanceOf(NullPointerException.class).hasMessageContaining("interceptors");
    assertThatThrownBy(() -> PluginClientDefaults.none().withInterceptors(CLIENT, null))
        .isInstanceOf(NullPointerException.class).hasMessageContaining("interceptors");
  }

  @Test
  void aPluginChannelIsReadFromCallOptionsAndIsEqualOnlyToItself() {
    PluginChannel main = new PluginChannel("kv", "process", false);
    PluginChannel brokered = new PluginChannel("kv", "process", true);

    assertThat(PluginChannel.of(CallOptions.DEFAULT)).isEmpty();
    assertThat(PluginChannel.of(CallOptions.DEFAULT.withOption(PluginChannel.CALL_OPTION, main)))
        .containsSame(main);
    assertThat(main).isNotEqualTo(new PluginChannel("kv", "process", false));
    assertThat(brokered.brokered()).isTrue();
    assertThat(brokered).hasToString("PluginChannel[kv, process, brokered]");
    assertThat(PluginChannel.current()).isEmpty();
  }
}
