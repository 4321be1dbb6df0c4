package dev.goplugin4j.container;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ContainerRunnersTest {
  @Test
  void recordedKillGraceIsReadBack() {
    assertThat(ContainerRunners.killGraceSeconds("c1", "7")).isEqualTo(7);
    assertThat(ContainerRunners.killGraceSeconds("c1", "0")).isZero();
    assertThat(ContainerRunners.killGraceSeconds("c1", "60")).isEqualTo(60);
  }

  @Test
  void reattachConfigWithoutKillGraceGetsTheDefault() {
    assertThat(ContainerRunners.killGraceSeconds("c1", null))
        .isEqualTo(ContainerConfig.DEFAULT_KILL_GRACE.toSeconds());
    assertThat(ContainerRunners.killGraceSeconds("c1", ""))
        .isEqualTo(ContainerConfig.DEFAULT_KILL_GRACE.toSeconds());
  }

  @Test
  void invalidRecordedKillGraceIsRefusedNamingTheAttribute() {
    for (String bad : new String[] {"-1", "61", "1.5", "soon"}) {
      assertThatThrownBy(() -> ContainerRunners.killGraceSeconds("c1", bad))
          .isInstanceOf(ContainerException.class)
          .hasMessageContaining(ContainerRunners.ATTR_KILL_GRACE_SECONDS)
          .hasMessageContaining("c1").hasMessageContaining("0 to 60");
    }
  }
}
