package dev.goplugin4j.protocol.internal.tls;

import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;

/**
 * The few DER encodings an X.509 certificate needs (ITU-T X.690), as static helpers, for the
 * host's AutoMTLS certificate ({@link AutoMtlsKeys}); the plugin SDK's server module has the same
 * helpers for its own.
 */
final class Der {
  private Der() {}

  static byte[] tlv(int tag, byte[]... contents) {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    for (byte[] c : contents) {
      body.writeBytes(c);
    }
    byte[] b = body.toByteArray();
    ByteArrayOutputStream out = new ByteArrayOutputStream(b.length + 6);
    out.write(tag);
    if (b.length < 0x80) {
      out.write(b.length);
    } else {
      byte[] len = BigInteger.valueOf(b.length).toByteArray();
      int skip = len[0] == 0 ? 1 : 0;
      out.write(0x80 | (len.length - skip));
      out.write(len, skip, len.length - skip);
    }
    out.writeBytes(b);
    return out.toByteArray();
  }

  static byte[] sequence(byte[]... contents) {
    return tlv(0x30, contents);
  }

  static byte[] set(byte[]... contents) {
    return tlv(0x31, contents);
  }

  static byte[] integer(BigInteger v) {
    return tlv(0x02, v.toByteArray());
  }

  static byte[] bool(boolean v) {
    return tlv(0x01, new byte[] {(byte) (v ? 0xff : 0)});
  }

  static byte[] octetString(byte[] v) {
    return tlv(0x04, v);
  }

  /** A BIT STRING of whole bytes. */
  static byte[] bitString(byte[] v) {
    byte[] c = new byte[v.length + 1];
    System.arraycopy(v, 0, c, 1, v.length);
    return tlv(0x03, c);
  }

  /** A named-bit BIT STRING (bit 0 is the first, most significant bit), trailing zeros dropped. */
  static byte[] namedBits(int... bits) {
    int max = 0;
    for (int b : bits) {
      max = Math.max(max, b);
    }
    byte[] v = new byte[max / 8 + 1];
    for (int b : bits) {
      v[b / 8] |= (byte) (0x80 >>> (b % 8));
    }
    int unused = 7 - (max % 8);
    byte[] c = new byte[v.length + 1];
    c[0] = (byte) unused;
    System.arraycopy(v, 0, c, 1, v.length);
    return tlv(0x03, c);
  }

  static byte[] oid(String dotted) {
    String[] parts = dotted.split("\\.");
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(Integer.parseInt(parts[0]) * 40 + Integer.parseInt(parts[1]));
    for (int i = 2; i < parts.length; i++) {
      long v = Long.parseLong(parts[i]);
      byte[] tmp = new byte[10];
      int n = 0;
      do {
        tmp[n++] = (byte) (v & 0x7f);
        v >>>= 7;
      } while (v != 0);
      for (int j = n - 1; j >= 0; j--) {
        out.write(tmp[j] | (j > 0 ? 0x80 : 0));
      }
    }
    return tlv(0x06, out.toByteArray());
  }

  static byte[] printableString(String s) {
    return tlv(0x13, s.getBytes(StandardCharsets.US_ASCII));
  }

  /**
   * UTCTime ({@code YYMMDDhhmmssZ}) before 2050, GeneralizedTime ({@code YYYYMMDDhhmmssZ}) from
   * then on (RFC 5280 4.1.2.5), whole seconds. Written by hand: {@code DateTimeFormatter} loads
   * java.time.format's ~70 classes into every plugin start for two strings.
   */
  static byte[] time(Instant t) {
    LocalDateTime utc = LocalDateTime.ofEpochSecond(t.getEpochSecond(), 0, ZoneOffset.UTC);
    int year = utc.getYear();
    if (year < 1950 || year > 9999) {
      throw new IllegalArgumentException("certificate time out of range: " + t);
    }
    StringBuilder b = new StringBuilder(15);
    if (year < 2050) {
      digits(b, year % 100, 2);
    } else {
      digits(b, year, 4);
    }
    digits(b, utc.getMonthValue(), 2);
    digits(b, utc.getDayOfMonth(), 2);
    digits(b, utc.getHour(), 2);
    digits(b, utc.getMinute(), 2);
    digits(b, utc.getSecond(), 2);
    b.append('Z');
    return tlv(year < 2050 ? 0x17 : 0x18, b.toString().getBytes(StandardCharsets.US_ASCII));
  }

  /** Appends {@code value} (not negative) with leading zeros to {@code width} digits. */
  static void digits(StringBuilder b, int value, int width) {
    String s = Integer.toString(value);
    for (int i = s.length(); i < width; i++) {
      b.append('0');
    }
    b.append(s);
  }

  /** A context-specific constructed (EXPLICIT) tag. */
  static byte[] explicit(int number, byte[] content) {
    return tlv(0xa0 | number, content);
  }

  /** A context-specific primitive (IMPLICIT) tag. */
  static byte[] implicitPrimitive(int number, byte[] value) {
    return tlv(0x80 | number, value);
  }
}
