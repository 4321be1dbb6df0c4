package dev.goplugin4j.container;

import static org.assertj.core.api.Assertions.assertThat;

import dev.goplugin4j.host.Runner;
import java.io.ByteArrayOutputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runner level, against the real engine: start plugincontainer's counter plugin in a container,
 * read its handshake from the attached stdout, translate the socket address, call the gRPC health
 * service over the socket, kill, and check the container is gone. For runc and runsc, and every
 * way of naming the image.
 */
@ExtendWith(NoLeftoverContainers.class)
class ContainerRunnerIT {
  private static final Logger LOG = LoggerFactory.getLogger(ContainerRunnerIT.class);

  static Stream<Arguments> runtimesAndImageRefs() {
    List<Arguments> list = new ArrayList<>();
    String id = TestImages.imageIdLazy(TestImages.COUNTER + ":latest");
    String hex = id.substring("sha256:".length());
    for (String runtime : List.of("runc", "runsc")) {
      list.add(Arguments.of(runtime, "image", (UnaryOperator<ContainerConfig.Builder>) b -> b));
      list.add(Arguments.of(runtime, "image with tag",
          (UnaryOperator<ContainerConfig.Builder>) b -> b.tag("latest")));
      list.add(Arguments.of(runtime, "image and sha256",
          (UnaryOperator<ContainerConfig.Builder>) b -> b.sha256(hex)));
      list.add(Arguments.of(runtime, "image with tag and sha256",
          (UnaryOperator<ContainerConfig.Builder>) b -> b.tag("latest").sha256(hex)));
      list.add(Arguments.of(runtime, "image and sha256:-prefixed id",
          (UnaryOperator<ContainerConfig.Builder>) b -> b.sha256(id)));
      list.add(Arguments.of(runtime, "image with tag and sha256:-prefixed id",
          (UnaryOperator<ContainerConfig.Builder>) b -> b.tag("latest").sha256(id)));
    }
    return list.stream();
  }

  @ParameterizedTest(name = "{0}: {1}")
  @MethodSource("runtimesAndImageRefs")
  void pluginInContainerHandshakesAndServesOverTheSharedSocket(String runtime, String how,
      UnaryOperator<ContainerConfig.Builder> imageRef) throws Exception {
    ContainerConfig config = imageRef.apply(ContainerConfig.builder()
        .image(TestImages.COUNTER).runtime(runtime)).build();
    Path dir = ItSupport.newSocketDir();
    Runner runner = config.create(ItSupport.counterCommand(dir), dir);
    String id;
    try {
      long t0 = System.nanoTime();
      runner.start();
      ByteArrayOutputStream stderr = ItSupport.drain(runner.stderr());
      id = runner.id();
      assertThat(id).isNotEmpty();
      Path socket = ItSupport.handshakeAndHealthCheck(runner, stderr);
      LOG.info("{} / {}: container create -> healthy in {} ms (socket {})", runtime, how,
          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0), socket);
      assertThat(ItSupport.inspect(id)).hasValueSatisfying(i -> {
        assertThat(i.running()).isTrue();
        assertThat(i.raw().path("HostConfig").path("Runtime").asText()).isEqualTo(runtime);
      });
    } finally {
      runner.kill();
      ItSupport.deleteSocketDir(dir);
    }
    assertThat(ItSupport.inspect(id)).as("container removed by kill").isEmpty();
    // The stop's SIGTERM ends the plugin, PID 1 in its container, within the grace. Under runc
    // Go's runtime cannot die of a signal as PID 1 (the kernel ignores it) and exits 2 instead;
    // gVisor reports the death by SIGTERM (128 + 15). A SIGKILL after the grace would be 137, and
    // a status the runner could not learn from the engine -1.
    assertThat(runner.onExit().get(5, TimeUnit.SECONDS)).as("exit status reported by the engine")
        .isEqualTo(runtime.equals("runc") ? 2 : 143);
  }
}
