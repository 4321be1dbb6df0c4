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
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The read side's chunk parser against protobuf's own encoding. */
class StreamerChunkMarshallerTest {
  private final StreamerPlugin.ChunkMarshaller marshaller = new StreamerPlugin.ChunkMarshaller();

  @Test
  void parsesWhatProtobufEncodesForEverySizeOfChunk() throws IOException {
    Random random = new Random(7);
    for (int size : new int[] {0, 1, 127, 128, 16_383, 16_384, 65_536, 1 << 20}) {
      byte[] data = new byte[size];
      random.nextBytes(data);
      Read.ResponseChunk chunk = Read.ResponseChunk.newBuilder().setReadBytes(ByteString.copyFrom(data)).build();

      Read.ResponseChunk parsed = marshaller.parse(marshaller.stream(chunk));

      assertThat(parsed.getReadBytes().toByteArray()).as("chunk of %d bytes", size).isEqualTo(data);
    }
  }

  @Test
  void skipsUnknownFieldsOfEveryWireTypeAndKeepsTheLastChunkField() throws IOException {
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

    Read.ResponseChunk parsed = marshaller.parse(new ByteArrayInputStream(bytes.toByteArray()));

    assertThat(parsed.getReadBytes().toStringUtf8()).isEqualTo("last");
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
      assertThatThrownBy(() -> marshaller.parse(new ByteArrayInputStream(b)))
          .as("input %s", Arrays.toString(b))
          .isInstanceOfSatisfying(StatusRuntimeException.class,
              e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INTERNAL));
    }
  }
}
