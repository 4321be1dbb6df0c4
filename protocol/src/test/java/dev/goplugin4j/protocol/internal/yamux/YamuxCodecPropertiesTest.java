package dev.goplugin4j.protocol.internal.yamux;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.netty.shaded.io.netty.buffer.ByteBuf;
import io.grpc.netty.shaded.io.netty.buffer.Unpooled;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.From;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/** Property tests of the yamux header codec and the incremental frame decoder. */
class YamuxCodecPropertiesTest {
  private static final int MAX_DATA = 64 * 1024;

  @Property(tries = 2000)
  void encodingThenDecodingGivesTheSameHeader(
      @ForAll @IntRange(min = 0, max = 3) int type,
      @ForAll @IntRange(min = 0, max = 0xFFFF) int flags,
      @ForAll int streamId,
      @ForAll int length) {
    YamuxHeader h = new YamuxHeader(type, flags, streamId, length);
    ByteBuf b = Unpooled.buffer();
    h.encode(b);
    assertThat(b.readableBytes()).isEqualTo(YamuxHeader.SIZE);
    byte[] bytes = new byte[YamuxHeader.SIZE];
    b.getBytes(0, bytes);
    assertThat(bytes[0]).isZero();
    assertThat(YamuxHeader.decode(bytes, 0)).isEqualTo(h);
    assertThat(h.lengthUnsigned()).isBetween(0L, 0xFFFF_FFFFL);
  }

  @Property(tries = 2000)
  void anyTwelveBytesDecodeToAHeaderOrAProtocolError(@ForAll @Size(12) byte[] bytes) {
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
  }

  record Frame(YamuxHeader header, byte[] payload) {}

  @Provide
  Arbitrary<Frame> frames() {
    Arbitrary<Integer> type = Arbitraries.integers().between(0, 3);
    Arbitrary<Integer> flags = Arbitraries.integers().between(0, 0xF);
    Arbitrary<Integer> stream = Arbitraries.integers();
    Arbitrary<byte[]> payload = Arbitraries.bytes().array(byte[].class).ofMaxSize(3000);
    Arbitrary<Integer> value = Arbitraries.integers();
    return Combinators.combine(type, flags, stream, payload, value)
        .as(
            (t, f, s, p, v) ->
                t == YamuxHeader.TYPE_DATA
                    ? new Frame(new YamuxHeader(t, f, s, p.length), p)
                    : new Frame(new YamuxHeader(t, f, s, v), new byte[0]));
  }

  @Property(tries = 500)
  void decoderReassemblesFramesWhateverTheSplitPoints(
      @ForAll @Size(max = 30) List<@From("frames") Frame> frames,
      @ForAll @IntRange(min = 1, max = 50) int pieceSize) {
    ByteBuf wire = Unpooled.buffer();
    for (Frame f : frames) {
      f.header().encode(wire);
      wire.writeBytes(f.payload());
    }
    List<Frame> decoded = new ArrayList<>();
    ByteArrayOutputStream[] current = new ByteArrayOutputStream[1];
    YamuxHeader[] currentHeader = new YamuxHeader[1];
    YamuxFrameDecoder decoder = new YamuxFrameDecoder(MAX_DATA);
    YamuxFrameDecoder.Listener l =
        new YamuxFrameDecoder.Listener() {
          @Override
          public void header(YamuxHeader h) {
            if (h.type() == YamuxHeader.TYPE_DATA) {
              currentHeader[0] = h;
              current[0] = new ByteArrayOutputStream();
            } else {
              decoded.add(new Frame(h, new byte[0]));
            }
          }

          @Override
          public void data(YamuxHeader h, ByteBuf chunk) {
            byte[] b = new byte[chunk.readableBytes()];
            chunk.readBytes(b);
            chunk.release();
            current[0].writeBytes(b);
          }

          @Override
          public void dataEnd(YamuxHeader h) {
            assertThat(h).isEqualTo(currentHeader[0]);
            decoded.add(new Frame(h, current[0].toByteArray()));
          }
        };
    while (wire.isReadable()) {
      ByteBuf piece = wire.readRetainedSlice(Math.min(pieceSize, wire.readableBytes()));
      decoder.decode(piece, l);
      assertThat(piece.isReadable()).isFalse();
      piece.release();
    }
    wire.release();
    assertThat(decoded).hasSameSizeAs(frames);
    for (int i = 0; i < frames.size(); i++) {
      assertThat(decoded.get(i).header()).isEqualTo(frames.get(i).header());
      assertThat(decoded.get(i).payload()).isEqualTo(frames.get(i).payload());
    }
  }

  @Property(tries = 200)
  void dataFrameLargerThanAnyWindowIsRefusedBeforeItsPayload(
      @ForAll @IntRange(min = MAX_DATA + 1) int length) {
    ByteBuf wire = Unpooled.buffer();
    new YamuxHeader(YamuxHeader.TYPE_DATA, 0, 1, length).encode(wire);
    YamuxFrameDecoder decoder = new YamuxFrameDecoder(MAX_DATA);
    assertThatThrownBy(() -> decoder.decode(wire, new NoFrames()))
        .isInstanceOf(YamuxProtocolException.class)
        .hasMessageContaining("exceeds the largest window");
    wire.release();
  }

  private static final class NoFrames implements YamuxFrameDecoder.Listener {
    @Override
    public void header(YamuxHeader header) {
      throw new AssertionError("no frame expected, got " + header);
    }

    @Override
    public void data(YamuxHeader header, ByteBuf chunk) {
      chunk.release();
      throw new AssertionError("no data expected");
    }

    @Override
    public void dataEnd(YamuxHeader header) {
      throw new AssertionError("no frame end expected");
    }
  }
}
