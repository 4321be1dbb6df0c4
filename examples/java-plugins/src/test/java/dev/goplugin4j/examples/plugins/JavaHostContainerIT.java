package dev.goplugin4j.examples.plugins;

import static org.assertj.core.api.Assertions.assertThat;

import dev.goplugin4j.container.ContainerConfig;
import dev.goplugin4j.host.GrpcPlugin;
import dev.goplugin4j.host.PluginClient;
import dev.goplugin4j.interop.proto.container.CounterGrpc;
import dev.goplugin4j.interop.proto.container.GetRequest;
import dev.goplugin4j.interop.proto.container.GetResponse;
import dev.goplugin4j.interop.proto.container.IncrementRequest;
import dev.goplugin4j.interop.proto.container.PutRequest;
import dev.goplugin4j.interop.proto.container.PutResponse;
import dev.goplugin4j.interop.proto.container.StorageGrpc;
import dev.goplugin4j.protocol.GrpcBroker;
import io.grpc.stub.StreamObserver;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Both ends in Java: goplugin4j's host with its container runner starts the Java counter image
 * made by the recipe (runc and runsc), multiplexed broker and AutoMTLS on, and counts 1, 3, 2
 * through its Storage, which the plugin reaches through the broker.
 */
class JavaHostContainerIT {
  private Path socketParent;

  @BeforeAll
  static void image() throws Exception {
    ContainerImages.requireEngine();
    ContainerImages.javaImage();
  }

  @BeforeEach
  void dir() throws Exception {
    socketParent = Examples.tempDir("gp4j-jc");
  }

  @AfterEach
  void cleanUp() {
    ContainerImages.deleteQuietly(socketParent);
  }

  /** Host side of plugincontainer's Counter: serves Storage through the broker per call. */
  record Counter(CounterGrpc.CounterBlockingStub stub, GrpcBroker broker) {
    long increment(String key, long value, Map<String, Long> store) {
      int id = broker.nextId();
      try (GrpcBroker.BrokeredServer storage = broker.acceptAndServe(id, List.of(new StorageGrpc.StorageImplBase() {
        @Override
        public void get(GetRequest request, StreamObserver<GetResponse> responses) {
          responses.onNext(GetResponse.newBuilder().setValue(store.getOrDefault(request.getKey(), 0L)).build());
          responses.onCompleted();
        }

        @Override
        public void put(PutRequest request, StreamObserver<PutResponse> responses) {
          store.put(request.getKey(), request.getValue());
          responses.onNext(PutResponse.getDefaultInstance());
          responses.onCompleted();
        }
      }))) {
        return stub.withDeadlineAfter(60, TimeUnit.SECONDS).increment(IncrementRequest.newBuilder()
            .setKey(key).setValue(value).setStorageServer(storage.id()).build()).getValue();
      }
    }
  }

  private static final GrpcPlugin<Counter> COUNTER =
      (channel, broker) -> new Counter(CounterGrpc.newBlockingStub(channel), broker);

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"runc", "runsc"})
  void theJavaHostRunsTheJavaPluginImageAndCountsThroughItsStorage(String runtime) throws Exception {
    ContainerConfig sandbox = ContainerConfig.builder()
        .image(ContainerImages.JAVA_IMAGE).tag(ContainerImages.JAVA_TAG)
        .runtime(runtime)
        .disableNetwork(true)
        .groupAdd(0)
        .pluginName("java-counter")
        .build();
    Map<String, Long> store = new ConcurrentHashMap<>();
    List<Long> got = new ArrayList<>();
    try (PluginClient client = PluginClient.builder()
        .handshake(ExampleHandshake.PROTOCOL_VERSION, ExampleHandshake.MAGIC_COOKIE_KEY,
            ExampleHandshake.MAGIC_COOKIE_VALUE)
        .plugin("counter", COUNTER)
        .runner(sandbox)
        .unixSocketGroup("0")
        .unixSocketTempDir(socketParent)
        .autoMtls(true)
        .multiplexBroker(true)
        .startTimeout(Duration.ofSeconds(90))
        .build()) {
      Counter counter = client.dispense("counter", Counter.class);
      got.add(counter.increment("hello", 1, store));
      got.add(counter.increment("hello", 2, store));
      got.add(counter.increment("world", 2, store));
    }
    assertThat(got).containsExactly(1L, 3L, 2L);
    assertThat(store).containsEntry("hello", 3L).containsEntry("world", 2L);
  }
}
