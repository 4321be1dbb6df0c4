package dev.goplugin4j.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.FileInputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Pipe;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** File descriptor leak checks of {@link Leaks} against real fds of this JVM. */
class LeaksTest {
  /** Watches no thread of this JVM: only fds and child processes matter here. */
  private static final String NO_THREADS = "leaks-test-no-such-thread-";

  private static final Duration SHORT = Duration.ofMillis(300);

  @TempDir Path dir;

  @Test
  void aFileOpenedAndForgottenFailsTheCheckNamingItsPath() throws Exception {
    Path file = Files.writeString(dir.resolve("forgotten.txt"), "x");
    Leaks leaks = Leaks.snapshotWithFds(NO_THREADS);
    FileInputStream in = new FileInputStream(file.toFile());
    try {
      assertThatThrownBy(() -> leaks.assertNoneWithin(SHORT))
          .isInstanceOf(AssertionError.class)
          .hasMessageContaining("leaked after 300 ms")
          .hasMessageMatching("(?s).*fd \\d+ -> " + java.util.regex.Pattern.quote(file.toString()) + ".*");
    } finally {
      in.close();
    }
    leaks.assertNoneWithin(SHORT);
  }

  @Test
  void aFileClosedAgainIsNoLeak() throws Exception {
    Path file = Files.writeString(dir.resolve("closed.txt"), "x");
    Leaks leaks = Leaks.snapshotWithFds(NO_THREADS);
    try (FileInputStream in = new FileInputStream(file.toFile())) {
      assertThat(in.read()).isEqualTo('x');
    }
    leaks.assertNoneWithin(SHORT);
  }

  @Test
  void aForgottenPipeFailsTheCheck() throws Exception {
    Leaks leaks = Leaks.snapshotWithFds(NO_THREADS);
    Pipe pipe = Pipe.open();
    try {
      assertThatThrownBy(() -> leaks.assertNoneWithin(SHORT))
          .isInstanceOf(AssertionError.class)
          .hasMessageContaining("pipe:[");
    } finally {
      pipe.sink().close();
      pipe.source().close();
    }
    leaks.assertNoneWithin(SHORT);
  }

  @Test
  void aForgottenUnixSocketIsReportedWithItsPath() throws Exception {
    Path socket = dir.resolve("leak.sock");
    Leaks leaks = Leaks.snapshotWithFds(NO_THREADS);
    ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    try {
      server.bind(UnixDomainSocketAddress.of(socket));
      assertThatThrownBy(() -> leaks.assertNoneWithin(SHORT))
          .isInstanceOf(AssertionError.class)
          .hasMessageContaining("socket:[")
          .hasMessageContaining("(unix socket " + socket + ")");
    } finally {
      server.close();
    }
    leaks.assertNoneWithin(SHORT);
  }

  @Test
  void fdsOpenAtTheSnapshotAreTolerated() throws Exception {
    Path file = Files.writeString(dir.resolve("before.txt"), "x");
    try (FileInputStream before = new FileInputStream(file.toFile())) {
      Leaks leaks = Leaks.snapshotWithFds(NO_THREADS);
      leaks.assertNoneWithin(SHORT);
      assertThat(before.read()).isEqualTo('x');
    }
  }

  @Test
  void anFdClosedByAnotherThreadWithinTheTimeoutSettles() throws Exception {
    Path file = Files.writeString(dir.resolve("late.txt"), "x");
    Leaks leaks = Leaks.snapshotWithFds(NO_THREADS);
    FileInputStream in = new FileInputStream(file.toFile());
    Thread closer = new Thread(() -> {
      try {
        Thread.sleep(200);
        in.close();
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    }, "leaks-test-closer");
    closer.start();
    try {
      leaks.assertNoneWithin(Duration.ofSeconds(10));
    } finally {
      closer.join();
      in.close();
    }
  }

  @Test
  void thePlainSnapshotDoesNotWatchFds() throws Exception {
    Path file = Files.writeString(dir.resolve("unwatched.txt"), "x");
    Leaks leaks = Leaks.snapshot(NO_THREADS);
    try (FileInputStream in = new FileInputStream(file.toFile())) {
      assertThat(leaks.watchesFds()).isFalse();
      leaks.assertNoneWithin(SHORT);
      assertThat(in.read()).isEqualTo('x');
    }
    assertThat(Leaks.snapshotWithFds(NO_THREADS).watchesFds()).isTrue();
  }
}
