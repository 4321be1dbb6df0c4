package dev.goplugin4j.host.internal.log;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class BoundedLineReaderTest {
  private static List<BoundedLineReader.Chunk> all(String text, int max) throws IOException {
    return all(new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8)), max);
  }

  private static List<BoundedLineReader.Chunk> all(InputStream in, int max) throws IOException {
    BoundedLineReader r = new BoundedLineReader(in, max);
    List<BoundedLineReader.Chunk> out = new ArrayList<>();
    for (BoundedLineReader.Chunk c; (c = r.next()) != null; ) {
      out.add(c);
    }
    return out;
  }

  @Test
  void readsLinesDroppingCrLfAndKeepsALastLineWithoutNewline() throws IOException {
    assertThat(all("1|1|unix|/x|grpc|\r\nsecond\nlast", 64))
        .extracting(BoundedLineReader.Chunk::text, BoundedLineReader.Chunk::continues)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("1|1|unix|/x|grpc|", false),
            org.assertj.core.groups.Tuple.tuple("second", false),
            org.assertj.core.groups.Tuple.tuple("last", false));
  }

  @Test
  void splitsALineLongerThanTheBufferIntoChunksAndLosesNothing() throws IOException {
    String line = "x".repeat(100);
    List<BoundedLineReader.Chunk> chunks = all(line + "\nnext\n", 16);
    assertThat(chunks).hasSize(8);
    assertThat(chunks.subList(0, 6)).allMatch(BoundedLineReader.Chunk::continues)
        .allMatch(c -> c.text().length() == 16);
    assertThat(chunks.get(6).continues()).isFalse();
    assertThat(String.join("", chunks.subList(0, 7).stream().map(BoundedLineReader.Chunk::text).toList()))
        .isEqualTo(line);
    assertThat(chunks.get(7).text()).isEqualTo("next");
  }

  @Test
  void neverCutsInsideAUtf8SequenceOrBetweenCrAndLf() throws IOException {
    String line = "abcdefghijklmno" + "é" + "z"; // é straddles the 16-byte boundary
    List<BoundedLineReader.Chunk> chunks = all(line + "\n", 16);
    assertThat(chunks.get(0).text()).isEqualTo("abcdefghijklmno");
    assertThat(chunks.get(1).text()).isEqualTo("éz");
    List<BoundedLineReader.Chunk> cr = all("y".repeat(15) + "\r\nok\n", 16);
    assertThat(cr.get(0).text()).isEqualTo("y".repeat(15));
    assertThat(cr.get(1).text()).isEmpty();
    assertThat(cr.get(1).continues()).isFalse();
    assertThat(cr.get(2).text()).isEqualTo("ok");
  }

  @Test
  void holdsNoMoreThanOneBufferOfAnEndlessLine() throws IOException {
    // 300 MiB without a newline, produced on the fly: the reader returns chunk after chunk
    long total = 300L << 20;
    InputStream endless = new InputStream() {
      long left = total;

      @Override
      public int read() {
        return left-- > 0 ? 'A' : -1;
      }

      @Override
      public int read(byte[] b, int off, int len) {
        if (left <= 0) {
          return -1;
        }
        int n = (int) Math.min(len, left);
        java.util.Arrays.fill(b, off, off + n, (byte) 'A');
        left -= n;
        return n;
      }
    };
    BoundedLineReader r = new BoundedLineReader(endless, 64 * 1024);
    BoundedLineReader.Chunk first = r.next();
    assertThat(first.continues()).isTrue();
    assertThat(first.bytes()).isEqualTo(64 * 1024);
    long seen = first.bytes();
    for (BoundedLineReader.Chunk c; (c = r.next()) != null; ) {
      assertThat(c.bytes()).isLessThanOrEqualTo(64 * 1024);
      seen += c.bytes();
    }
    assertThat(seen).isEqualTo(total);
  }
}
