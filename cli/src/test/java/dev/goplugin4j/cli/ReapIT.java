package dev.goplugin4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.goplugin4j.container.internal.HostClaims;
import dev.goplugin4j.container.internal.HostId;
import dev.goplugin4j.container.internal.Labels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code reap} on containers labelled as ours, with dead, live and foreign owners. */
class ReapIT {
  private static String create(HostId owner) {
    String image = CliImages.counter();
    return CliProcess.sh("docker", "create", "--label", Labels.MANAGED + "=true",
        "--label", Labels.OWNER + "=" + owner, "--label", Labels.PLUGIN + "=reap-it",
        "--network", "none", image).strip();
  }

  private static String createWithSocketDir(HostId owner, Path socketDir) {
    String image = CliImages.counter();
    return CliProcess.sh("docker", "create", "--label", Labels.MANAGED + "=true",
        "--label", Labels.OWNER + "=" + owner, "--label", Labels.PLUGIN + "=reap-it",
        "-v", socketDir + ":/tmp/go-plugin-container", "--network", "none", image).strip();
  }

  @Test
  void listsOrphansWithoutRemovingThenRemovesOnlyTheOrphan() throws Exception {
    Process gone = new ProcessBuilder("true").start();
    gone.waitFor();
    HostId me = HostId.current();
    HostId dead = new HostId(me.hostname(), gone.pid(), me.startMillis() - 5000);
    String orphan = create(dead);
    String live = create(me);
    String foreign = create(new HostId("some-other-machine", 1, 1));
    // owner gone, but this live JVM reattached it: recorded beside its socket dir
    Path socketDir = Files.createTempDirectory("goplugin4j-reapit");
    String reattached = createWithSocketDir(dead, socketDir);
    HostClaims.claim(socketDir, me);
    try {
      CliProcess.Result list = CliProcess.run("reap");
      assertThat(list.status()).as(list.toString()).isZero();
      assertThat(list.out()).containsPattern(orphan.substring(0, 12) + ".*orphan.*reap-it")
          .containsPattern(live.substring(0, 12) + ".*live host")
          .containsPattern(foreign.substring(0, 12) + ".*other machine")
          .containsPattern(reattached.substring(0, 12) + ".*reattached")
          .contains("goplugin4j reap --remove");
      assertThat(CliProcess.sh("docker", "ps", "-aq", "--no-trunc", "--filter", "id=" + orphan))
          .contains(orphan);

      CliProcess.Result rm = CliProcess.run("reap", "--remove");
      assertThat(rm.status()).as(rm.toString()).isZero();
      assertThat(rm.out()).containsPattern(orphan.substring(0, 12) + ".*removed");
      assertThat(CliProcess.sh("docker", "ps", "-aq", "--no-trunc", "--filter", "id=" + orphan))
          .isBlank();
      for (String kept : List.of(live, foreign, reattached)) {
        assertThat(CliProcess.sh("docker", "ps", "-aq", "--no-trunc", "--filter", "id=" + kept))
            .contains(kept);
      }
    } finally {
      CliProcess.sh("docker", "rm", "-f", orphan, live, foreign, reattached);
      HostClaims.removeAll(socketDir);
      Files.deleteIfExists(socketDir);
    }
  }
}
