package dev.goplugin4j.container;

import static dev.goplugin4j.container.MatrixChecks.failsToStart;
import static dev.goplugin4j.container.MatrixChecks.fullMessage;
import static dev.goplugin4j.container.MatrixChecks.worksEndToEnd;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The matrix on rootless Docker (20.10, the test user's daemon, cgroup driver {@code none}), with
 * the host in this JVM (root): the "rootless engine, root host user" cells. The host's socket
 * group is the engine owner's primary group, which rootless Docker maps to gid 0 in containers.
 * The non-root host user cells are in {@link NonRootHostUserIT}.
 */
@ExtendWith(MatrixLeftovers.class)
class RootlessDockerMatrixIT {
  private static final MatrixEngine ENGINE = MatrixEngine.ROOTLESS_DOCKER;

  private static int ownerGroup() {
    return TestUser.get().gid();
  }

  private static List<String> texts(JsonNode array) {
    List<String> out = new ArrayList<>();
    array.forEach(n -> out.add(n.asText()));
    return out;
  }

  @ParameterizedTest(name = "{0}, multiplexed broker {1}")
  @CsvSource({"runc, false", "runsc, false", "runc, true", "runsc, true"})
  void rootContainerUserWorksWithTheOwnersGroupAsSocketGroup(String runtime, boolean multiplex) {
    worksEndToEnd(MatrixCell.of(ENGINE, runtime, MatrixImages.ROOT)
        .withSharedGroup(ownerGroup()).withMultiplex(multiplex));
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"runc", "runsc"})
  void theEnginesDefaultNetworkDoesNotGetInTheWay(String runtime) {
    worksEndToEnd(MatrixCell.of(ENGINE, runtime, MatrixImages.NONROOT)
        .withSharedGroup(ownerGroup()).withRootless(true).withNetwork(true));
  }

  @ParameterizedTest(name = "{0}, multiplexed broker {1}")
  @CsvSource({"runc, false", "runsc, false", "runc, true", "runsc, true"})
  void nonRootContainerUserWorksWithTheRootlessFlagThroughGroupZeroInsteadOfDacOverride(
      String runtime, boolean multiplex) {
    JsonNode inspected = worksEndToEnd(MatrixCell.of(ENGINE, runtime, MatrixImages.NONROOT)
        .withSharedGroup(ownerGroup()).withRootless(true).withMultiplex(multiplex));
    JsonNode host = inspected.path("HostConfig");
    assertThat(texts(host.path("GroupAdd"))).containsExactly("0");
    assertThat(texts(host.path("CapAdd"))).doesNotContain("DAC_OVERRIDE", "CAP_DAC_OVERRIDE");
    assertThat(texts(inspected.path("Config").path("Env")))
        .contains("PLUGIN_UNIX_SOCKET_GROUP=0");
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"runc", "runsc"})
  void nonRootContainerUserWorksWithGroupZeroSetExplicitly(String runtime) {
    worksEndToEnd(MatrixCell.of(ENGINE, runtime, MatrixImages.NONROOT)
        .withGroups(0, ownerGroup()).withContainerEnv("PLUGIN_UNIX_SOCKET_GROUP", "0"));
  }

  @Test
  void nonRootContainerUserCannotCreateItsSocketWithOnlyASharedGroup() {
    // the host's gid means nothing inside the user namespace: the directory's group is gid 0 there
    Throwable failure = failsToStart(MatrixCell.of(ENGINE, "runc", MatrixImages.NONROOT)
        .withSharedGroup(ownerGroup()));
    assertThat(fullMessage(failure)).contains("permission denied");
  }

  @Test
  void mlockUnderRuncFailsBecauseIpcLockInAUserNamespaceDoesNotLiftTheMemlockLimit() {
    Throwable failure = failsToStart(MatrixCell.of(ENGINE, "runc", MatrixImages.ROOT)
        .withSharedGroup(ownerGroup()).withMlock(true));
    assertThat(fullMessage(failure)).contains("Mlockall").contains("cannot allocate memory");
  }

  @Test
  void mlockUnderRunscWorksBecauseGvisorChecksItsOwnCapabilities() {
    worksEndToEnd(MatrixCell.of(ENGINE, "runsc", MatrixImages.ROOT)
        .withSharedGroup(ownerGroup()).withMlock(true));
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"runc", "runsc"})
  void mlockAsNonRootContainerUserFailsEvenWithTheFileCapability(String runtime) {
    Throwable failure = failsToStart(MatrixCell.of(ENGINE, runtime, MatrixImages.NONROOT_MLOCK)
        .withSharedGroup(ownerGroup()).withRootless(true).withMlock(true));
    assertThat(fullMessage(failure)).contains("Mlockall").contains("cannot allocate memory");
  }
}
