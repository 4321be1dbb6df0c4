package dev.goplugin4j.container;

import static org.assertj.core.api.Assertions.assertThat;

import dev.goplugin4j.container.internal.Engine;
import dev.goplugin4j.container.internal.HostId;
import dev.goplugin4j.container.internal.Labels;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Builds the test images before a test class and, after it, asserts that no container this JVM
 * created (by the owner label) and no socket directory is left. A leftover is removed after the
 * assertion records it, so one leak does not cascade into later classes.
 */
final class NoLeftoverContainers implements BeforeAllCallback, AfterAllCallback {
  @Override
  public void beforeAll(ExtensionContext context) {
    TestImages.ensureBuilt();
  }

  @Override
  public void afterAll(ExtensionContext context) {
    List<Engine.ContainerSummary> left;
    try (Engine e = ItSupport.engine()) {
      // Auto-removal runs asynchronously after a stop: give the engine a moment.
      long deadline = System.nanoTime() + 10_000_000_000L;
      do {
        left = e.listByLabel(Labels.OWNER, HostId.current().toString());
        if (left.isEmpty()) {
          break;
        }
        sleep(100);
      } while (System.nanoTime() < deadline);
      for (Engine.ContainerSummary c : left) {
        e.stop(c.id(), 0);
        e.remove(c.id());
      }
    }
    List<String> dirs;
    try (Stream<java.nio.file.Path> s = Files.exists(ItSupport.SOCKET_DIRS)
        ? Files.list(ItSupport.SOCKET_DIRS) : Stream.empty()) {
      dirs = s.map(Object::toString).toList();
    } catch (IOException ex) {
      throw new UncheckedIOException(ex);
    }
    dirs.forEach(d -> TestImages.deleteTree(java.nio.file.Path.of(d)));
    assertThat(left).as("containers of ours left after %s", context.getDisplayName()).isEmpty();
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
