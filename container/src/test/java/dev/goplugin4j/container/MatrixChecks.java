package dev.goplugin4j.container;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.fasterxml.jackson.databind.JsonNode;
import dev.goplugin4j.container.internal.DockerJavaEngine;
import dev.goplugin4j.container.internal.Engine;
import dev.goplugin4j.protocol.PluginException;
import dev.goplugin4j.testkit.Leaks;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;

/** Assertions of the matrix tests whose host runs in the test JVM (as root). */
final class MatrixChecks {
  private MatrixChecks() {}

  /**
   * The cell works end to end: the counter gives 1, 3, 2, the container ran under the cell's
   * runtime, it is removed on close, and no client or runner thread outlives the client.
   *
   * @return the container's inspection ({@code docker inspect} JSON) taken while it ran
   */
  static JsonNode worksEndToEnd(MatrixCell cell) {
    MatrixImages.ensureIn(cell.engine());
    Leaks leaks = Leaks.snapshot("goplugin4j-");
    AtomicReference<JsonNode> inspected = new AtomicReference<>();
    MatrixCell.Outcome o = cell.run(MatrixLeftovers.socketParent(),
        id -> inspected.set(inspect(cell, id)));
    assertThat(o.counts()).as("%s: Increment hello 1, hello 2, world 2", cell)
        .containsExactly(1L, 3L, 2L);
    assertThat(o.observedRuntime()).as("%s: the runtime the engine ran it with", cell)
        .isEqualTo(cell.runtime());
    leaks.assertNoneWithin(Duration.ofSeconds(10));
    return inspected.get();
  }

  /** The cell fails to start; the container is removed all the same (checked after the class). */
  static PluginException failsToStart(MatrixCell cell) {
    MatrixImages.ensureIn(cell.engine());
    Throwable e = catchThrowable(() -> cell.run(MatrixLeftovers.socketParent()));
    assertThat(e).as("%s must fail to start", cell).isInstanceOf(PluginException.class);
    return (PluginException) e;
  }

  /** Everything a failure says, causes included. */
  static String fullMessage(Throwable t) {
    StringBuilder b = new StringBuilder();
    for (Throwable c = t; c != null; c = c.getCause()) {
      b.append(c).append('\n');
    }
    return b.toString();
  }

  private static JsonNode inspect(MatrixCell cell, String id) {
    try (Engine e = DockerJavaEngine.connect(cell.engine().endpoint(cell.runtime()), null)) {
      return e.inspect(id).orElseThrow().raw();
    }
  }
}
