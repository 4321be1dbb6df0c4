package dev.goplugin4j.protocol.internal.yamux;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.netty.shaded.io.netty.buffer.ByteBuf;
import io.grpc.netty.shaded.io.netty.buffer.Unpooled;
import java.time.Duration;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Bounded randomized mutation test of the whole inbound path (decoder and session): random bytes
 * and randomly mutated plausible conversations must leave the session either running or closed
 * with a clean yamux error, never an unexpected exception, a hang or unbounded buffering. Not
 * coverage-guided (the decoder alone is fuzzed with Jazzer in {@link YamuxFrameDecoderFuzzTest});
 * bounded in time for CI (about 10 s); seeded, so a failure names the seed that reproduces it.
 */
class YamuxFuzzTest {
  private static final Duration BUDGET = Duration.ofSeconds(10);
  private static final int WINDOW = YamuxConfig.INITIAL_STREAM_WINDOW;

  private static ch.qos.logback.classic.Level savedLevel;

  @org.junit.jupiter.api.BeforeAll
  static void quietLogs() {
    // thousands of sessions die of protocol errors here: keep the build log readable
    var l = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(YamuxSession.class);
    savedLevel = l.getLevel();
    l.setLevel(ch.qos.logback.classic.Level.ERROR);
  }

  @org.junit.jupiter.api.AfterAll
  static void restoreLogs() {
    ((ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(YamuxSession.class)).setLevel(savedLevel);
  }

  @Test
  void randomAndMutatedBytesGiveACleanProtocolErrorOrNothing() {
    long seed0 = new Random().nextLong();
    long deadline = System.nanoTime() + BUDGET.toNanos();
    int cases = 0;
    int protocolErrors = 0;
    while (System.nanoTime() < deadline || cases < 200) {
      long seed = seed0 + cases;
      try {
        if (runCase(seed)) {
          protocolErrors++;
        }
      } catch (Throwable t) {
        throw new AssertionError("fuzz case with seed " + seed + " failed", t);
      }
      cases++;
    }
    assertThat(cases).isGreaterThanOrEqualTo(200);
    assertThat(protocolErrors).isPositive();
  }

  /** Returns whether the session ended with a protocol error. */
  private static boolean runCase(long seed) {
    Random r = new Random(seed);
    boolean client = r.nextBoolean();
    YamuxConfig config = YamuxConfig.builder().keepAliveEnabled(false).acceptBacklog(1 + r.nextInt(8)).build();
    byte[] input = r.nextInt(4) == 0 ? randomBytes(r) : mutate(r, validFrames(r, client));
    try (EmbeddedPeer p = new EmbeddedPeer(client, config)) {
      if (r.nextBoolean()) {
        p.session.acceptStreams(s -> s.register(new Pump(null, 0, false, r.nextBoolean(), r.nextBoolean())));
      }
      int off = 0;
      while (off < input.length && !p.session.isClosed()) {
        int n = 1 + r.nextInt(Math.min(4096, input.length - off));
        ByteBuf b = Unpooled.wrappedBuffer(input, off, n).copy();
        p.sendRaw(b);
        off += n;
        p.written();
      }
      if (!p.session.isClosed()) {
        return false;
      }
      Throwable cause = p.session.closeCause();
      assertThat(cause)
          .as("close cause")
          .isInstanceOfAny(YamuxProtocolException.class, YamuxSessionClosedException.class);
      return cause instanceof YamuxProtocolException;
    }
  }

  private static byte[] randomBytes(Random r) {
    byte[] b = new byte[r.nextInt(2000)];
    r.nextBytes(b);
    if (b.length > 0 && r.nextBoolean()) {
      b[0] = 0; // often a valid version, so more of the input gets parsed
    }
    return b;
  }

  /** A plausible conversation: SYNs, data within windows, updates, pings, FIN, RST. */
  private static byte[] validFrames(Random r, boolean sessionIsClient) {
    ByteBuf out = Unpooled.buffer();
    int firstId = sessionIsClient ? 2 : 1;
    int frames = 1 + r.nextInt(40);
    for (int i = 0; i < frames; i++) {
      int id = firstId + 2 * r.nextInt(4);
      switch (r.nextInt(6)) {
        case 0 -> new YamuxHeader(YamuxHeader.TYPE_WINDOW_UPDATE, YamuxHeader.FLAG_SYN, id, 0).encode(out);
        case 1 -> {
          int len = r.nextInt(3000);
          new YamuxHeader(YamuxHeader.TYPE_DATA, r.nextInt(16), id, len).encode(out);
          byte[] payload = new byte[len];
          r.nextBytes(payload);
          out.writeBytes(payload);
        }
        case 2 -> new YamuxHeader(YamuxHeader.TYPE_WINDOW_UPDATE, r.nextInt(16), id, r.nextInt(WINDOW)).encode(out);
        case 3 -> new YamuxHeader(YamuxHeader.TYPE_PING, r.nextBoolean() ? 1 : 2, 0, r.nextInt()).encode(out);
        case 4 -> new YamuxHeader(YamuxHeader.TYPE_GO_AWAY, 0, 0, r.nextInt(4)).encode(out);
        default -> new YamuxHeader(YamuxHeader.TYPE_DATA, YamuxHeader.FLAG_FIN, id, 0).encode(out);
      }
    }
    byte[] b = new byte[out.readableBytes()];
    out.readBytes(b);
    out.release();
    return b;
  }

  private static byte[] mutate(Random r, byte[] in) {
    byte[] b = in.clone();
    int mutations = r.nextInt(4);
    for (int i = 0; i < mutations && b.length > 0; i++) {
      int pos = r.nextInt(b.length);
      switch (r.nextInt(3)) {
        case 0 -> b[pos] = (byte) r.nextInt(256);
        case 1 -> b[pos] ^= (byte) (1 << r.nextInt(8));
        default -> {
          byte[] shorter = new byte[b.length - 1];
          System.arraycopy(b, 0, shorter, 0, pos);
          System.arraycopy(b, pos + 1, shorter, pos, b.length - pos - 1);
          b = shorter;
        }
      }
    }
    return b;
  }
}
