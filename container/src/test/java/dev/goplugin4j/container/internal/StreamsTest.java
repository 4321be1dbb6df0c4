package dev.goplugin4j.container.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class StreamsTest {
  private static byte[] frame(int stream, String text) {
    byte[] p = text.getBytes(StandardCharsets.UTF_8);
    byte[] f = new byte[8 + p.length];
    f[0] = (byte) stream;
    f[4] = (byte) (p.length >>> 24);
    f[5] = (byte) (p.length >>> 16);
    f[6] = (byte) (p.length >>> 8);
    f[7] = (byte) p.length;
    System.arraycopy(p, 0, f, 8, p.length);
    return f;
  }

  @Test
  void demuxerSplitsFramesByStreamInOrder() throws Exception {
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    all.write(frame(1, "1|1|unix|"));
    all.write(frame(2, "log line\n"));
    all.write(frame(1, "/tmp/go-plugin-container/p|grpc|\n"));
    all.write(frame(9, "ignored"));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    FrameDemuxer.copy(new ByteArrayInputStream(all.toByteArray()), out, err);
    assertThat(out.toString(StandardCharsets.UTF_8))
        .isEqualTo("1|1|unix|/tmp/go-plugin-container/p|grpc|\n");
    assertThat(err.toString(StandardCharsets.UTF_8)).isEqualTo("log line\n");
  }

  @Test
  void demuxerReportsATruncatedFrame() {
    byte[] f = frame(1, "abcdef");
    byte[] cut = java.util.Arrays.copyOf(f, f.length - 2);
    assertThatThrownBy(() -> FrameDemuxer.copy(new ByteArrayInputStream(cut),
        new ByteArrayOutputStream(), new ByteArrayOutputStream()))
        .isInstanceOf(EOFException.class);
  }

  @Test
  void pipeDeliversBufferedBytesThenEndOfStream() throws Exception {
    BytePipe p = new BytePipe(8);
    CompletableFuture<String> read = CompletableFuture.supplyAsync(() -> {
      try (InputStream in = p.in()) {
        return new String(in.readAllBytes(), StandardCharsets.UTF_8);
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    });
    p.out().write("more than eight bytes, in pieces".getBytes(StandardCharsets.UTF_8));
    p.closeWriter();
    assertThat(read.get(5, TimeUnit.SECONDS)).isEqualTo("more than eight bytes, in pieces");
  }

  @Test
  void pipeGrowsPastItsFirstBufferKeepingWrappedBytesInOrder() throws Exception {
    BytePipe p = new BytePipe(64 * 1024);
    byte[] data = new byte[5 * BytePipe.INITIAL_BUFFER / 2];
    for (int i = 0; i < data.length; i++) {
      data[i] = (byte) (i * 31 + i / 251);
    }
    int firstWrite = BytePipe.INITIAL_BUFFER * 3 / 4;
    p.out().write(data, 0, firstWrite);
    byte[] read = new byte[data.length];
    int got = p.in().readNBytes(read, 0, firstWrite / 2);
    // the rest wraps around the end of the first buffer, then no longer fits and grows it
    p.out().write(data, firstWrite, data.length - firstWrite);
    p.closeWriter();
    got += p.in().readNBytes(read, got, data.length - got);
    assertThat(got).isEqualTo(data.length);
    assertThat(read).isEqualTo(data);
    assertThat(p.in().read()).isEqualTo(-1);
  }

  @Test
  void writerNeverBlocksOnAReaderThatLeft() throws Exception {
    BytePipe p = new BytePipe(4);
    p.in().close();
    CompletableFuture<Void> write = CompletableFuture.runAsync(() -> {
      try {
        p.out().write(new byte[1000]);
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    });
    write.get(5, TimeUnit.SECONDS);
    assertThat(p.in().read()).isEqualTo(-1);
  }
}
