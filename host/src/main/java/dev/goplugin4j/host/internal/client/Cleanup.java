package dev.goplugin4j.host.internal.client;

import dev.goplugin4j.host.PluginClient;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Teardown phase helpers: steps that release one resource each, guarded so that one failure does
 * not leak the rest, and the socket directory's removal.
 */
final class Cleanup {
  // the session's logger: tests and users read these lines under PluginClient
  private static final Logger log = LoggerFactory.getLogger(PluginClient.class);

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
}
