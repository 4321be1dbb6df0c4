package dev.goplugin4j.container;

import static dev.goplugin4j.container.MatrixChecks.failsToStart;
import static dev.goplugin4j.container.MatrixChecks.fullMessage;
import static dev.goplugin4j.container.MatrixChecks.worksEndToEnd;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.goplugin4j.host.PluginClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The matrix on Podman 4.3 through its Docker-compatible API, rootful and rootless (the test
 * user's), with the host in this JVM (root). Podman ignores {@code HostConfig.Runtime}: each
 * runtime has its own service ({@code podman --runtime R system service}), and every cell checks
 * with libpod's inspection that the container really ran under the runtime the cell asks for.
 */
@ExtendWith(MatrixLeftovers.class)
class PodmanMatrixIT {
  private static final int SOCKET_GROUP = 1500;

  private static int ownerGroup() {
    return TestUser.get().gid();
  }

  // ---------------------------------------------------------------------------- rootful Podman

  @ParameterizedTest(name = "{0} {1}, multiplexed broker {2}")
  @CsvSource({
      "runc, root, false", "runc, nonroot, false", "runsc, root, false", "runsc, nonroot, false",
      "runc, root, true", "runsc, nonroot, true"})
  void rootfulPodmanWorksThroughTheSharedGroup(String runtime, String tag, boolean multiplex) {
    worksEndToEnd(MatrixCell.of(MatrixEngine.ROOTFUL_PODMAN, runtime, tag)
        .withSharedGroup(SOCKET_GROUP).withMultiplex(multiplex));
  }

  @ParameterizedTest(name = "{0} {1}")
  @CsvSource({"runc, root", "runsc, root", "runc, nonroot-mlock", "runsc, nonroot-mlock"})
  void rootfulPodmanGrantsMlockAlsoToANonRootUserWithTheFileCapability(String runtime,
      String tag) {
    worksEndToEnd(MatrixCell.of(MatrixEngine.ROOTFUL_PODMAN, runtime, tag)
        .withSharedGroup(SOCKET_GROUP).withMlock(true));
  }

  @Test
  void askingForRunscFromARuncServiceFailsInsteadOfSilentlyRunningRunc() {
    MatrixCell cell = MatrixCell.of(MatrixEngine.ROOTFUL_PODMAN, "runsc", MatrixImages.ROOT)
        .withSharedGroup(SOCKET_GROUP);
    MatrixImages.ensureIn(cell.engine());
    String runcService = MatrixEngine.ROOTFUL_PODMAN.endpoint("runc");
    ContainerConfig wrong = cell.config().newBuilder().engineEndpoint(runcService).build();
    Throwable failure;
    try (PluginClient client = cell.host(MatrixLeftovers.socketParent()).runner(wrong).build()) {
      failure = catchThrowable(client::start);
    }
    assertThat(failure).isInstanceOf(ContainerStartException.class);
    assertThat(failure.getMessage())
        .contains(runcService, "default runtime \"runc\"", "ignores the requested runtime \"runsc\"",
            "podman --runtime runsc system service");
  }

  // --------------------------------------------------------------------------- rootless Podman

  @ParameterizedTest(name = "{0}, multiplexed broker {1}")
  @CsvSource({"runc, false", "runsc, false", "runc, true", "runsc, true"})
  void rootlessPodmanRootContainerUserWorksWithTheOwnersGroupAsSocketGroup(String runtime,
      boolean multiplex) {
    worksEndToEnd(MatrixCell.of(MatrixEngine.ROOTLESS_PODMAN, runtime, MatrixImages.ROOT)
        .withSharedGroup(ownerGroup()).withMultiplex(multiplex));
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"runc", "runsc"})
  void rootlessPodmanNonRootContainerUserWorksWithGroupZero(String runtime) {
    worksEndToEnd(MatrixCell.of(MatrixEngine.ROOTLESS_PODMAN, runtime, MatrixImages.NONROOT)
        .withGroups(0, ownerGroup()).withContainerEnv("PLUGIN_UNIX_SOCKET_GROUP", "0"));
  }

  @Test
  void rootlessPodmanUpstreamRootlessRecipeWorksUnderRunscForARootHost() {
    worksEndToEnd(MatrixCell.of(MatrixEngine.ROOTLESS_PODMAN, "runsc", MatrixImages.NONROOT)
        .withSharedGroup(ownerGroup()).withRootless(true));
  }

  @Test
  void rootlessPodmanUpstreamRootlessRecipeFailsUnderRuncForARootHost() {
    // CAP_DAC_OVERRIDE in the user namespace cannot override a directory whose owner (host root)
    // is not mapped there; with the engine's owner as host user it works (NonRootHostUserIT)
    Throwable failure = failsToStart(MatrixCell.of(MatrixEngine.ROOTLESS_PODMAN, "runc",
        MatrixImages.NONROOT).withSharedGroup(ownerGroup()).withRootless(true));
    assertThat(fullMessage(failure)).contains("permission denied");
  }

  @Test
  void rootlessPodmanMlockUnderRuncFailsInTheUserNamespace() {
    Throwable failure = failsToStart(MatrixCell.of(MatrixEngine.ROOTLESS_PODMAN, "runc",
        MatrixImages.ROOT).withSharedGroup(ownerGroup()).withMlock(true));
    assertThat(fullMessage(failure)).contains("Mlockall").contains("cannot allocate memory");
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {MatrixImages.ROOT, MatrixImages.NONROOT_MLOCK})
  void rootlessPodmanMlockUnderRunscWorks(String tag) {
    worksEndToEnd(MatrixCell.of(MatrixEngine.ROOTLESS_PODMAN, "runsc", tag)
        .withGroups(0, ownerGroup()).withContainerEnv("PLUGIN_UNIX_SOCKET_GROUP", "0")
        .withMlock(true));
  }

  @Test
  void rootlessPodmanMlockAsNonRootContainerUserUnderRuncFailsInTheUserNamespace() {
    Throwable failure = failsToStart(MatrixCell.of(MatrixEngine.ROOTLESS_PODMAN, "runc",
        MatrixImages.NONROOT_MLOCK).withGroups(0, ownerGroup())
        .withContainerEnv("PLUGIN_UNIX_SOCKET_GROUP", "0").withMlock(true));
    assertThat(fullMessage(failure)).contains("Mlockall").contains("cannot allocate memory");
  }
}
