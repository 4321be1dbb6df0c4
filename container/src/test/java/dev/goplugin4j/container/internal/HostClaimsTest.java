package dev.goplugin4j.container.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HostClaimsTest {
  @TempDir Path tmp;

  @Test
  void claimsLiveBesideTheSocketDirNotInIt() {
    Path socketDir = tmp.resolve("goplugin4j-42");
    assertThat(HostClaims.dirOf(socketDir)).isEqualTo(tmp.resolve("goplugin4j-42.hosts"));
    assertThat(HostClaims.dirOf(tmp.resolve("a/../goplugin4j-42/")))
        .isEqualTo(tmp.resolve("goplugin4j-42.hosts"));
  }

  @Test
  void aLiveClaimantIsReportedAndADeadOneIgnored() throws Exception {
    Path socketDir = Files.createDirectory(tmp.resolve("goplugin4j-1"));
    HostId me = HostId.current();
    assertThat(HostClaims.claim(socketDir, GoneHosts.one())).isTrue();
    assertThat(HostClaims.liveClaimants(socketDir)).isEmpty();
    assertThat(HostClaims.claim(socketDir, me)).isTrue();
    assertThat(HostClaims.claim(socketDir, me)).as("claiming twice is harmless").isTrue();
    assertThat(HostClaims.liveClaimants(socketDir)).containsExactly(me);
    try (var files = Files.list(HostClaims.dirOf(socketDir))) {
      assertThat(files.map(p -> p.getFileName().toString()))
          .as("one file per host, no temp file left").hasSize(2).allMatch(n -> n.matches("\\d+-t\\d+"));
    }
  }

  @Test
  void malformedOrForeignFilesNeverCountAsClaims() throws Exception {
    Path socketDir = Files.createDirectory(tmp.resolve("goplugin4j-2"));
    Path dir = Files.createDirectory(HostClaims.dirOf(socketDir));
    Files.writeString(dir.resolve("1-2"), "not a host id");
    Files.writeString(dir.resolve("notes.txt"), HostId.current().toString());
    Files.createDirectory(dir.resolve("3-4"));
    assertThat(HostClaims.liveClaimants(socketDir)).isEmpty();
  }

  @Test
  void noClaimsDirectoryMeansNoClaimants() {
    assertThat(HostClaims.liveClaimants(tmp.resolve("goplugin4j-3"))).isEmpty();
  }

  @Test
  void removeAllDeletesTheDirectoryAndToleratesItsAbsence() throws Exception {
    Path socketDir = Files.createDirectory(tmp.resolve("goplugin4j-4"));
    HostClaims.claim(socketDir, HostId.current());
    HostClaims.removeAll(socketDir);
    assertThat(HostClaims.dirOf(socketDir)).doesNotExist();
    assertThat(socketDir).exists();
    HostClaims.removeAll(socketDir);
  }

  @Test
  void aPlantedSymbolicLinkIsNeitherWrittenThroughNorCleanedThrough() throws Exception {
    Path socketDir = Files.createDirectory(tmp.resolve("goplugin4j-6"));
    Path victim = Files.createDirectory(tmp.resolve("victim"));
    Path precious = Files.writeString(victim.resolve("123-456"), HostId.current().toString());
    Files.createSymbolicLink(HostClaims.dirOf(socketDir), victim);
    assertThat(HostClaims.claim(socketDir, HostId.current())).isFalse();
    assertThat(HostClaims.liveClaimants(socketDir)).as("a link protects nothing").isEmpty();
    HostClaims.removeAll(socketDir);
    try (var files = Files.list(victim)) {
      assertThat(files.toList()).containsExactly(precious);
    }
    assertThat(HostClaims.dirOf(socketDir)).isSymbolicLink();
  }

  @Test
  void removeAllDeletesOnlyClaimFilesAndKeepsADirectoryWithOtherContent() throws Exception {
    Path socketDir = Files.createDirectory(tmp.resolve("goplugin4j-7"));
    HostClaims.claim(socketDir, HostId.current());
    Path other = Files.writeString(HostClaims.dirOf(socketDir).resolve("README"), "not a claim");
    HostClaims.removeAll(socketDir);
    assertThat(HostClaims.liveClaimants(socketDir)).isEmpty();
    try (var files = Files.list(HostClaims.dirOf(socketDir))) {
      assertThat(files.toList()).containsExactly(other);
    }
  }

  @Test
  void aClaimThatCannotBeWrittenIsReportedNotThrown() throws Exception {
    // the socket dir's parent is a file: no claims directory can be made beside it
    Path file = Files.writeString(tmp.resolve("plain-file"), "x");
    assertThat(HostClaims.claim(file.resolve("goplugin4j-5"), HostId.current())).isFalse();
  }
}
