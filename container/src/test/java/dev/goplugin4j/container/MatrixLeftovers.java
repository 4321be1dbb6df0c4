package dev.goplugin4j.container;

import static org.assertj.core.api.Assertions.assertThat;

import dev.goplugin4j.container.internal.DockerJavaEngine;
import dev.goplugin4j.container.internal.Engine;
import dev.goplugin4j.container.internal.Labels;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * After a matrix test class: no container labelled {@value MatrixCell#PLUGIN_NAME} is left on any
 * matrix engine (also those a child JVM created as the test user), and the socket parents hold no
 * socket directory. Leftovers are removed after they are recorded, so one leak does not cascade.
 */
final class MatrixLeftovers implements AfterAllCallback {
  /** Parent of the socket directories of cells whose host runs in the test JVM (root). */
  static final Path SOCKET_PARENT = Path.of("/tmp/goplugin4j-matrix-it");

  /** The socket parent for this JVM's cells, created on first use. */
  static Path socketParent() {
    try {
      return Files.createDirectories(SOCKET_PARENT);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void afterAll(ExtensionContext context) {
    Map<String, String> left = new LinkedHashMap<>();
    for (MatrixEngine engine : MatrixEngine.values()) {
      for (String endpoint : engine.endpoints()) {
        if (!Files.exists(Path.of(endpoint.substring("unix://".length())))) {
          continue;
        }
        try (Engine e = DockerJavaEngine.connect(endpoint, null)) {
          List<Engine.ContainerSummary> found = List.of();
          // auto-removal runs asynchronously after a stop: give the engine a moment
          long deadline = System.nanoTime() + 10_000_000_000L;
          do {
            found = e.listByLabel(Labels.PLUGIN, MatrixCell.PLUGIN_NAME);
            if (found.isEmpty()) {
              break;
            }
            sleep(200);
          } while (System.nanoTime() < deadline);
          for (Engine.ContainerSummary c : found) {
            left.put(c.id(), engine + " " + endpoint + " " + c.state());
            e.stop(c.id(), 0);
            e.remove(c.id());
          }
        }
      }
    }
    List<String> dirs = new ArrayList<>();
    for (Path parent : List.of(SOCKET_PARENT, AsTestUser.SOCKET_PARENT)) {
      if (!Files.exists(parent)) {
        continue;
      }
      try (Stream<Path> s = Files.list(parent)) {
        s.forEach(d -> dirs.add(d.toString()));
      } catch (IOException ex) {
        throw new UncheckedIOException(ex);
      }
      TestImages.deleteTree(parent);
    }
    assertThat(left).as("matrix containers left after %s", context.getDisplayName()).isEmpty();
    assertThat(dirs).as("socket dirs left after %s", context.getDisplayName()).isEmpty();
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
