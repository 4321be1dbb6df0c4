package dev.goplugin4j.host.internal.supervisor;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class RestartPolicyTest {
  private static final long SECOND = 1_000_000_000L;

  private final RestartPolicy policy = new RestartPolicy(
      Duration.ofMillis(100), Duration.ofSeconds(1), 6, Duration.ofMinutes(1));

  @Test
  void delaysDoubleWithEachFailureInTheWindowUpToTheCeiling() {
    long t = 1_000 * SECOND;
    assertThat(policy.onFailure(t).delay()).isEqualTo(Duration.ofMillis(100));
    assertThat(policy.onFailure(t + SECOND).delay()).isEqualTo(Duration.ofMillis(200));
    assertThat(policy.onFailure(t + 2 * SECOND).delay()).isEqualTo(Duration.ofMillis(400));
    assertThat(policy.onFailure(t + 3 * SECOND).delay()).isEqualTo(Duration.ofMillis(800));
    RestartPolicy.Decision fifth = policy.onFailure(t + 4 * SECOND);
    assertThat(fifth.delay()).isEqualTo(Duration.ofSeconds(1));
    assertThat(fifth.giveUp()).isFalse();
    assertThat(fifth.failuresInWindow()).isEqualTo(5);
  }

  @Test
  void givesUpWhenTheWindowHoldsTheConfiguredNumberOfFailures() {
    long t = 0;
    for (int i = 0; i < 5; i++) {
      assertThat(policy.onFailure(t + i * SECOND).giveUp()).isFalse();
    }
    RestartPolicy.Decision sixth = policy.onFailure(t + 5 * SECOND);
    assertThat(sixth.giveUp()).isTrue();
    assertThat(sixth.failuresInWindow()).isEqualTo(6);
  }

  @Test
  void failuresOlderThanTheWindowAreForgottenSoTheBackOffStartsOver() {
    long t = -5 * SECOND; // nanoTime may be negative
    for (int i = 0; i < 5; i++) {
      policy.onFailure(t + i * SECOND);
    }
    long later = t + 4 * SECOND + 61 * SECOND;
    RestartPolicy.Decision d = policy.onFailure(later);
    assertThat(d.giveUp()).isFalse();
    assertThat(d.failuresInWindow()).isEqualTo(1);
    assertThat(d.delay()).isEqualTo(Duration.ofMillis(100));
  }

  @Test
  void spreadOutFailuresNeverGiveUp() {
    for (int i = 0; i < 100; i++) {
      assertThat(policy.onFailure(i * 20 * SECOND).giveUp()).isFalse();
    }
  }

  @Test
  void resetForgetsEverything() {
    for (int i = 0; i < 5; i++) {
      policy.onFailure(i);
    }
    policy.reset();
    assertThat(policy.failuresInWindow(10)).isZero();
    assertThat(policy.onFailure(11).delay()).isEqualTo(Duration.ofMillis(100));
  }

  @Test
  void aHugeNumberOfFailuresDoesNotOverflowTheDelay() {
    RestartPolicy many = new RestartPolicy(Duration.ofMillis(1), Duration.ofHours(1),
        Integer.MAX_VALUE, Duration.ofDays(1));
    RestartPolicy.Decision d = null;
    for (int i = 0; i < 200; i++) {
      d = many.onFailure(i);
    }
    assertThat(d.delay()).isEqualTo(Duration.ofHours(1));
  }
}
