package dev.goplugin4j.container.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.apache.hc.core5.http.NoHttpResponseException;
import org.junit.jupiter.api.Test;

/** Which failed engine calls go out again on a new connection, and which never do. */
class EngineRetryTest {
  private static Supplier<String> failingOnce(IOException first, AtomicInteger calls) {
    return () -> {
      if (calls.incrementAndGet() == 1) {
        throw new UncheckedIOException(first);
      }
      return "answer";
    };
  }

  @Test
  void aCallWhoseConnectionTheEngineHadClosedGoesOutAgain() {
    AtomicInteger calls = new AtomicInteger();
    assertThat(EngineTransport.retryingStale(
        failingOnce(new NoHttpResponseException("no answer"), calls))).isEqualTo("answer");
    assertThat(calls).hasValue(2);
  }

  @Test
  void aCreateWhoseAnswerMayHaveBeenLostIsNotSentTwice() {
    AtomicInteger calls = new AtomicInteger();
    assertThatThrownBy(() -> EngineTransport.retryingUnread(
        failingOnce(new NoHttpResponseException("no answer"), calls)))
        .hasRootCauseInstanceOf(NoHttpResponseException.class);
    assertThat(calls).as("a second create would make a second container").hasValue(1);

    AtomicInteger reset = new AtomicInteger();
    assertThatThrownBy(() -> EngineTransport.retryingUnread(
        failingOnce(new IOException("Connection reset by peer"), reset)));
    assertThat(reset).hasValue(1);
  }

  @Test
  void aCreateTheEngineCannotHaveReadGoesOutAgain() {
    AtomicInteger calls = new AtomicInteger();
    assertThat(EngineTransport.retryingUnread(
        failingOnce(new IOException("Broken pipe"), calls))).isEqualTo("answer");
    assertThat(calls).hasValue(2);
  }

  @Test
  void aTimeoutIsNeverSentAgain() {
    AtomicInteger calls = new AtomicInteger();
    assertThatThrownBy(() -> EngineTransport.retryingStale(
        failingOnce(new java.net.SocketTimeoutException("read timed out"), calls)));
    assertThat(calls).hasValue(1);
  }
}
