package dev.goplugin4j.container;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The matrix with a non-root host user: each cell runs in a child JVM as the test user (uid 1001
 * by default; member of the docker group, owner of the rootless engines), as a real deployment
 * would: a service user that owns its rootless engine, or that may use the rootful engine. The
 * host's socket group is the user's primary group.
 *
 * <ul>
 *   <li>rootful engines: the shared group; under gVisor on Docker the plugin's {@code chown} is
 *       ignored, and the runner's default ACL for the host's euid lets the user in;
 *   <li>rootless engines: the root container user is the host user; a non-root container user
 *       needs {@code rootless(true)} (rootless Docker: the runner uses {@code --group-add 0};
 *       rootless Podman: upstream's default ACL + {@code CAP_DAC_OVERRIDE}).
 * </ul>
 */
@ExtendWith(MatrixLeftovers.class)
class NonRootHostUserIT {
  private static AsTestUser asTestUser;

  @BeforeAll
  static void prepareTheChildJvm() {
    asTestUser = new AsTestUser();
  }

  @AfterAll
  static void removeTheChildClasspath() {
    if (asTestUser != null) {
      asTestUser.close();
    }
  }

  private static void worksAsTheTestUser(MatrixCell cell) {
    MatrixImages.ensureIn(cell.engine());
    AsTestUser.Result r = asTestUser.run(cell);
    assertThat(r.ok()).as("%s as %s; child output:%n%s", cell, TestUser.get(), r.output())
        .isTrue();
    assertThat(r.okLine()).contains("uid=" + TestUser.get().uid() + " ")
        .contains("runtime=" + cell.runtime() + " ").endsWith("counts=[1, 3, 2]");
  }

  private static int userGroup() {
    return TestUser.get().gid();
  }

  @ParameterizedTest(name = "{0} {1}, multiplexed broker {2}")
  @CsvSource({
      "runc, root, false", "runc, nonroot, false", "runsc, root, false", "runsc, nonroot, false",
      "runsc, nonroot, true"})
  void rootfulDockerWorksThroughTheSharedGroupAndUnderGvisorTheDefaultAcl(String runtime,
      String tag, boolean multiplex) {
    worksAsTheTestUser(MatrixCell.of(MatrixEngine.ROOTFUL_DOCKER, runtime, tag)
        .withSharedGroup(userGroup()).withMultiplex(multiplex));
  }

  @ParameterizedTest(name = "{0} {1}")
  @CsvSource({"runc, root", "runc, nonroot", "runsc, root", "runsc, nonroot"})
  void rootfulPodmanWorksThroughTheSharedGroup(String runtime, String tag) {
    worksAsTheTestUser(MatrixCell.of(MatrixEngine.ROOTFUL_PODMAN, runtime, tag)
        .withSharedGroup(userGroup()));
  }

  @ParameterizedTest(name = "{0}, multiplexed broker {1}")
  @CsvSource({"runc, false", "runsc, false", "runsc, true"})
  void ownRootlessDockerRunsTheRootContainerUserAsTheHostUser(String runtime, boolean multiplex) {
    worksAsTheTestUser(MatrixCell.of(MatrixEngine.ROOTLESS_DOCKER, runtime, MatrixImages.ROOT)
        .withSharedGroup(userGroup()).withMultiplex(multiplex));
  }

  @ParameterizedTest(name = "{0}, multiplexed broker {1}")
  @CsvSource({"runc, false", "runsc, false", "runsc, true"})
  void ownRootlessDockerRunsANonRootContainerUserWithTheRootlessFlag(String runtime,
      boolean multiplex) {
    worksAsTheTestUser(MatrixCell.of(MatrixEngine.ROOTLESS_DOCKER, runtime, MatrixImages.NONROOT)
        .withSharedGroup(userGroup()).withRootless(true).withMultiplex(multiplex));
  }

  @ParameterizedTest(name = "{0}, multiplexed broker {1}")
  @CsvSource({"runc, false", "runsc, false", "runsc, true"})
  void ownRootlessPodmanRunsTheRootContainerUserAsTheHostUser(String runtime, boolean multiplex) {
    worksAsTheTestUser(MatrixCell.of(MatrixEngine.ROOTLESS_PODMAN, runtime, MatrixImages.ROOT)
        .withSharedGroup(userGroup()).withMultiplex(multiplex));
  }

  @ParameterizedTest(name = "{0}, multiplexed broker {1}")
  @CsvSource({"runc, false", "runsc, false", "runsc, true"})
  void ownRootlessPodmanRunsANonRootContainerUserWithUpstreamsRootlessRecipe(String runtime,
      boolean multiplex) {
    worksAsTheTestUser(MatrixCell.of(MatrixEngine.ROOTLESS_PODMAN, runtime, MatrixImages.NONROOT)
        .withSharedGroup(userGroup()).withRootless(true).withMultiplex(multiplex));
  }
}
