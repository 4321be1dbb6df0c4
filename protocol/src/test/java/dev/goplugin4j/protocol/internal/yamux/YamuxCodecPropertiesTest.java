package dev.goplugin4j.protocol.internal.yamux;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.netty.shaded.io.netty.buffer.ByteBuf;
import io.grpc.netty.shaded.io.netty.buffer.Unpooled;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Property tests of the yamux header codec and the incremental frame decoder: seeded random cases
 * (a failure names the seed that reproduces it), plus the edge values of every field.
 */
class YamuxCodecPropertiesTest {
  private static final int MAX_DATA = 64 * 1024;
  private static final long SEED = 0x5EED_0F_1A_2B3CL;
  private static final int[] EDGE_INTS = {0, 1, 2, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFE, 0xFFFF_FFFF};

  private interface Case {
    void run(Random r);
  }

  private static void forAll(int cases, Case c) {
    for (int i = 0; i < cases; i++) {
      long seed = SEED + i;
      try {
        c.run(new Random(seed));
      } catch (AssertionError | RuntimeException e) {
        throw new AssertionError("property failed for seed " + seed + " (case " + i + ")", e);
      }
    }
  }

  private static int anyInt(Random r) {
    return r.nextInt(4) == 0 ? EDGE_INTS[r.nextInt(EDGE_INTS.length)] : r.nextInt();
  }

  private static YamuxHeader randomHeader(Random r) {
    return new YamuxHeader(r.nextInt(4), r.nextInt(0x10000), anyInt(r), anyInt(r));
  }

  @Test
  void encodingThenDecodingGivesTheSameHeader() {
    forAll(
        20_000,
        r -> {
          YamuxHeader h = randomHeader(r);
          ByteBuf b = Unpooled.buffer();
          h.encode(b);
          assertThat(b.readableBytes()).isEqualTo(YamuxHeader.SIZE);
          byte[] bytes = new byte[YamuxHeader.SIZE];
          b.readBytes(bytes);
          assertThat(bytes[0]).isZero();
          assertThat(YamuxHeader.decode(bytes, 0)).isEqualTo(h);
          assertThat(h.lengthUnsigned()).isBetween(0L, 0xFFFF_FFFFL);
          assertThat(h.streamIdUnsigned()).isBetween(0L, 0xFFFF_FFFFL);
        });
  }

  @Test
  void anyTwelveBytesDecodeToAHeaderOrAProtocolError() {
    forAll(
        20_000,
        r -> {
          byte[] bytes = new byte[YamuxHeader.SIZE];
          r.nextBytes(bytes);
          if (r.nextBoolean()) {
            bytes[0] = 0;
          }
          if (r.nextBoolean()) {
            bytes[1] = (byte) r.nextInt(5);
          }
          int version = bytes[0] & 0xFF;
          int type = bytes[1] & 0xFF;
          if (version == 0 && type <= 3) {
            YamuxHeader h = YamuxHeader.decode(bytes, 0);
            assertThat(h.type()).isEqualTo(type);
            assertThat(h.flags()).isEqualTo(((bytes[2] & 0xFF) << 8) | (bytes[3] & 0xFF));
          } else {
            assertThatThrownBy(() -> YamuxHeader.decode(bytes, 0))
                .isInstanceOf(YamuxProtocolException.class);
          }
        });
  }

  record Frame(YamuxHeader header, byte[] payload) {}

  private static Frame randomFrame(Random r) {
    int type = r.nextInt(4);
    if (type == YamuxHeader.TYPE_DATA) {
      byte[] p = new byte[r.nextInt(4) == 0 ? 0 : r.nextInt(3000)];
      r.nextBytes(p);
      return new Frame(new YamuxHeader(type, r.nextInt(16), anyInt(r), p.length), p);
    }
    return new Frame(new YamuxHeader(type, r.nextInt(16), anyInt(r), anyInt(r)), new byte[0]);
  }

  @Test
  void decoderReassemblesFramesWhateverTheSplitPoints() {
    forAll(
        2_000,
        r -> {
          List<Frame> frames = new ArrayList<>();
          int n = r.nextInt(30);
          for (int i = 0; i < n; i++) {
            frames.add(randomFrame(r));
          }
          ByteBuf wire = Unpooled.buffer();
          for (Frame f : frames) {
            f.header().encode(wire);
            wire.writeBytes(f.payload());
          }
          Collector c = new Collector();
          YamuxFrameDecoder decoder = new YamuxFrameDecoder(MAX_DATA);
          while (wire.isReadable()) {
            int size = r.nextBoolean() ? 1 + r.nextInt(20) : 1 + r.nextInt(5000);
            ByteBuf piece = wire.readRetainedSlice(Math.min(size, wire.readableBytes()));
            decoder.decode(piece, c);
            assertThat(piece.isReadable()).isFalse();
            piece.release();
          }
          wire.release();
          assertThat(c.decoded).hasSameSizeAs(frames);
          for (int i = 0; i < frames.size(); i++) {
            assertThat(c.decoded.get(i).header()).isEqualTo(frames.get(i).header());
            assertThat(c.decoded.get(i).payload()).isEqualTo(frames.get(i).payload());
          }
        });
  }

  @Test
  void dataFrameLargerThanAnyWindowIsRefusedBeforeItsPayload() {
    forAll(
        2_000,
        r -> {
          long length = MAX_DATA + 1 + (long) (r.nextDouble() * (0xFFFF_FFFFL - MAX_DATA - 1));
          ByteBuf wire = Unpooled.buffer();
          new YamuxHeader(YamuxHeader.TYPE_DATA, 0, 1, (int) length).encode(wire);
          YamuxFrameDecoder decoder = new YamuxFrameDecoder(MAX_DATA);
          Collector c = new Collector();
          assertThatThrownBy(() -> decoder.decode(wire, c))
              .isInstanceOf(YamuxProtocolException.class)
              .hasMessageContaining("exceeds the largest window");
          assertThat(c.decoded).isEmpty();
          wire.release();
        });
  }

  private static final class Collector implements YamuxFrameDecoder.Listener {
    final List<Frame> decoded = new ArrayList<>();
    private YamuxHeader current;
    private ByteArrayOutputStream payload;

    @Override
    public void header(YamuxHeader h) {
      if (h.type() == YamuxHeader.TYPE_DATA) {
        current = h;
        payload = new ByteArrayOutputStream();
      } else {
        decoded.add(new Frame(h, new byte[0]));
      }
    }

    @Override
    public void data(YamuxHeader h, ByteBuf chunk) {
      assertThat(h).isEqualTo(current);
      byte[] b = new byte[chunk.readableBytes()];
      chunk.readBytes(b);
      chunk.release();
      payload.writeBytes(b);
    }

    @Override
    public void dataEnd(YamuxHeader h) {
      assertThat(h).isEqualTo(current);
      decoded.add(new Frame(h, payload.toByteArray()));
      current = null;
    }
  }
}
