package dev.goplugin4j.protocol.internal.yamux;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class YamuxConfigTest {
  @Test
  void defaultsAreThoseOfGoYamux() {
    YamuxConfig c = YamuxConfig.defaults();
    assertThat(c.acceptBacklog()).isEqualTo(256);
    assertThat(c.keepAliveEnabled()).isTrue();
    assertThat(c.keepAliveInterval()).isEqualTo(Duration.ofSeconds(30));
    assertThat(c.connectionWriteTimeout()).isEqualTo(Duration.ofSeconds(10));
    assertThat(c.streamOpenTimeout()).isEqualTo(Duration.ofSeconds(75));
    assertThat(c.streamCloseTimeout()).isEqualTo(Duration.ofMinutes(5));
    assertThat(c.maxStreamWindowSize()).isEqualTo(256 * 1024);
  }

  @Test
  void toBuilderDerivesAModifiedCopyAndLeavesTheOriginal() {
    YamuxConfig c = YamuxConfig.defaults().toBuilder().acceptBacklog(3).build();
    assertThat(c.acceptBacklog()).isEqualTo(3);
    assertThat(YamuxConfig.defaults().acceptBacklog()).isEqualTo(256);
    assertThat(c.toBuilder().build()).isEqualTo(c).hasSameHashCodeAs(c);
  }

  @Test
  void zeroDisablesOpenAndCloseTimeouts() {
    YamuxConfig c =
        YamuxConfig.builder().streamOpenTimeout(Duration.ZERO).streamCloseTimeout(Duration.ZERO).build();
    assertThat(c.streamOpenTimeout()).isZero();
    assertThat(c.streamCloseTimeout()).isZero();
  }

  @Test
  void invalidValuesAreRefusedNamingTheSetting() {
    YamuxConfig.Builder b = YamuxConfig.builder();
    assertThatThrownBy(() -> b.acceptBacklog(0)).hasMessageContaining("acceptBacklog");
    assertThatThrownBy(() -> b.keepAliveInterval(Duration.ZERO)).hasMessageContaining("keepAliveInterval");
    assertThatThrownBy(() -> b.connectionWriteTimeout(Duration.ofSeconds(-1)))
        .hasMessageContaining("connectionWriteTimeout");
    assertThatThrownBy(() -> b.maxStreamWindowSize(1024)).hasMessageContaining("maxStreamWindowSize");
    assertThatThrownBy(() -> b.streamOpenTimeout(Duration.ofMillis(-1))).hasMessageContaining("streamOpenTimeout");
    assertThatThrownBy(() -> b.streamCloseTimeout(Duration.ofMillis(-1))).hasMessageContaining("streamCloseTimeout");
    assertThatThrownBy(() -> b.keepAliveInterval(null)).isInstanceOf(NullPointerException.class);
  }
}
