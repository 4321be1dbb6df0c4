package dev.goplugin4j.container;

import static dev.goplugin4j.container.MatrixChecks.failsToStart;
import static dev.goplugin4j.container.MatrixChecks.fullMessage;
import static dev.goplugin4j.container.MatrixChecks.worksEndToEnd;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.fasterxml.jackson.databind.JsonNode;
import dev.goplugin4j.host.PluginClient;
import dev.goplugin4j.interop.StorageCounter;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;
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

  @ParameterizedTest(name = "{0} {1}")
  @CsvSource({"ROOTFUL_PODMAN, runc", "ROOTLESS_PODMAN, runsc"})
  void disableNetworkReachesPodmanAsNetworkModeNone(MatrixEngine engine, String runtime) {
    // Podman's compatible API ignores NetworkDisabled; the runner also sends NetworkMode none
    JsonNode inspected = worksEndToEnd(MatrixCell.of(engine, runtime, MatrixImages.ROOT)
        .withSharedGroup(engine.rootless() ? ownerGroup() : SOCKET_GROUP));
    assertThat(inspected.path("HostConfig").path("NetworkMode").asText()).isEqualTo("none");
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"runc", "runsc"})
  void rootfulPodmansDefaultNetworkDoesNotGetInTheWay(String runtime) {
    // not on rootless Podman: its 4.3 service leaves a zombie slirp4netns per such container
    worksEndToEnd(MatrixCell.of(MatrixEngine.ROOTFUL_PODMAN, runtime, MatrixImages.NONROOT)
        .withSharedGroup(SOCKET_GROUP).withNetwork(true));
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

  @ParameterizedTest(name = "{0}")
  @EnumSource(value = MatrixEngine.class, names = {"ROOTFUL_PODMAN", "ROOTLESS_PODMAN"})
  void imagePinnedBySha256RunsOnPodman(MatrixEngine engine) {
    MatrixCell cell = MatrixCell.of(engine, "runc", MatrixImages.ROOT)
        .withSharedGroup(engine.rootless() ? ownerGroup() : SOCKET_GROUP);
    MatrixImages.ensureIn(engine);
    // Podman lists the loaded image as localhost/<name>; the reference filter still finds it
    ContainerConfig pinned = cell.config().newBuilder().sha256(imageId(engine)).build();
    try (PluginClient client = cell.host(MatrixLeftovers.socketParent()).runner(pinned).build()) {
      StorageCounter counter = client.dispense("counter", StorageCounter.class);
      MatrixCell.MemoryStorage storage = new MatrixCell.MemoryStorage();
      assertThat(counter.increment("hello", 1, storage)).isEqualTo(1);
      assertThat(counter.increment("hello", 2, storage)).isEqualTo(3);
      assertThat(counter.increment("world", 2, storage)).isEqualTo(2);
    }
  }

  @Test
  void aWrongPinIsASha256MismatchOnPodman() {
    MatrixCell cell = MatrixCell.of(MatrixEngine.ROOTFUL_PODMAN, "runc", MatrixImages.ROOT)
        .withSharedGroup(SOCKET_GROUP);
    MatrixImages.ensureIn(cell.engine());
    String other = "0".repeat(64);
    ContainerConfig pinned = cell.config().newBuilder().sha256(other).build();
    Throwable failure;
    try (PluginClient client = cell.host(MatrixLeftovers.socketParent()).runner(pinned).build()) {
      failure = catchThrowable(client::start);
    }
    assertThat(failure).isInstanceOf(Sha256MismatchException.class);
    assertThat(failure.getMessage()).contains(MatrixImages.COUNTER, other,
        imageId(MatrixEngine.ROOTFUL_PODMAN));
  }

  private static String imageId(MatrixEngine engine) {
    return TestImages.run(List.of("docker", "-H", engine.endpoint("runc"), "image", "inspect",
        "--format", "{{.Id}}", MatrixImages.ref(MatrixImages.ROOT))).strip();
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
