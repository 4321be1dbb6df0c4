package dev.goplugin4j.interop;

import static dev.goplugin4j.interop.InteropSupport.PEERS;
import static dev.goplugin4j.interop.InteropSupport.assertNothingLeaked;
import static dev.goplugin4j.interop.InteropSupport.exampleClient;
import static org.assertj.core.api.Assertions.assertThat;

import dev.goplugin4j.host.PluginClient;
import dev.goplugin4j.testkit.Leaks;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What plugins write to stdout and stderr reaches the host intact. */
class StdioIT {
  private static final String PATTERN = "0123456789abcdef";

  @TempDir Path sockets;

  @Test
  void oneMebibyteStderrLineArrivesWholeAndThePluginStillWorks() throws Exception {
    ByteArrayOutputStream stderr = new ByteArrayOutputStream();
    Leaks leaks = Leaks.snapshot(InteropSupport.THREAD_PREFIX);
    try (PluginClient client =
        exampleClient(PEERS.badPlugin("huge-stderr"), sockets)
            .plugin("kv", new KvPlugin())
            .stderr(synchronizedStream(stderr))
            .build()) {
      Kv kv = client.dispense("kv", Kv.class);
      kv.put("k", "v".getBytes(StandardCharsets.UTF_8));

      assertThat(kv.get("k")).asString(StandardCharsets.UTF_8).isEqualTo("v");
    }
    String raw = contents(stderr);
    // the line may have been split at the log buffer size, never shortened
    String joined = raw.replace("\n", "");
    String expected = PATTERN.repeat(1 << 16);
    assertThat(joined.indexOf(expected)).as("the whole 1 MiB line is in the stderr copy").isNotNegative();
    assertNothingLeaked(leaks, sockets);
  }

  @Test
  void stdoutAndStderrWrittenAfterTheHandshakeAreForwardedOverGrpcStdio() throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    Leaks leaks = Leaks.snapshot(InteropSupport.THREAD_PREFIX);
    try (PluginClient client =
        exampleClient(PEERS.badPlugin("stdout-chatty"), sockets)
            .plugin("kv", new KvPlugin())
            .syncStdout(synchronizedStream(out))
            .syncStderr(synchronizedStream(err))
            .build()) {
      Kv kv = client.dispense("kv", Kv.class);

      kv.put("first", new byte[] {1});
      kv.put("second", new byte[] {2});

      awaitContains(() -> contents(out), "chatty stdout: put first\nchatty stdout: put second\n");
      awaitContains(() -> contents(err), "chatty stderr: put first\nchatty stderr: put second\n");
    }
    assertNothingLeaked(leaks, sockets);
  }

  private static OutputStream synchronizedStream(ByteArrayOutputStream target) {
    return new OutputStream() {
      @Override
      public void write(int b) {
        synchronized (target) {
          target.write(b);
        }
      }

      @Override
      public void write(byte[] b, int off, int len) {
        synchronized (target) {
          target.write(b, off, len);
        }
      }
    };
  }

  private static String contents(ByteArrayOutputStream stream) {
    synchronized (stream) {
      return stream.toString(StandardCharsets.UTF_8);
    }
  }

  private static void awaitContains(Supplier<String> text, String expected) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (!text.get().contains(expected) && System.nanoTime() - deadline < 0) {
      Thread.sleep(20);
    }
    assertThat(text.get()).contains(expected);
  }
}
