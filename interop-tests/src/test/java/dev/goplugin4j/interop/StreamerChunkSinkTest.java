package dev.goplugin4j.interop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedOutputStream;
import dev.goplugin4j.interop.proto.streaming.Read;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The read side's chunk parser against protobuf's own encoding. */
class StreamerChunkSinkTest {
  private final StreamerPlugin.ChunkSink sink = new StreamerPlugin.ChunkSink();

  @Test
  void appendsWhatProtobufEncodesInOrderForEverySizeOfChunk() throws IOException {
    Random random = new Random(7);
    ByteArrayOutputStream expected = new ByteArrayOutputStream();
    for (int size : new int[] {0, 1, 127, 128, 16_383, 16_384, 65_536, 1 << 20, 5}) {
      byte[] data = new byte[size];
      random.nextBytes(data);
      expected.write(data);
      Read.ResponseChunk chunk = Read.ResponseChunk.newBuilder().setReadBytes(ByteString.copyFrom(data)).build();

      sink.parse(sink.stream(chunk));

      assertThat(sink.bytes()).as("after a chunk of %d bytes", size).isEqualTo(expected.toByteArray());
    }
  }

  @Test
  void returnsNoBytesBeforeAnyChunk() {
    assertThat(sink.bytes()).isEmpty();
  }

  @Test
  void skipsUnknownFieldsOfEveryWireTypeAndKeepsTheLastChunkFieldOfAMessage() throws IOException {
    sink.parse(new ByteArrayInputStream(Read.ResponseChunk.newBuilder()
        .setReadBytes(ByteString.copyFromUtf8("before ")).build().toByteArray()));
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    CodedOutputStream out = CodedOutputStream.newInstance(bytes);
    out.writeBytes(1, ByteString.copyFromUtf8("first"));
    out.writeUInt64(2, Long.MAX_VALUE);
    out.writeFixed64(3, 42);
    out.writeBytes(4, ByteString.copyFromUtf8("other"));
    out.writeFixed32(5, 7);
    out.writeInt32(1, 9); // field 1 with the wrong wire type: unknown, skipped
    out.writeBytes(1, ByteString.copyFromUtf8("last"));
    out.writeUInt64(6000, 1);
    out.flush();

    sink.parse(new ByteArrayInputStream(bytes.toByteArray()));

    assertThat(new String(sink.bytes(), StandardCharsets.UTF_8)).isEqualTo("before last");
  }

  @Test
  void rejectsTruncatedAndMalformedChunksWithAnInternalStatus() throws IOException {
    byte[] whole = Read.ResponseChunk.newBuilder().setReadBytes(ByteString.copyFromUtf8("0123456789"))
        .build().toByteArray();
    byte[][] bad = {
      Arrays.copyOf(whole, whole.length - 1), // field shorter than its length
      {0x0A}, // length missing
      {(byte) 0x80}, // tag cut inside its varint
      {0x0A, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0x0F}, // 4 GiB field in 6 bytes
      {0x0B}, // start group: not supported
      {0x02}, // field number 0
    };
    for (byte[] b : bad) {
      assertThatThrownBy(() -> sink.parse(new ByteArrayInputStream(b)))
          .as("input %s", Arrays.toString(b))
          .isInstanceOfSatisfying(StatusRuntimeException.class,
              e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INTERNAL));
    }
  }
}
