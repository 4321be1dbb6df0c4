package dev.goplugin4j.container;

import static dev.goplugin4j.container.MatrixChecks.failsToStart;
import static dev.goplugin4j.container.MatrixChecks.fullMessage;
import static dev.goplugin4j.container.MatrixChecks.worksEndToEnd;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The rootful Docker cells of the matrix that {@link PluginClientContainerIT} does not cover, host
 * in this JVM (root): the multiplexed broker, and mlock under gVisor and as a non-root container
 * user.
 */
@ExtendWith(MatrixLeftovers.class)
class RootfulDockerMatrixIT {
  private static final MatrixEngine ENGINE = MatrixEngine.ROOTFUL_DOCKER;
  private static final int SOCKET_GROUP = 1500;

  @ParameterizedTest(name = "{0} {1}")
  @CsvSource({"runc, root", "runc, nonroot", "runsc, root", "runsc, nonroot"})
  void multiplexedBrokerWorks(String runtime, String tag) {
    worksEndToEnd(MatrixCell.of(ENGINE, runtime, tag).withSharedGroup(SOCKET_GROUP)
        .withMultiplex(true));
  }

  @Test
  void mlockUnderRunscWorksWithCapIpcLock() {
    worksEndToEnd(MatrixCell.of(ENGINE, "runsc", MatrixImages.ROOT).withSharedGroup(SOCKET_GROUP)
        .withMlock(true));
  }

  @Test
  void mlockAsNonRootContainerUserWorksUnderRuncThroughTheFileCapability() {
    worksEndToEnd(MatrixCell.of(ENGINE, "runc", MatrixImages.NONROOT_MLOCK)
        .withSharedGroup(SOCKET_GROUP).withMlock(true));
  }

  @Test
  void mlockAsNonRootContainerUserFailsUnderRunscWhichIgnoresFileCapabilities() {
    // Docker gives a non-root user IPC_LOCK only in the bounding set; gVisor does not apply the
    // binary's security.capability, so the sandboxed process has no IPC_LOCK and hits the limit
    Throwable failure = failsToStart(MatrixCell.of(ENGINE, "runsc", MatrixImages.NONROOT_MLOCK)
        .withSharedGroup(SOCKET_GROUP).withMlock(true));
    assertThat(fullMessage(failure)).contains("Mlockall").contains("cannot allocate memory");
  }
}
