package dev.goplugin4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HostChecksTest {
  @Test
  void headroomCountsTheClientDirectoryAndGoPluginsLongestSocketName() {
    // /tmp + /goplugin4j- + 20 digits + /plugin + 10 digits = 4 + 12 + 20 + 7 + 10 = 53
    assertThat(HostChecks.longestSocketPath(Path.of("/tmp"))).hasSize(53);
    assertThat(HostChecks.headroom(Path.of("/tmp"))).isEqualTo(107 - 53);
  }

  @Test
  void aParentTooLongForAnySocketFailsWithTheSettingToChange() {
    Path deep = Path.of("/" + "d".repeat(60));
    Check c = HostChecks.pathLength(deep);
    assertThat(c.status()).isEqualTo(Check.Status.FAIL);
    assertThat(c.fix()).contains("unixSocketTempDir");
  }

  @Test
  void aParentWithLittleRoomWarns() {
    Path p = Path.of("/" + "d".repeat(50));
    assertThat(HostChecks.headroom(p)).isBetween(0, 9);
    assertThat(HostChecks.pathLength(p).status()).isEqualTo(Check.Status.WARN);
  }

  @Test
  void defaultAclIsWrittenInATemporaryDirectoryThatIsRemovedAfterwards(@TempDir Path parent)
      throws Exception {
    Check c = HostChecks.acl(parent, HostChecks.euid());
    assertThat(c.status()).isEqualTo(Check.Status.OK);
    try (var left = Files.list(parent)) {
      assertThat(left).isEmpty();
    }
  }

  @Test
  void aMissingParentFailsAndSkipsTheAclCheck() {
    var checks = HostChecks.checks(Path.of("/nonexistent-goplugin4j-parent"));
    assertThat(EngineChecksTest.row(checks, "socket directory parent").status())
        .isEqualTo(Check.Status.FAIL);
    assertThat(EngineChecksTest.row(checks, "ACL").status()).isEqualTo(Check.Status.SKIP);
  }
}
