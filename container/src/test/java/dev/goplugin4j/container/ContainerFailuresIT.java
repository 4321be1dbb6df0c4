package dev.goplugin4j.container;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.goplugin4j.container.internal.Engine;
import dev.goplugin4j.container.internal.Labels;
import dev.goplugin4j.host.Runner;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** How the runner fails, against the real engine: each failure typed and explained. */
@ExtendWith(NoLeftoverContainers.class)
class ContainerFailuresIT {

  private interface RunnerTest {
    void run(Runner runner) throws Exception;
  }

  /** Creates a runner on a fresh socket dir, runs the test, always kills and cleans up. */
  private static String withRunner(ContainerConfig config, RunnerTest test) throws Exception {
    Path dir = ItSupport.newSocketDir();
    Runner runner = config.create(ItSupport.counterCommand(dir), dir);
    try {
      test.run(runner);
      return runner.id();
    } finally {
      runner.kill();
      ItSupport.deleteSocketDir(dir);
    }
  }

  @Test
  void imageMissingEntirelyIsImageNotFound() throws Exception {
    ContainerConfig config = ContainerConfig.builder().image("goplugin4j-it/no-such-image").build();
    withRunner(config, runner -> {
      long t0 = System.nanoTime();
      assertThatThrownBy(runner::start)
          .isInstanceOf(ImageNotFoundException.class)
          .hasMessageContaining("goplugin4j-it/no-such-image")
          .hasMessageContaining("never pulls")
          .satisfies(e -> assertThat(((ImageNotFoundException) e).imageRef())
              .isEqualTo("goplugin4j-it/no-such-image"));
      assertFailsFastWithoutExitStatus(runner, t0);
    });
  }

  /** No container was made, so no exit can come: the clean-up must not wait for one. */
  private static void assertFailsFastWithoutExitStatus(Runner runner, long t0) {
    assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0))
        .as("a start that made no container fails without waiting for an exit").isLessThan(1500);
    assertThat(runner.onExit()).isCompletedWithValue(-1);
  }

  @Test
  void pinnedImageMissingEntirelyIsImageNotFoundNotMismatch() throws Exception {
    String id = TestImages.imageIdLazy(TestImages.COUNTER + ":latest");
    ContainerConfig config = ContainerConfig.builder().image("goplugin4j-it/no-such-image")
        .tag("v1").sha256(id).build();
    withRunner(config, runner -> assertThatThrownBy(runner::start)
        .isInstanceOf(ImageNotFoundException.class)
        .hasMessageContaining("goplugin4j-it/no-such-image:v1"));
  }

  @Test
  void sha256OfAnotherImageIsATypedMismatchNamingImageTagAndHash() throws Exception {
    String counterId = TestImages.imageIdLazy(TestImages.COUNTER + ":latest");
    String hex = counterId.substring("sha256:".length());
    ContainerConfig config = ContainerConfig.builder().image(TestImages.BROKEN).tag("latest")
        .sha256(hex).debug(true).build();
    withRunner(config, runner -> {
      long t0 = System.nanoTime();
      assertThatThrownBy(runner::start)
          .isInstanceOfSatisfying(Sha256MismatchException.class, e -> {
            assertThat(e.image()).isEqualTo(TestImages.BROKEN);
            assertThat(e.tag()).isEqualTo("latest");
            assertThat(e.sha256()).isEqualTo(hex);
            assertThat(e.foundIds()).containsExactly(TestImages.imageId(TestImages.BROKEN));
            assertThat(e.getMessage()).contains(TestImages.BROKEN + ":latest").contains(hex)
                .contains("SHA256 mismatch");
          });
      assertFailsFastWithoutExitStatus(runner, t0);
    });
  }

  @Test
  void killDuringStartLeavesNoContainerWhateverTheMoment() throws Exception {
    String name = "kill-during-start-it";
    ContainerConfig config = ContainerConfig.builder().image(TestImages.HANG).pluginName(name)
        .killGrace(Duration.ZERO).build();
    int killedDuringStart = 0;
    for (long delayMillis : new long[] {0, 5, 20, 50, 100, 200, 400}) {
      Path dir = ItSupport.newSocketDir();
      Runner runner = config.create(ItSupport.counterCommand(dir), dir);
      java.util.concurrent.atomic.AtomicReference<Throwable> failure =
          new java.util.concurrent.atomic.AtomicReference<>();
      Thread starter = new Thread(() -> {
        try {
          runner.start();
        } catch (Throwable t) {
          failure.set(t);
        }
      }, "test-starter");
      try {
        starter.start();
        Thread.sleep(delayMillis);
        runner.kill();
        starter.join(5000);
        assertThat(starter.isAlive()).as("start ended once kill returned (%d ms)", delayMillis)
            .isFalse();
        if (failure.get() != null) {
          killedDuringStart++;
          assertThat(failure.get()).isInstanceOf(ContainerException.class)
              .hasMessageContaining("killed");
        }
        try (Engine e = ItSupport.engine()) {
          assertThat(e.listByLabel(Labels.PLUGIN, name))
              .as("no container left after a kill %d ms into the start", delayMillis).isEmpty();
        }
        assertThat(runner.onExit()).isDone();
      } finally {
        runner.kill();
        ItSupport.deleteSocketDir(dir);
      }
    }
    assertThat(killedDuringStart).as("some kills landed during the start").isPositive();
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"runc", "runsc"})
  void brokenImageDiagnosisHasImageRefCookieEnvAndLogs(String runtime) throws Exception {
    ContainerConfig config = ContainerConfig.builder().image(TestImages.BROKEN)
        .runtime(runtime).debug(true).build();
    String id = withRunner(config, runner -> {
      runner.start();
      assertThat(ItSupport.readLine(runner.stdout(), Duration.ofSeconds(30)))
          .isEqualTo("bye from broken");
      assertThat(runner.onExit().get(30, TimeUnit.SECONDS)).isEqualTo(1);
      String diagnosis = runner.diagnose();
      assertThat(diagnosis)
          .contains("Image ref: " + TestImages.BROKEN)
          .contains("Runtime: " + runtime)
          .contains("BASIC_PLUGIN=hello")
          .contains("PLUGIN_UNIX_SOCKET_DIR=/tmp/go-plugin-container")
          .contains("bye from broken")
          .contains("exit code 1; this may be an error internal to the plugin");
      // debug keeps the container until kill
      assertThat(ItSupport.inspect(runner.id())).isPresent();
    });
    assertThat(ItSupport.inspect(id)).as("kill removes a debug container").isEmpty();
  }

  @Test
  void withoutDebugDiagnosisLeavesOutTheEnvironment() throws Exception {
    ContainerConfig config = ContainerConfig.builder().image(TestImages.BROKEN).build();
    withRunner(config, runner -> {
      runner.start();
      runner.onExit().get(30, TimeUnit.SECONDS);
      assertThat(runner.diagnose()).contains("Image ref: " + TestImages.BROKEN)
          .doesNotContain("BASIC_PLUGIN=hello");
    });
  }

  @Test
  void unregisteredRuntimeFailsWithAHintListingTheRegisteredOnes() throws Exception {
    ContainerConfig config = ContainerConfig.builder().image(TestImages.COUNTER)
        .runtime("no-such-runtime").build();
    withRunner(config, runner -> assertThatThrownBy(runner::start)
        .isInstanceOf(ContainerStartException.class)
        .hasMessageContaining("no-such-runtime")
        .hasMessageContaining("is not registered with the engine")
        .hasMessageContaining("runsc"));
  }

  @Test
  void unreachableExplicitEngineIsEngineUnavailable() throws Exception {
    ContainerConfig config = ContainerConfig.builder().image(TestImages.COUNTER)
        .engineEndpoint("unix:///tmp/goplugin4j-no-engine.sock").build();
    withRunner(config, runner -> assertThatThrownBy(runner::start)
        .isInstanceOfSatisfying(EngineUnavailableException.class, e -> {
          assertThat(e.attempts()).singleElement().asString()
              .contains("unix:///tmp/goplugin4j-no-engine.sock").contains("no such socket");
          assertThat(e.getMessage()).contains("setup-engine.sh");
        }));
  }

  @Test
  void unreachableEngineListsEveryDiscoveryAttempt() {
    var locator = new dev.goplugin4j.container.internal.EngineLocator(null,
        Map.of("DOCKER_HOST", "unix:///tmp/goplugin4j-nothing/docker.sock",
            "XDG_RUNTIME_DIR", "/tmp/goplugin4j-nothing"),
        "/tmp/goplugin4j-nothing/rootful-docker.sock", "/tmp/goplugin4j-nothing/podman.sock");
    assertThatThrownBy(locator::connect)
        .isInstanceOfSatisfying(EngineUnavailableException.class, e -> {
          assertThat(e.attempts()).hasSize(5);
          assertThat(e.attempts().get(0)).startsWith("DOCKER_HOST");
          assertThat(e.attempts().get(1)).startsWith("rootful Docker");
          assertThat(e.attempts().get(2)).startsWith("rootless Docker")
              .contains("/tmp/goplugin4j-nothing/docker.sock");
          assertThat(e.attempts().get(3)).startsWith("rootful Podman");
          assertThat(e.attempts().get(4)).startsWith("rootless Podman")
              .contains("/tmp/goplugin4j-nothing/podman/podman.sock");
        });
  }

  @Test
  void tcpEngineThatRefusesIsListedWithItsError() {
    var locator = new dev.goplugin4j.container.internal.EngineLocator("tcp://127.0.0.1:1",
        Map.of());
    assertThatThrownBy(locator::connect)
        .isInstanceOfSatisfying(EngineUnavailableException.class,
            e -> assertThat(e.attempts()).singleElement().asString()
                .contains("tcp://127.0.0.1:1"));
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"runc", "runsc"})
  void pluginThatExitsAtOnceEndsStdoutAndReportsItsStatus(String runtime) throws Exception {
    ContainerConfig config = ContainerConfig.builder().image(TestImages.EXIT_AT_ONCE)
        .runtime(runtime).build();
    String id = withRunner(config, runner -> {
      runner.start();
      ByteArrayOutputStream stderr = ItSupport.drain(runner.stderr());
      assertThat(ItSupport.readLine(runner.stdout(), Duration.ofSeconds(30))).isNull();
      assertThat(runner.onExit().get(30, TimeUnit.SECONDS)).isEqualTo(3);
      Thread.sleep(200);
      assertThat(stderr.toString(StandardCharsets.UTF_8)).contains("leaving");
    });
    assertThat(ItSupport.inspect(id)).isEmpty();
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"runc", "runsc"})
  void killRemovesContainerEvenWhenPluginHangs(String runtime) throws Exception {
    ContainerConfig config = ContainerConfig.builder().image(TestImages.HANG)
        .runtime(runtime).debug(true).build();
    Path dir = ItSupport.newSocketDir();
    Runner runner = config.create(ItSupport.counterCommand(dir), dir);
    try {
      runner.start();
      assertThat(ItSupport.readLine(runner.stdout(), Duration.ofSeconds(2))).isEqualTo("TIMEOUT");
      assertThat(runner.diagnose()).contains("Plugin is running but may have printed something");
      long t0 = System.nanoTime();
      runner.kill();
      long killMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
      assertThat(ItSupport.inspect(runner.id())).isEmpty();
      assertThat(killMs).as("kill within grace (1 s) + removal").isLessThan(10_000);
      // runc: PID 1 ignores SIGTERM, SIGKILL after the grace (137); gVisor delivers SIGTERM (143)
      assertThat(runner.onExit().get(5, TimeUnit.SECONDS)).isIn(137, 143);
      assertThat(ItSupport.readLine(runner.stdout(), Duration.ofSeconds(5))).isNull();
      runner.kill(); // idempotent
    } finally {
      runner.kill();
      ItSupport.deleteSocketDir(dir);
    }
  }

  @Test
  void killOfAContainerRemovedBehindOurBackIsSuccess() throws Exception {
    ContainerConfig config = ContainerConfig.builder().image(TestImages.HANG).build();
    withRunner(config, runner -> {
      runner.start();
      try (var e = ItSupport.engine()) {
        e.stop(runner.id(), 0);
        e.remove(runner.id());
      }
      runner.kill();
      assertThat(ItSupport.inspect(runner.id())).isEmpty();
    });
  }
}
