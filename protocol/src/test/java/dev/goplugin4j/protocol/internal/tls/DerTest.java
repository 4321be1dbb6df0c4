package dev.goplugin4j.protocol.internal.tls;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class DerTest {
  @Test
  void timesBefore2050AreUtcTimeWithTwoDigitYears() {
    byte[] der = Der.time(Instant.parse("2026-03-04T05:06:07.890Z"));
    assertThat(der[0]).isEqualTo((byte) 0x17);
    assertThat(der[1]).isEqualTo((byte) 13);
    assertThat(text(der)).isEqualTo("260304050607Z");
  }

  @Test
  void timesFrom2050AreGeneralizedTimeWithFourDigitYears() {
    byte[] der = Der.time(Instant.parse("2056-12-31T23:59:59Z"));
    assertThat(der[0]).isEqualTo((byte) 0x18);
    assertThat(der[1]).isEqualTo((byte) 15);
    assertThat(text(der)).isEqualTo("20561231235959Z");
    assertThat(text(Der.time(Instant.parse("2049-12-31T23:59:59Z")))).isEqualTo("491231235959Z");
    assertThat(text(Der.time(Instant.parse("2050-01-01T00:00:00Z")))).isEqualTo("20500101000000Z");
  }

  private static String text(byte[] der) {
    return new String(Arrays.copyOfRange(der, 2, der.length), StandardCharsets.US_ASCII);
  }
}
