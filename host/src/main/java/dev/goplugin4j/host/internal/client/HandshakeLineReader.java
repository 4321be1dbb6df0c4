package dev.goplugin4j.host.internal.client;

import static dev.goplugin4j.host.internal.client.FailureDiagnosis.abbreviate;

import dev.goplugin4j.host.PluginClient;
import dev.goplugin4j.host.PluginStartException;
import dev.goplugin4j.host.Runner;
import dev.goplugin4j.host.internal.log.BoundedLineReader;
import dev.goplugin4j.protocol.Handshake;
import dev.goplugin4j.protocol.HandshakeException;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Handshake line phase of a launch: reads the plugin's stdout (the handshake line first, then
 * lines logged at debug), waits for that line within the start timeout, and parses it.
 */
final class HandshakeLineReader {
  // the session's logger: tests and users read these lines under PluginClient
  private static final Logger log = LoggerFactory.getLogger(PluginClient.class);
  /** Longest handshake line, as go-plugin's host reads it (bufio.Scanner): 64 KiB. */
  static final int MAX_STDOUT_LINE = BoundedLineReader.DEFAULT_MAX_LINE_BYTES;

  private final Runner r;
  private final Logger pluginLog;
  private final BooleanSupplier closing;
  private final Duration startTimeout;
  private final FailureDiagnosis diagnosis;
  private final CompletableFuture<String> firstLine = new CompletableFuture<>();

  HandshakeLineReader(Runner r, Logger pluginLog, BooleanSupplier closing, Duration startTimeout,
      FailureDiagnosis diagnosis) {
    this.r = r;
    this.pluginLog = pluginLog;
    this.closing = closing;
    this.startTimeout = startTimeout;
    this.diagnosis = diagnosis;
  }

  /**
   * Reads the plugin's stdout with a fixed buffer: the first line is the handshake (at most {@link
   * #MAX_STDOUT_LINE} bytes, as go-plugin's {@code bufio.Scanner}; a longer one fails the start
   * with a {@link HandshakeException} that says so), later lines are logged at debug, a line
   * longer than the buffer only by its start and length, and discarded. The host never holds more
   * than one buffer of what the plugin wrote. Runs on the session's stdout thread.
   */
  void readStdout() {
    try (InputStream in = r.stdout()) {
      BoundedLineReader reader = new BoundedLineReader(in, MAX_STDOUT_LINE);
      long longLine = 0; // bytes so far of a line longer than the buffer, 0 between lines
      BoundedLineReader.Chunk c;
      while ((c = reader.next()) != null) {
        if (!firstLine.isDone()) {
          if (!c.continues()) {
            firstLine.complete(c.text());
            continue;
          }
          firstLine.completeExceptionally(new HandshakeException(
              "the plugin wrote more than " + MAX_STDOUT_LINE / 1024 + " KiB on stdout without a"
                  + " newline before its handshake line (it began \"" + abbreviate(c.text())
                  + "\"). A go-plugin plugin prints one short handshake line first, and hosts read"
                  + " at most " + MAX_STDOUT_LINE / 1024 + " KiB of it: the command does not run a"
                  + " go-plugin plugin, or the plugin writes to stdout before plugin.Serve"));
        }
        if (longLine == 0 && !c.continues()) {
          pluginLog.debug("plugin stdout: {}", c.text());
        } else if (longLine == 0) {
          longLine = c.bytes();
          pluginLog.debug("plugin stdout, a line longer than {} KiB (its start, abbreviated): {}",
              MAX_STDOUT_LINE / 1024, abbreviate(c.text()));
        } else {
          longLine += c.bytes();
          if (!c.continues()) {
            pluginLog.debug("plugin stdout: the long line ended after {} bytes, discarded",
                longLine);
            longLine = 0;
          }
        }
      }
    } catch (IOException e) {
      if (!closing.getAsBoolean()) {
        log.debug("error reading plugin stdout: {}", e.toString());
      }
    } finally {
      firstLine.complete(null);
    }
  }

  /** The handshake line, or a start failure that tells why there is none. */
  String awaitHandshakeLine(long deadline) {
    // A line wins over an exit that raced it: the line has the better story.
    CompletableFuture<Object> first = CompletableFuture.anyOf(firstLine, r.onExit());
    try {
      first.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
    } catch (TimeoutException e) {
      throwIfStdoutRefused();
      throw new PluginStartException(diagnosis.failure(
          "timeout while waiting for plugin to start: no handshake line on stdout within "
              + startTimeout.toMillis() + " ms", r));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new PluginStartException(
          diagnosis.failure("interrupted while waiting for the plugin to start", r), e);
    } catch (ExecutionException e) {
      throwIfStdoutRefused();
      throw new PluginStartException(
          diagnosis.failure("error waiting for the plugin to start", r), e.getCause());
    }
    throwIfStdoutRefused();
    String line = firstLine.getNow(null);
    if (line == null && r.onExit().isDone()) {
      // the stdout reader may still be finishing the last line
      try {
        line = firstLine.get(500, TimeUnit.MILLISECONDS);
      } catch (TimeoutException | ExecutionException e) {
        line = null;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      // what the plugin wrote is the story, not how it then ended (a SIGPIPE, say)
      throwIfStdoutRefused();
    }
    if (line == null) {
      // stdout closed: the exit itself usually follows within milliseconds; wait for it so the
      // message and the diagnosis tell the exit status instead of "still running".
      Integer code;
      try {
        code = r.onExit().get(2, TimeUnit.SECONDS);
      } catch (TimeoutException | ExecutionException e) {
        code = null;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        code = null;
      }
      if (code == null) {
        throw new PluginStartException(diagnosis.failure(
            "the plugin closed its stdout without printing a handshake line", r));
      }
      throw new PluginStartException(diagnosis.failure(
          "plugin exited before we could connect"
              + " (exit status " + code + ")", r));
    }
    return line;
  }

  /** Throws the stdout reader's verdict (an overlong handshake line) with the diagnosis. */
  private void throwIfStdoutRefused() {
    if (!firstLine.isCompletedExceptionally()) {
      return;
    }
    Throwable cause;
    try {
      firstLine.join();
      return;
    } catch (java.util.concurrent.CompletionException | java.util.concurrent.CancellationException e) {
      cause = e.getCause() != null ? e.getCause() : e;
    }
    throw new HandshakeException(diagnosis.failure(cause.getMessage(), r), cause);
  }

  /** The parsed handshake line, or a {@link HandshakeException} with the likely cause. */
  Handshake parseHandshake(String line) {
    try {
      return Handshake.parse(line);
    } catch (HandshakeException e) {
      String hint = "\nLikely cause: the plugin printed to stdout before its handshake line (\""
          + abbreviate(line) + "\"). A go-plugin plugin must not write to stdout before"
          + " plugin.Serve prints the handshake; if it is not a go-plugin plugin, check the command.";
      throw new HandshakeException(diagnosis.failure(e.getMessage() + hint, r), e);
    }
  }
}
