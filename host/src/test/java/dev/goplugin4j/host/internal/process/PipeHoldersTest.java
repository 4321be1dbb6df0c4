package dev.goplugin4j.host.internal.process;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class PipeHoldersTest {
  private final List<Process> processes = new ArrayList<>();

  @AfterEach
  void killEverything() throws InterruptedException {
    for (Process p : processes) {
      p.destroyForcibly();
      p.waitFor(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void recordNamesTheChildsStdoutAndStderrPipes() throws Exception {
    Recorded r = spawnAndRecord();
    Process child = r.child();
    Set<String> pipes = r.pipes();

    assertThat(pipes).containsExactlyInAnyOrder(fdTarget(child, 1), fdTarget(child, 2));
    assertThat(pipes).allSatisfy(p -> assertThat(p).startsWith("pipe:["));
  }

  @Test
  void recordStillFindsTheChildsPipesWhenTheirDescriptorNumbersLookOld() throws Exception {
    // as when another thread closed descriptors during the spawn and the pipes got their numbers
    Process child = spawn();
    Set<String> now = PipeHolders.ownFds();
    Set<String> pipes = PipeHolders.record(child.pid(), now, now);

    assertThat(pipes).containsExactlyInAnyOrder(fdTarget(child, 1), fdTarget(child, 2));
  }

  @Test
  void recordCountsNoPipeThatThisJvmDoesNotHold() throws Exception {
    Set<String> before;
    Process child;
    Set<String> after;
    try (PipeHolders.FdSnapshot snapshot = PipeHolders.fdSnapshot()) {
      before = snapshot.fds();
      child = spawn();
      after = PipeHolders.ownFds();
    }
    // our read ends closed: the child's fds 1 and 2 now name pipes nobody else reads
    child.getInputStream().close();
    child.getErrorStream().close();

    assertThat(PipeHolders.record(child.pid(), before, after)).isEmpty();
  }

  @Test
  void ownFdsListsThisJvmsDescriptorsByNumber() throws IOException {
    Set<String> fds = PipeHolders.ownFds();

    assertThat(fds).contains("0", "1", "2");
    assertThat(fds).allSatisfy(fd -> assertThat(fd).containsOnlyDigits());
  }

  @Test
  void holdersSkipsThePidsAtOrBelowTheFloorAndFindsTheRest() throws Exception {
    Recorded r = spawnAndRecord();
    Process child = r.child();
    Set<String> pipes = r.pipes();
    assertThat(pipes).isNotEmpty();

    assertThat(PipeHolders.holders(pipes, 0, child.pid() - 1)).extracting(ProcessHandle::pid)
        .containsExactly(child.pid());
    assertThat(PipeHolders.holders(pipes, 0, 0)).extracting(ProcessHandle::pid)
        .containsExactly(child.pid());
    assertThat(PipeHolders.holders(pipes, 0, child.pid())).isEmpty();
  }

  private Process spawn() throws IOException {
    Process p = new ProcessBuilder("sleep", "60").redirectInput(ProcessBuilder.Redirect.INHERIT)
        .start();
    processes.add(p);
    return p;
  }

  /** A child and the pipes recorded for it, as ProcessRunner records them around its spawn. */
  private record Recorded(Process child, Set<String> pipes) {}

  private Recorded spawnAndRecord() throws IOException {
    try (PipeHolders.FdSnapshot before = PipeHolders.fdSnapshot()) {
      Process child = spawn();
      return new Recorded(child,
          PipeHolders.record(child.pid(), before.fds(), PipeHolders.ownFds()));
    }
  }

  private static String fdTarget(Process p, int fd) throws IOException {
    return Files.readSymbolicLink(Path.of("/proc", Long.toString(p.pid()), "fd", Integer.toString(fd)))
        .toString();
  }
}
