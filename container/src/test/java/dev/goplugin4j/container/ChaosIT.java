package dev.goplugin4j.container;

import static org.assertj.core.api.Assertions.assertThat;

import dev.goplugin4j.container.internal.Engine;
import dev.goplugin4j.container.internal.Labels;
import dev.goplugin4j.host.PluginClient;
import dev.goplugin4j.host.ProcessReaper;
import dev.goplugin4j.host.ReattachConfig;
import dev.goplugin4j.interop.Storage;
import dev.goplugin4j.interop.StorageCounter;
import dev.goplugin4j.interop.StorageCounterPlugin;
import dev.goplugin4j.protocol.PluginException;
import dev.goplugin4j.testkit.GoPeers;
import dev.goplugin4j.testkit.Leaks;
import io.grpc.StatusRuntimeException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Chaos: cycle after cycle, start plugincontainer's counter (as a process, or in a container
 * under runc or gVisor's runsc, rootful Docker), call it, and end the cycle one of these ways:
 *
 * <ul>
 *   <li>{@code CLOSE}: the call completes, then {@code close()};
 *   <li>{@code KILL_9}: SIGKILL to the plugin's process (for a container, the container's init
 *       process as the host sees it) while a call is in flight;
 *   <li>{@code DOCKER_KILL} and {@code DOCKER_RM} (containers): {@code docker kill} or {@code
 *       docker rm -f} while a call is in flight;
 *   <li>{@code CLOSE_FROM_OTHER_THREAD}: {@code close()} on another thread while a call is in
 *       flight;
 *   <li>{@code HOST_KILLED_THEN_REAP}: a host in a JVM of its own ({@link ChaosHostMain}) starts
 *       the plugin and is killed with SIGKILL; then the reaper ({@link ContainerReaper}) runs.
 * </ul>
 *
 * <p>The call is held in flight by the host-side storage the plugin calls back through the broker:
 * its {@code get} blocks until the cycle's ending has happened. Every wait is bounded: an
 * in-flight call on a killed plugin must fail (a {@link StatusRuntimeException} or a {@link
 * PluginException}) within {@value #CALL_BOUND_SECONDS} s, never hang nor succeed; {@code
 * close()} must return within {@value #CLOSE_BOUND_SECONDS} s. After each cycle the container is
 * gone, the plugin process is dead and the client's socket directory removed; after all cycles no
 * thread, file descriptor or child process of ours is left ({@link Leaks}), no container labelled
 * {@value Labels#MANAGED} that a cycle made, and no socket directory.
 *
 * <p>The host that is killed: {@link ContainerReaper#reapOrphans()} must remove its container,
 * {@link ProcessReaper#reapOrphans()} must kill its process plugin; either way the socket
 * directory, its owner record ({@code <dir>.owner}) and its claims ({@code <dir>.hosts}) must be
 * gone. The cycles' hosts make their socket directories in {@value #SOCKETS_PATH}, which only this
 * test uses. See docs/security.md, "Proofs: chaos and fuzzing".
 *
 * <p>{@code -Dchaos.cycles=N} (default {@value #DEFAULT_CYCLES}, mixed over every kind and
 * ending), {@code -Dchaos.seconds=S} (stop starting cycles after S seconds; default none), {@code
 * -Dchaos.seed=L}. The figures (per kind and ending: cycles, failures, time per cycle, time from
 * the kill to the failed call) are logged and written to {@code target/chaos-report.txt}.
 */
class ChaosIT {
  private static final Logger LOG = LoggerFactory.getLogger(ChaosIT.class);

  static final int DEFAULT_CYCLES = 48;
  static final int CALL_BOUND_SECONDS = 20;
  static final int CLOSE_BOUND_SECONDS = 30;
  private static final Duration GONE_BOUND = Duration.ofSeconds(15);

  /**
   * The parent of every socket directory the cycles' hosts make, this test's alone: the
   * reapers and the final check look only here.
   */
  static final String SOCKETS_PATH = "/tmp/goplugin4j-chaos-it";

  static final Path SOCKETS = Path.of(SOCKETS_PATH);

  enum Kind { PROCESS, RUNC, RUNSC }

  enum Ending { CLOSE, KILL_9, DOCKER_KILL, DOCKER_RM, CLOSE_FROM_OTHER_THREAD, HOST_KILLED_THEN_REAP }

  private record Combo(Kind kind, Ending ending) {
    @Override
    public String toString() {
      return kind.name().toLowerCase() + "/" + ending.name().toLowerCase();
    }
  }

  /** Figures of one combination. */
  private static final class Stats {
    int cycles;
    int failures;
    long totalMillis;
    long maxMillis;
    long maxCallFailMillis = -1;
    int leftSocketDirs;
    int leftProcesses;
  }

  private final Map<String, Stats> stats = new TreeMap<>();
  private final List<String> failures = Collections.synchronizedList(new ArrayList<>());
  private final Set<String> containersMade = ConcurrentHashMap.newKeySet();
  private final AtomicInteger threadNo = new AtomicInteger();
  private final ExecutorService pool = Executors.newCachedThreadPool(r -> {
    Thread t = new Thread(r, "chaos-" + threadNo.incrementAndGet());
    t.setDaemon(true);
    return t;
  });
  private Path counterBinary;

  @Test
  void startCallAndEndBadlyCycleAfterCycleLeavesNothingBehindAndNoCallHangs() throws Exception {
    int cycles = Integer.getInteger("chaos.cycles", DEFAULT_CYCLES);
    long seconds = Long.getLong("chaos.seconds", 0);
    long seed = Long.getLong("chaos.seed", System.nanoTime());
    // Not NoLeftoverContainers: the cycles keep to their own socket parent and check their own
    // containers, so a run beside other container tests neither fails for nor deletes theirs.
    TestImages.ensureBuilt();
    counterBinary = GoPeers.create().pluginContainerCounter();
    Files.createDirectories(SOCKETS);

    List<Combo> combos = new ArrayList<>();
    for (Kind k : Kind.values()) {
      for (Ending e : Ending.values()) {
        if (k == Kind.PROCESS && (e == Ending.DOCKER_KILL || e == Ending.DOCKER_RM)) {
          continue;
        }
        combos.add(new Combo(k, e));
      }
    }
    // warm-up, not counted: class loading, lazily opened JVM-wide descriptors, image caches
    for (Kind k : Kind.values()) {
      inProcessCycle(new Combo(k, Ending.CLOSE), new Stats());
    }
    failures.clear();
    Leaks leaks = Leaks.snapshotWithFds("goplugin4j-");

    Random random = new Random(seed);
    List<Combo> order = new ArrayList<>();
    long t0 = System.nanoTime();
    int ran = 0;
    for (int i = 0; i < cycles; i++) {
      if (i % combos.size() == 0) {
        order = new ArrayList<>(combos);
        Collections.shuffle(order, random);
      }
      if (seconds > 0 && System.nanoTime() - t0 > TimeUnit.SECONDS.toNanos(seconds)) {
        break;
      }
      Combo c = order.get(i % combos.size());
      Stats s = stats.computeIfAbsent(c.toString(), x -> new Stats());
      int failuresBefore = failures.size();
      long c0 = System.nanoTime();
      try {
        if (c.ending() == Ending.HOST_KILLED_THEN_REAP) {
          hostKilledCycle(c, s);
        } else {
          inProcessCycle(c, s);
        }
      } catch (Exception | AssertionError e) {
        fail(c, "cycle threw " + e);
        LOG.error("chaos cycle {} failed", c, e);
      }
      long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - c0);
      s.cycles++;
      s.totalMillis += ms;
      s.maxMillis = Math.max(s.maxMillis, ms);
      s.failures += failures.size() - failuresBefore;
      ran++;
      if (ran % 50 == 0) {
        LOG.info("chaos: {} cycles, {} failures, {} s", ran, failures.size(),
            TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0));
      }
    }
    long totalMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    pool.shutdownNow();
    assertThat(pool.awaitTermination(CLOSE_BOUND_SECONDS, TimeUnit.SECONDS))
        .as("chaos call threads ended").isTrue();

    String report = report(ran, seed, totalMillis);
    LOG.info("chaos report\n{}", report);
    Path target = Path.of(System.getProperty("chaos.report", "target/chaos-report.txt"));
    Files.writeString(target, report);

    List<String> leftContainers = new ArrayList<>();
    try (Engine e = ItSupport.engine()) {
      for (Engine.ContainerSummary c : e.listByLabel(Labels.MANAGED, "true")) {
        if (containersMade.contains(c.id())) {
          leftContainers.add(c.id() + " " + c.state());
        }
      }
    }
    assertThat(failures).as("chaos failures (seed %d)", seed).isEmpty();
    assertThat(leftContainers).as("containers of the chaos cycles left").isEmpty();
    assertThat(socketDirs()).as("socket directories left").isEmpty();
    leaks.assertNoneWithin(Duration.ofSeconds(15));
  }

  /** start → call → one ending, with the host in this JVM. */
  private void inProcessCycle(Combo c, Stats s) throws Exception {
    HeldStorage storage = new HeldStorage(c.ending() != Ending.CLOSE);
    PluginClient client = builder(c.kind()).build();
    String runnerId = null;
    Path socketDir = null;
    try {
      bounded(c, "start", () -> {
        client.start();
        return null;
      }, Duration.ofSeconds(90));
      ReattachConfig rc = client.reattachConfig().orElseThrow();
      runnerId = rc.runnerId();
      socketDir = socketDirOf(rc);
      if (c.kind() != Kind.PROCESS) {
        containersMade.add(fullId(runnerId));
      }
      StorageCounter counter = client.dispense("counter", StorageCounter.class);
      Future<Long> call = pool.submit(() -> counter.increment("k", 1, storage));
      if (c.ending() == Ending.CLOSE) {
        Long v = outcome(c, call);
        if (v == null || v != 1) {
          fail(c, "the call returned " + v + " instead of 1");
        }
        bounded(c, "close", () -> {
          client.close();
          return null;
        }, Duration.ofSeconds(CLOSE_BOUND_SECONDS));
      } else {
        if (!storage.entered.await(CALL_BOUND_SECONDS, TimeUnit.SECONDS)) {
          fail(c, "the call never reached the host's storage");
        }
        long k0 = System.nanoTime();
        Future<?> closer = null;
        switch (c.ending()) {
          case KILL_9 -> kill9(c, runnerId);
          case DOCKER_KILL -> docker(c, "kill", runnerId);
          case DOCKER_RM -> docker(c, "rm", "-f", runnerId);
          case CLOSE_FROM_OTHER_THREAD -> closer = pool.submit(() -> {
            client.close();
            return null;
          });
          default -> throw new IllegalStateException(c.toString());
        }
        Object result = outcome(c, call);
        long failMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - k0);
        if (c.ending() != Ending.CLOSE_FROM_OTHER_THREAD) {
          if (result != null) {
            fail(c, "the call on a killed plugin returned " + result);
          } else {
            s.maxCallFailMillis = Math.max(s.maxCallFailMillis, failMillis);
          }
        }
        storage.release();
        if (closer != null) {
          Future<?> f = closer;
          bounded(c, "close from another thread", () -> f.get(), Duration.ofSeconds(
              CLOSE_BOUND_SECONDS));
        } else {
          bounded(c, "close after the kill", () -> {
            client.close();
            return null;
          }, Duration.ofSeconds(CLOSE_BOUND_SECONDS));
        }
      }
    } finally {
      storage.release();
      client.close();
    }
    checkGone(c, runnerId, socketDir);
  }

  /** A host JVM that starts the plugin is killed; then the reaper runs. */
  private void hostKilledCycle(Combo c, Stats s) throws Exception {
    String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    Process host = new ProcessBuilder(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx128m", "-XX:TieredStopAtLevel=1", "-cp", cp,
        ChaosHostMain.class.getName(), c.kind().name().toLowerCase(),
        SOCKETS.toString(), counterBinary.toString())
        .redirectErrorStream(true)
        .start();
    host.getOutputStream().close();
    ReattachConfig rc = null;
    StringBuilder output = new StringBuilder();
    try {
      BufferedReader out = new BufferedReader(
          new InputStreamReader(host.getInputStream(), StandardCharsets.UTF_8));
      CompletableFuture<String> ready = CompletableFuture.supplyAsync(() -> {
        try {
          String line;
          while ((line = out.readLine()) != null) {
            if (line.startsWith(ChaosHostMain.READY_PREFIX)) {
              return line.substring(ChaosHostMain.READY_PREFIX.length());
            }
            synchronized (output) {
              output.append(line).append('\n');
            }
          }
          return null;
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }, pool);
      String json;
      try {
        json = ready.get(120, TimeUnit.SECONDS);
      } catch (TimeoutException e) {
        json = null;
      }
      if (json == null) {
        synchronized (output) {
          fail(c, "the host JVM never got ready: " + output);
        }
        return;
      }
      rc = ReattachConfig.fromJson(json);
      if (c.kind() != Kind.PROCESS) {
        containersMade.add(fullId(rc.runnerId()));
      }
    } finally {
      host.destroyForcibly();
      if (!host.waitFor(CLOSE_BOUND_SECONDS, TimeUnit.SECONDS)) {
        fail(c, "the host JVM did not die of SIGKILL");
      }
      host.getInputStream().close();
    }
    Path socketDir = socketDirOf(rc);
    if (c.kind() == Kind.PROCESS) {
      reapProcess(c, s, rc, socketDir);
    } else {
      List<String> reaped = ContainerReaper.create(ItSupport.ENGINE).reapOrphans();
      String id = rc.runnerId();
      if (reaped.stream().noneMatch(r -> r.startsWith(id) || id.startsWith(r))) {
        fail(c, "the reaper did not remove " + id + " (removed " + reaped + ")");
      }
      if (!waitUntil(() -> ItSupport.inspect(id).isEmpty(), GONE_BOUND)) {
        fail(c, "container " + id + " still there after the reaper");
      }
      checkReaped(c, s, socketDir);
    }
  }

  /** The dead host's socket directory, its owner record and its claims are gone too. */
  private void checkReaped(Combo c, Stats s, Path socketDir) {
    Path owner = socketDir.resolveSibling(socketDir.getFileName() + ".owner");
    Path claims = socketDir.resolveSibling(socketDir.getFileName() + ".hosts");
    for (Path p : List.of(socketDir, owner, claims)) {
      if (Files.exists(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
        s.leftSocketDirs++;
        fail(c, "the reaper left " + p);
        TestImages.deleteTree(p);
      }
    }
  }

  /**
   * A process plugin whose host died: the process reaper must kill it (its identity confirmed)
   * and remove its socket directory and owner record.
   */
  private void reapProcess(Combo c, Stats s, ReattachConfig rc, Path socketDir) {
    long pid = Long.parseLong(rc.runnerId());
    List<ProcessReaper.Leftover> reaped = ProcessReaper.create(SOCKETS).reapOrphans();
    if (reaped.stream().noneMatch(l -> l.socketDir().equals(socketDir))) {
      fail(c, "the process reaper did not reap " + socketDir + " (reaped " + reaped
          + "; it finds " + ProcessReaper.create(SOCKETS).find() + ")");
    }
    Optional<ProcessHandle> p = ProcessHandle.of(pid);
    if (p.isPresent() && !waitUntil(() -> !p.get().isAlive(), GONE_BOUND)) {
      s.leftProcesses++;
      fail(c, "orphaned plugin process " + pid + " still runs after the process reaper");
      if (p.get().info().command().map(cmd -> cmd.equals(counterBinary.toString()))
          .orElse(false)) {
        p.get().destroyForcibly();
      }
    }
    checkReaped(c, s, socketDir);
  }

  private PluginClient.Builder builder(Kind kind) {
    PluginClient.Builder b = PluginClient.builder()
        .handshake(1, "BASIC_PLUGIN", "hello")
        .plugin("counter", new StorageCounterPlugin())
        .autoMtls(true)
        .skipHostEnv(true)
        .unixSocketTempDir(SOCKETS)
        .startTimeout(Duration.ofSeconds(60));
    return switch (kind) {
      case PROCESS -> b.command(counterBinary.toString());
      case RUNC -> b.runner(ContainerConfig.builder().image(TestImages.COUNTER).runtime("runc")
          .build());
      case RUNSC -> b.runner(ContainerConfig.builder().image(TestImages.COUNTER).runtime("runsc")
          .build());
    };
  }

  /** The plugin's socket directory: the container's bind mount, or the socket's parent. */
  private static Path socketDirOf(ReattachConfig rc) {
    String dir = rc.runnerAttributes().get(ContainerRunners.ATTR_SOCKET_DIR);
    if (ReattachConfig.KIND_CONTAINER.equals(rc.runnerKind()) && dir != null) {
      return Path.of(dir);
    }
    return Path.of(rc.address().address()).getParent();
  }

  private void checkGone(Combo c, String runnerId, Path socketDir) {
    if (runnerId == null) {
      return;
    }
    if (c.kind() == Kind.PROCESS) {
      Optional<ProcessHandle> p = ProcessHandle.of(Long.parseLong(runnerId));
      if (p.isPresent() && !waitUntil(() -> !p.get().isAlive(), GONE_BOUND)) {
        fail(c, "plugin process " + runnerId + " alive after close");
        p.get().destroyForcibly();
      }
    } else if (!waitUntil(() -> ItSupport.inspect(runnerId).isEmpty(), GONE_BOUND)) {
      fail(c, "container " + runnerId + " still there after close");
    }
    if (socketDir != null) {
      Path owner = socketDir.resolveSibling(socketDir.getFileName() + ".owner");
      for (Path p : List.of(socketDir, owner)) {
        if (!waitUntil(() -> !Files.exists(p, java.nio.file.LinkOption.NOFOLLOW_LINKS),
            GONE_BOUND)) {
          fail(c, p + " left after close");
          TestImages.deleteTree(p);
        }
      }
    }
  }

  private void kill9(Combo c, String runnerId) {
    long pid;
    if (c.kind() == Kind.PROCESS) {
      pid = Long.parseLong(runnerId);
    } else {
      pid = ItSupport.inspect(runnerId).map(i -> i.raw().path("State").path("Pid").asLong())
          .orElse(0L);
    }
    Optional<ProcessHandle> p = pid > 0 ? ProcessHandle.of(pid) : Optional.empty();
    if (p.isEmpty()) {
      fail(c, "no process to kill for " + runnerId);
      return;
    }
    p.get().destroyForcibly();
  }

  private void docker(Combo c, String... args) {
    List<String> cmd = new ArrayList<>(List.of("docker"));
    cmd.addAll(List.of(args));
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      p.getOutputStream().close();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(CLOSE_BOUND_SECONDS, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        fail(c, String.join(" ", cmd) + " timed out");
      } else if (p.exitValue() != 0) {
        fail(c, String.join(" ", cmd) + " failed: " + out.strip());
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /**
   * The call's result; null when it failed as a call on a dead plugin may (gRPC status, or our
   * typed exception). Anything else, or no outcome within the bound, is a failure.
   */
  private Long outcome(Combo c, Future<Long> call) throws InterruptedException {
    try {
      return call.get(CALL_BOUND_SECONDS, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      Throwable t = e.getCause();
      if (!(t instanceof StatusRuntimeException) && !(t instanceof PluginException)) {
        fail(c, "the call failed with an untyped " + t);
      }
      return null;
    } catch (TimeoutException e) {
      fail(c, "the call hung for " + CALL_BOUND_SECONDS + " s:\n" + threadDump());
      call.cancel(true);
      return null;
    }
  }

  private <T> T bounded(Combo c, String what, java.util.concurrent.Callable<T> action,
      Duration bound) throws Exception {
    Future<T> f = pool.submit(action);
    try {
      return f.get(bound.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      fail(c, what + " took longer than " + bound.toSeconds() + " s:\n" + threadDump());
      f.cancel(true);
      return null;
    } catch (ExecutionException e) {
      if (e.getCause() instanceof Exception ex) {
        throw ex;
      }
      throw e;
    }
  }

  private void fail(Combo c, String message) {
    LOG.error("chaos {}: {}", c, message);
    failures.add(c + ": " + message);
  }

  private static boolean waitUntil(Supplier<Boolean> condition, Duration bound) {
    long deadline = System.nanoTime() + bound.toNanos();
    while (!condition.get()) {
      if (System.nanoTime() - deadline > 0) {
        return false;
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    }
    return true;
  }

  private static String fullId(String id) {
    return ItSupport.inspect(id).map(i -> i.id()).orElse(id);
  }

  private static List<String> socketDirs() throws IOException {
    if (!Files.exists(SOCKETS)) {
      return List.of();
    }
    try (Stream<Path> s = Files.list(SOCKETS)) {
      return s.map(Path::toString).toList();
    }
  }

  private static String threadDump() {
    StringBuilder sb = new StringBuilder();
    Thread.getAllStackTraces().forEach((t, stack) -> {
      if (t.getName().startsWith("goplugin4j-") || t.getName().startsWith("chaos-")) {
        sb.append("  ").append(t.getName()).append(' ').append(t.getState()).append('\n');
        for (int i = 0; i < Math.min(stack.length, 12); i++) {
          sb.append("      at ").append(stack[i]).append('\n');
        }
      }
    });
    return sb.toString();
  }

  private String report(int ran, long seed, long totalMillis) {
    StringBuilder sb = new StringBuilder();
    sb.append(String.format("chaos: %d cycles in %.1f s (%.0f ms per cycle), %d failures, seed %d%n",
        ran, totalMillis / 1000.0, ran == 0 ? 0.0 : (double) totalMillis / ran, failures.size(),
        seed));
    sb.append(String.format("%-38s %6s %8s %10s %9s %13s %9s %9s%n", "kind/ending", "cycles",
        "failures", "avg ms", "max ms", "call fail ms", "dirs left", "procs left"));
    stats.forEach((k, s) -> sb.append(String.format("%-38s %6d %8d %10d %9d %13s %9d %9d%n", k,
        s.cycles, s.failures, s.cycles == 0 ? 0 : s.totalMillis / s.cycles, s.maxMillis,
        s.maxCallFailMillis < 0 ? "-" : "<= " + s.maxCallFailMillis, s.leftSocketDirs,
        s.leftProcesses)));
    Map<Kind, int[]> perKind = new TreeMap<>();
    stats.forEach((k, s) -> {
      Kind kind = Kind.valueOf(k.substring(0, k.indexOf('/')).toUpperCase());
      int[] a = perKind.computeIfAbsent(kind, x -> new int[2]);
      a[0] += s.cycles;
      a[1] += s.failures;
    });
    perKind.forEach((k, a) -> sb.append(String.format("%s: %d cycles, %d failures%n",
        k.name().toLowerCase(), a[0], a[1])));
    synchronized (failures) {
      failures.forEach(f -> sb.append("FAILURE ").append(f.lines().findFirst().orElse(""))
          .append('\n'));
    }
    sb.append("java ").append(System.getProperty("java.version")).append(", ")
        .append(Runtime.getRuntime().availableProcessors()).append(" cpus\n");
    return sb.toString();
  }

  /** Host-side storage whose get blocks (when held) until the cycle's ending has happened. */
  private static final class HeldStorage implements Storage {
    final CountDownLatch entered = new CountDownLatch(1);
    private final CountDownLatch released;
    private final Map<String, Long> data = new ConcurrentHashMap<>();

    HeldStorage(boolean hold) {
      released = new CountDownLatch(hold ? 1 : 0);
    }

    void release() {
      released.countDown();
    }

    @Override
    public long get(String key) {
      entered.countDown();
      try {
        if (!released.await(CALL_BOUND_SECONDS + CLOSE_BOUND_SECONDS, TimeUnit.SECONDS)) {
          throw new IllegalStateException("held storage never released");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted", e);
      }
      return data.getOrDefault(key, 0L);
    }

    @Override
    public void put(String key, long value) {
      data.put(key, value);
    }
  }
}
