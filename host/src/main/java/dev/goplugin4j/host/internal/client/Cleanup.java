package dev.goplugin4j.host.internal.client;

import dev.goplugin4j.host.AttachedRunner;
import dev.goplugin4j.host.PluginClient;
import dev.goplugin4j.protocol.internal.proto.Empty;
import dev.goplugin4j.protocol.internal.proto.GRPCControllerGrpc;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Teardown phase helpers: steps that release one resource each, guarded so that one failure does
 * not leak the rest, the socket directory's removal, and the graceful shutdown before them.
 */
final class Cleanup {
  // the session's logger: tests and users read these lines under PluginClient
  private static final Logger log = LoggerFactory.getLogger(PluginClient.class);
  /** How long a plugin gets to exit after Shutdown before it is killed, as go-plugin. */
  private static final long GRACE_MILLIS = 2_000;

  private Cleanup() {}

  /** One cleanup step, which may throw anything. */
  interface Step {
    void run() throws Exception;
  }

  /** Runs a step; a failure is logged at debug, an interrupt is kept. */
  static void quietly(Step s) {
    try {
      s.run();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Exception e) {
      log.debug("cleanup step failed: {}", e.toString());
    }
  }

  /** Removes a directory and everything in it; a failure is logged at warn. */
  static void deleteRecursively(Path dir) {
    try (Stream<Path> s = Files.walk(dir)) {
      List<Path> paths = new ArrayList<>(s.sorted(Comparator.reverseOrder()).toList());
      for (Path p : paths) {
        Files.deleteIfExists(p);
      }
    } catch (IOException | UncheckedIOException e) {
      log.warn("cannot remove plugin socket directory {}: {}", dir, e.toString());
    }
  }

  /**
   * Asks the plugin to shut down over {@code channel} and waits up to {@link #GRACE_MILLIS} for
   * {@code runner} to exit; the caller's teardown kills it if it has not.
   */
  static void shutdownGracefully(String name, ManagedChannel channel, AttachedRunner runner) {
    try {
      GRPCControllerGrpc.newBlockingStub(channel)
          .withDeadlineAfter(GRACE_MILLIS, TimeUnit.MILLISECONDS)
          .shutdown(Empty.getDefaultInstance());
    } catch (StatusRuntimeException e) {
      // The plugin may exit before answering; that is the point.
      log.debug("plugin {} shutdown call: {}", name, e.getStatus());
    }
    try {
      Integer code = runner.onExit().get(GRACE_MILLIS, TimeUnit.MILLISECONDS);
      log.debug("plugin {} exited gracefully after Shutdown, exit status {}", name, code);
    } catch (TimeoutException e) {
      log.warn("plugin {} failed to exit gracefully within {} ms; killing it", name, GRACE_MILLIS);
    } catch (ExecutionException e) {
      log.debug("waiting for plugin {} exit: {}", name, e.getCause().toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
