package dev.goplugin4j.container;

import static org.assertj.core.api.Assertions.assertThat;

import dev.goplugin4j.container.internal.ContainerSpec;
import dev.goplugin4j.container.internal.Engine;
import dev.goplugin4j.container.internal.GoneHosts;
import dev.goplugin4j.container.internal.HostClaims;
import dev.goplugin4j.container.internal.HostId;
import dev.goplugin4j.container.internal.Labels;
import dev.goplugin4j.container.internal.PosixAcl;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(NoLeftoverContainers.class)
class ReaperAndAclIT {

  private static String createWithOwner(Engine e, HostId owner, Path dir) {
    ContainerSpec s = new ContainerSpec(TestImages.HANG + ":latest", List.of(), null, null, true,
        Map.of(Labels.MANAGED, "true", Labels.OWNER, owner.toString(), Labels.PLUGIN, "reaper-it"),
        false, "", 0, 0, "", List.of("ALL"), List.of(), List.of(), List.of(), 0, false, Map.of(),
        dir.toString(), ContainerConfig.CONTAINER_SOCKET_DIR, Map.of());
    String id = e.createContainer(s);
    e.start(id);
    return id;
  }

  /**
   * A fresh socket dir, 0700, named as a host names it ({@code goplugin4j-<digits>}): reattach
   * accepts no other, and the reaper removes no other.
   */
  private static Path socketDir() throws java.io.IOException {
    java.nio.file.Files.createDirectories(ItSupport.SOCKET_DIRS);
    return java.nio.file.Files.createTempDirectory(ItSupport.SOCKET_DIRS, "goplugin4j-",
        java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
            java.nio.file.attribute.PosixFilePermissions.fromString("rwx------")));
  }

  @Test
  void reaperRemovesContainersOfDeadHostsAndLeavesLiveOnes() throws Exception {
    HostId me = HostId.current();
    HostId dead = GoneHosts.one();
    HostId elsewhere = new HostId("some-other-machine", 1, "1");
    Path dir = socketDir();
    try (Engine e = ItSupport.engine()) {
      String orphan = createWithOwner(e, dead, dir);
      String mine = createWithOwner(e, me, dir);
      String foreign = createWithOwner(e, elsewhere, dir);
      try {
        ContainerReaper reaper = ContainerReaper.create(ItSupport.ENGINE);
        assertThat(reaper.findOrphans()).contains(orphan).doesNotContain(mine, foreign);
        assertThat(reaper.reapOrphans()).contains(orphan).doesNotContain(mine, foreign);
        assertThat(e.inspect(orphan)).isEmpty();
        assertThat(e.inspect(mine)).isPresent();
        assertThat(e.inspect(foreign)).isPresent();
      } finally {
        for (String id : List.of(orphan, mine, foreign)) {
          e.stop(id, 0);
          e.remove(id);
        }
      }
    } finally {
      ItSupport.deleteSocketDir(dir);
    }
  }

  @Test
  void aContainerReattachedByALiveHostIsNotReapedWhenItsFirstHostIsGone() throws Exception {
    HostId me = HostId.current();
    HostId firstHost = GoneHosts.one();
    Path dir = socketDir();
    Path claims = HostClaims.dirOf(dir);
    try (Engine e = ItSupport.engine()) {
      String id = createWithOwner(e, firstHost, dir);
      ContainerReaper reaper = ContainerReaper.create(ItSupport.ENGINE);
      assertThat(reaper.findOrphans()).as("before anyone reattached").contains(id);
      var attached = ContainerRunners.reattach(id, dir, ItSupport.ENGINE);
      try {
        assertThat(attached.id()).isEqualTo(id);
        assertThat(HostClaims.liveClaimants(dir)).containsExactly(me);
        assertThat(reaper.findOrphans()).as("the owner is gone, but this live host reattached")
            .doesNotContain(id);
        assertThat(reaper.reapOrphans()).doesNotContain(id);
        assertThat(e.inspect(id)).isPresent();
      } finally {
        attached.kill();
      }
      assertThat(e.inspect(id)).isEmpty();
      assertThat(claims).as("kill removes the claims with the container").doesNotExist();
    } finally {
      HostClaims.removeAll(dir);
      ItSupport.deleteSocketDir(dir);
    }
  }

  @Test
  void aContainerWhoseOwnerAndClaimantsAreAllGoneIsReapedWithItsClaims() throws Exception {
    HostId firstHost = GoneHosts.one();
    HostId secondHost = GoneHosts.one();
    Path dir = socketDir();
    try (Engine e = ItSupport.engine()) {
      String id = createWithOwner(e, firstHost, dir);
      try {
        assertThat(HostClaims.claim(dir, secondHost)).isTrue();
        assertThat(ContainerReaper.create(ItSupport.ENGINE).reapOrphans()).contains(id);
        assertThat(e.inspect(id)).isEmpty();
        assertThat(HostClaims.dirOf(dir)).doesNotExist();
        assertThat(dir).as("the socket dir goes with the container").doesNotExist();
      } finally {
        e.stop(id, 0);
        e.remove(id);
      }
    } finally {
      HostClaims.removeAll(dir);
      ItSupport.deleteSocketDir(dir);
    }
  }

  @Test
  void defaultAclForTheHostUserIsWrittenAndInheritedBySocketsFiles() throws Exception {
    Path dir = socketDir();
    try {
      PosixAcl.setDefaultUserRw(dir, 1001);
      String acl = TestImages.run(List.of("getfacl", "-n", "-p", "-d", dir.toString()));
      // getfacl -d prints the default entries without their "default:" prefix
      assertThat(acl).contains("user::rw-").contains("user:1001:rw-").contains("group::rw-")
          .contains("mask::rw-").contains("other::---");
      java.nio.file.Files.writeString(dir.resolve("f"), "x");
      assertThat(TestImages.run(List.of("getfacl", "-n", "-p", dir.resolve("f").toString())))
          .contains("user:1001:rw-");
    } finally {
      ItSupport.deleteSocketDir(dir);
    }
  }

  @Test
  void reattachRefusesContainersThatAreNotOurs() throws Exception {
    Path dir = socketDir();
    try (Engine e = ItSupport.engine()) {
      ContainerSpec s = new ContainerSpec(TestImages.HANG + ":latest", List.of(), null, null,
          true, Map.of(Labels.OWNER, HostId.current().toString()), false, "", 0, 0, "",
          List.of("ALL"), List.of(), List.of(), List.of(), 0, false, Map.of(), dir.toString(),
          ContainerConfig.CONTAINER_SOCKET_DIR, Map.of());
      String id = e.createContainer(s);
      try {
        e.start(id);
        org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> ContainerRunners.reattach(id, dir, ItSupport.ENGINE))
            .isInstanceOf(ContainerException.class).hasMessageContaining("not started by goplugin4j");
        org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> ContainerRunners.reattach("0123456789ab", dir, ItSupport.ENGINE))
            .isInstanceOf(ContainerException.class).hasMessageContaining("not found");
      } finally {
        e.stop(id, 0);
        e.remove(id);
      }
    } finally {
      ItSupport.deleteSocketDir(dir);
    }
  }

  private static dev.goplugin4j.host.ReattachConfig reattachConfig(Path dir, String id,
      Map<String, String> attrs) {
    return new dev.goplugin4j.host.ReattachConfig("grpc", 1,
        dev.goplugin4j.protocol.NetAddress.unix(dir + "/x"), "container", id, attrs, false, "", "",
        "", false);
  }

  @Test
  void reattachChecksTheSocketDirAndKillRemovesWithTheFirstHostsKillGrace() throws Exception {
    ContainerConfig config = ContainerConfig.builder().image(TestImages.HANG)
        .killGrace(java.time.Duration.ofSeconds(3)).build();
    Path dir = socketDir();
    Path other = socketDir();
    var runner = config.create(ItSupport.counterCommand(dir), dir);
    try {
      runner.start();
      org.assertj.core.api.Assertions.assertThatThrownBy(
          () -> ContainerRunners.reattach(runner.id(), other, ItSupport.ENGINE))
          .isInstanceOf(ContainerException.class).hasMessageContaining("not the socket directory");
      assertThat(runner.reattachAttributes())
          .containsEntry(ContainerRunners.ATTR_KILL_GRACE_SECONDS, "3");
      var attached = ContainerRunners.reattacher()
          .reattach(reattachConfig(dir, runner.id(), runner.reattachAttributes()));
      assertThat(attached.id()).isEqualTo(runner.id());
      assertThat(attached.kind()).isEqualTo("container");
      assertThat(attached.reattachAttributes())
          .containsEntry(ContainerRunners.ATTR_KILL_GRACE_SECONDS, "3");
      long t0 = System.nanoTime();
      attached.kill();
      long killMillis = (System.nanoTime() - t0) / 1_000_000;
      assertThat(ItSupport.inspect(runner.id())).isEmpty();
      // sleep as PID 1 ignores SIGTERM: the engine kills it after the grace, 128 + SIGKILL
      assertThat(killMillis).as("kill waited out the recorded 3 s grace").isGreaterThanOrEqualTo(2900);
      assertThat(attached.onExit().get(5, java.util.concurrent.TimeUnit.SECONDS)).isEqualTo(137);
    } finally {
      runner.kill();
      ItSupport.deleteSocketDir(dir);
      ItSupport.deleteSocketDir(other);
    }
  }

  @Test
  void reattachConfigWithoutKillGraceKillsWithTheDefaultGrace() throws Exception {
    ContainerConfig config = ContainerConfig.builder().image(TestImages.HANG)
        .killGrace(java.time.Duration.ofSeconds(10)).build();
    Path dir = socketDir();
    var runner = config.create(ItSupport.counterCommand(dir), dir);
    try {
      runner.start();
      Map<String, String> old = new java.util.TreeMap<>(runner.reattachAttributes());
      old.remove(ContainerRunners.ATTR_KILL_GRACE_SECONDS); // as recorded before it existed
      var attached = ContainerRunners.reattacher().reattach(reattachConfig(dir, runner.id(), old));
      assertThat(attached.reattachAttributes()).containsEntry(
          ContainerRunners.ATTR_KILL_GRACE_SECONDS,
          Long.toString(ContainerConfig.DEFAULT_KILL_GRACE.toSeconds()));
      long t0 = System.nanoTime();
      attached.kill();
      long killMillis = (System.nanoTime() - t0) / 1_000_000;
      assertThat(ItSupport.inspect(runner.id())).isEmpty();
      assertThat(killMillis).as("default 1 s grace, not the first host's 10 s")
          .isBetween(900L, 8000L);
      assertThat(attached.onExit().get(5, java.util.concurrent.TimeUnit.SECONDS)).isEqualTo(137);
    } finally {
      runner.kill();
      ItSupport.deleteSocketDir(dir);
    }
  }
}
