package dev.goplugin4j.protocol.internal.yamux;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.grpc.netty.shaded.io.netty.buffer.ByteBuf;
import io.grpc.netty.shaded.io.netty.buffer.Unpooled;
import java.util.ArrayList;
import java.util.List;

/**
 * Coverage-guided fuzzing (Jazzer) of {@link YamuxFrameDecoder}: for any bytes, cut into any
 * pieces, the decoder must
 *
 * <ul>
 *   <li>either parse or fail with {@link YamuxProtocolException} only, and then ignore the rest;
 *   <li>report exactly what a one-piece decode of the same bytes reports (headers, payload bytes,
 *       frame ends, and where it failed), so chunking never changes the result;
 *   <li>report each Data payload as pieces adding up to the header's length, each non-empty frame
 *       ended once, and never a Data frame longer than the limit;
 *   <li>retain each chunk it hands out once, so that after the listener releases them the input
 *       buffer's own release frees it (no leak, no double release).
 * </ul>
 *
 * <p>Under plain {@code mvn test} Jazzer runs in regression mode: the inputs in {@code
 * src/test/resources/.../YamuxFrameDecoderFuzzTestInputs/decode/} plus the empty input. The
 * protocol module's {@code jazzer-fuzz} Surefire execution sets {@code JAZZER_FUZZ=1} and fuzzes
 * for {@code maxDuration}; a failing input is written to that directory, where it then stays as
 * a regression case.
 */
class YamuxFrameDecoderFuzzTest {
  /** A limit small enough that the fuzzer reaches the oversized-frame branch often. */
  private static final int MAX_DATA = 4096;

  @FuzzTest(maxDuration = "25s")
  void decode(FuzzedDataProvider data) {
    int pieces = data.consumeInt(1, 32);
    int[] cuts = new int[pieces - 1];
    for (int i = 0; i < cuts.length; i++) {
      cuts[i] = data.consumeInt(0, 1 << 16);
    }
    byte[] input = data.consumeRemainingAsBytes();

    List<String> whole = run(input, new int[0]);
    List<String> chunked = run(input, cuts);
    assertThat(chunked).as("events when the input arrives in pieces").isEqualTo(whole);
  }

  /** Decodes {@code input} cut at the given offsets; returns the normalized event log. */
  private static List<String> run(byte[] input, int[] cuts) {
    YamuxFrameDecoder decoder = new YamuxFrameDecoder(MAX_DATA);
    Recorder rec = new Recorder();
    int off = 0;
    int cut = 0;
    while (off < input.length) {
      int n = cut < cuts.length ? Math.min(cuts[cut++], input.length - off) : input.length - off;
      if (n == 0) {
        continue;
      }
      ByteBuf buf = Unpooled.wrappedBuffer(input, off, n);
      try {
        decoder.decode(buf, rec);
        assertThat(buf.isReadable()).as("decoder left input unread without failing").isFalse();
      } catch (YamuxProtocolException e) {
        rec.events.add("error");
        rec.failed = true;
      } finally {
        // refCnt 1 -> 0 only if every chunk the decoder retained was released again
        assertThat(buf.release()).as("no retained chunk of the input outlives the listener").isTrue();
      }
      off += n;
      if (rec.failed) {
        // a stopped decoder ignores everything after the error
        ByteBuf rest = Unpooled.wrappedBuffer(input, off, input.length - off);
        decoder.decode(rest, rec);
        rest.release();
        break;
      }
    }
    rec.flushData();
    if (!rec.failed && rec.open != null) {
      rec.events.add("partial " + rec.open + " missing " + rec.remaining);
    }
    return rec.events;
  }

  /** Records events, merging a frame's payload pieces into one entry so chunking does not show. */
  private static final class Recorder implements YamuxFrameDecoder.Listener {
    final List<String> events = new ArrayList<>();
    YamuxHeader open;
    long remaining;
    long dataBytes;
    int dataHash = 1;
    boolean failed;

    @Override
    public void header(YamuxHeader h) {
      assertThat(failed).as("no events after a protocol error").isFalse();
      assertThat(open).as("a header inside an unfinished Data frame").isNull();
      events.add("header " + h);
      if (h.type() == YamuxHeader.TYPE_DATA) {
        assertThat(h.lengthUnsigned()).as("Data frame within the limit").isLessThanOrEqualTo(MAX_DATA);
        if (h.length() != 0) {
          open = h;
          remaining = h.lengthUnsigned();
        }
      }
    }

    @Override
    public void data(YamuxHeader h, ByteBuf chunk) {
      try {
        assertThat(h).as("payload of the open frame").isEqualTo(open);
        assertThat(chunk.refCnt()).as("chunk handed over retained").isPositive();
        assertThat((long) chunk.readableBytes()).isPositive().isLessThanOrEqualTo(remaining);
        remaining -= chunk.readableBytes();
        dataBytes += chunk.readableBytes();
        while (chunk.isReadable()) {
          dataHash = 31 * dataHash + chunk.readByte();
        }
      } finally {
        chunk.release();
      }
    }

    @Override
    public void dataEnd(YamuxHeader h) {
      assertThat(h.type()).isEqualTo(YamuxHeader.TYPE_DATA);
      if (h.length() != 0) {
        assertThat(h).isEqualTo(open);
        assertThat(remaining).as("payload bytes still missing at frame end").isZero();
        open = null;
      }
      flushData();
      events.add("end");
    }

    void flushData() {
      if (dataBytes > 0) {
        events.add("data " + dataBytes + " #" + dataHash);
        dataBytes = 0;
        dataHash = 1;
      }
    }
  }
}
