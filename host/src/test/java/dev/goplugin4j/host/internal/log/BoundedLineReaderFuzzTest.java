package dev.goplugin4j.host.internal.log;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Coverage-guided fuzzing (Jazzer) of {@link BoundedLineReader}, which reads a plugin's stdout
 * (the handshake line first) with a fixed buffer. With a small buffer (16 to 80 bytes) and input
 * arriving in any pieces:
 *
 * <ul>
 *   <li>no chunk is longer than the buffer: a plugin cannot make the host hold a longer line;
 *   <li>every byte is accounted for: the chunks' byte counts add up to the input's length;
 *   <li>for valid UTF-8, the chunks of each line put together are the line exactly (a {@code \r}
 *       before its {@code \n} dropped), so a cut never falls inside a character;
 *   <li>only {@link IOException} could escape (the test's stream never throws one), and the
 *       reader ends with null at end of stream, and stays there.
 * </ul>
 *
 * <p>Regression inputs: {@code src/test/resources/dev/goplugin4j/host/internal/log/
 * BoundedLineReaderFuzzTestInputs/read/}. The host module's {@code jazzer-fuzz-stdout} execution
 * fuzzes for {@code maxDuration}; see docs/security.md for the long run.
 */
class BoundedLineReaderFuzzTest {

  @FuzzTest(maxDuration = "5s")
  void read(FuzzedDataProvider data) throws IOException {
    int max = data.consumeInt(16, 80);
    int readSize = data.consumeInt(1, 100);
    byte[] input = data.consumeRemainingAsBytes();

    BoundedLineReader reader = new BoundedLineReader(new Pieces(input, readSize), max);
    List<String> lines = new ArrayList<>();
    StringBuilder open = null;
    long consumed = 0;
    BoundedLineReader.Chunk c;
    int guard = 0;
    while ((c = reader.next()) != null) {
      assertThat(++guard).as("chunks for %d bytes", input.length)
          .isLessThanOrEqualTo(2 * input.length + 2);
      assertThat(c.bytes()).as("bytes of one chunk").isBetween(0, max);
      assertThat(c.text().length()).isLessThanOrEqualTo(max);
      consumed += c.bytes();
      if (open == null) {
        open = new StringBuilder();
      }
      open.append(c.text());
      if (!c.continues()) {
        lines.add(open.toString());
        open = null;
      }
    }
    if (open != null) {
      lines.add(open.toString()); // a long last line without terminator: its last chunk continued
    }
    assertThat(reader.next()).as("after the end").isNull();
    assertThat(consumed).as("bytes accounted for").isEqualTo(input.length);
    if (validUtf8(input)) {
      assertThat(lines).isEqualTo(expectedLines(input));
    }
  }

  private static List<String> expectedLines(byte[] input) {
    List<String> out = new ArrayList<>();
    int start = 0;
    for (int i = 0; i < input.length; i++) {
      if (input[i] == '\n') {
        int end = i > start && input[i - 1] == '\r' ? i - 1 : i;
        out.add(new String(input, start, end - start, StandardCharsets.UTF_8));
        start = i + 1;
      }
    }
    if (start < input.length) {
      out.add(new String(input, start, input.length - start, StandardCharsets.UTF_8));
    }
    return out;
  }

  private static boolean validUtf8(byte[] input) {
    try {
      StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(input));
      return true;
    } catch (CharacterCodingException e) {
      return false;
    }
  }

  /** Hands out the input at most {@code max} bytes per read, as a pipe does. */
  private static final class Pieces extends InputStream {
    private final byte[] input;
    private final int max;
    private int pos;

    Pieces(byte[] input, int max) {
      this.input = input;
      this.max = max;
    }

    @Override
    public int read() {
      return pos < input.length ? input[pos++] & 0xff : -1;
    }

    @Override
    public int read(byte[] b, int off, int len) {
      if (pos >= input.length) {
        return -1;
      }
      int n = Math.min(Math.min(len, max), input.length - pos);
      System.arraycopy(input, pos, b, off, n);
      pos += n;
      return n;
    }
  }
}
