package dev.goplugin4j.examples.plugins;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import dev.goplugin4j.host.GrpcPlugin;
import dev.goplugin4j.host.PluginClient;
import dev.goplugin4j.host.ReattachConfig;
import dev.goplugin4j.interop.proto.counter.AddHelperGrpc;
import dev.goplugin4j.interop.proto.counter.CounterGrpc;
import dev.goplugin4j.interop.proto.counter.SumRequest;
import dev.goplugin4j.interop.proto.counter.SumResponse;
import dev.goplugin4j.interop.proto.kv.GetRequest;
import dev.goplugin4j.interop.proto.kv.KVGrpc;
import dev.goplugin4j.interop.proto.kv.PutRequest;
import dev.goplugin4j.protocol.GrpcBroker;
import dev.goplugin4j.protocol.HandshakeException;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.event.Level;

/**
 * Our own Java host ({@link PluginClient}) against the Java example plugins with every feature on:
 * AutoMTLS, the multiplexed broker, a socket group, stdio forwarding, hclog logs; plus shutdown
 * while a call is in flight and a protocol version mismatch.
 */
class JavaHostIT {
  private static final Duration START = Duration.ofSeconds(60);

  private Path socketParent;
  private Path markers;
  private final ByteArrayOutputStream stdout = new ByteArrayOutputStream();
  private final ByteArrayOutputStream stderrLines = new ByteArrayOutputStream();
  private final RecordingLogger pluginLog = new RecordingLogger("plugin");

  @BeforeEach
  void dirs() throws IOException {
    socketParent = Examples.tempDir("gp4j-jh");
    markers = Examples.tempDir("gp4j-mk");
  }

  @AfterEach
  void cleanUp() throws IOException {
    try (Stream<Path> left = Files.list(socketParent)) {
      assertThat(left.toList()).as("socket directories left").isEmpty();
    }
    Examples.deleteRecursively(socketParent);
    Examples.deleteRecursively(markers);
  }

  private PluginClient.Builder client(String launcher) {
    return PluginClient.builder()
        .handshake(ExampleHandshake.PROTOCOL_VERSION, ExampleHandshake.MAGIC_COOKIE_KEY,
            ExampleHandshake.MAGIC_COOKIE_VALUE)
        .command(Examples.launcher(launcher).toString())
        .env("JAVA", Examples.java())
        .unixSocketTempDir(socketParent)
        .startTimeout(START)
        .syncStdout(stdout)
        .stderr(stderrLines)
        .logger(pluginLog);
  }

  /** Host-side adapter of the bidirectional Counter: serves AddHelper through the broker per put. */
  record Counter(CounterGrpc.CounterBlockingStub stub, GrpcBroker broker) {
    void put(String key, long value) {
      int id = broker.nextId();
      try (GrpcBroker.BrokeredServer helper = broker.acceptAndServe(id, List.of(new AddHelperGrpc.AddHelperImplBase() {
        @Override
        public void sum(SumRequest request, StreamObserver<SumResponse> responses) {
          responses.onNext(SumResponse.newBuilder().setR(request.getA() + request.getB()).build());
          responses.onCompleted();
        }
      }))) {
        stub.withDeadlineAfter(30, TimeUnit.SECONDS).put(
            dev.goplugin4j.interop.proto.counter.PutRequest.newBuilder()
                .setKey(key).setValue(value).setAddServer(helper.id()).build());
      }
    }

    long get(String key) {
      return stub.withDeadlineAfter(30, TimeUnit.SECONDS)
          .get(dev.goplugin4j.interop.proto.counter.GetRequest.newBuilder().setKey(key).build()).getValue();
    }
  }

  private static final GrpcPlugin<Counter> COUNTER =
      (channel, broker) -> new Counter(CounterGrpc.newBlockingStub(channel), broker);
  private static final GrpcPlugin<KVGrpc.KVBlockingStub> KV =
      (channel, broker) -> KVGrpc.newBlockingStub(channel);

  private static long pid(PluginClient c) {
    ReattachConfig rc = c.reattachConfig().orElseThrow();
    return Long.parseLong(rc.runnerId());
  }

  private static void assertGone(long pid, Duration within) throws InterruptedException {
    long deadline = System.nanoTime() + within.toNanos();
    while (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
      assertThat(System.nanoTime()).as("plugin pid %d still alive after %s", pid, within).isLessThan(deadline);
      Thread.sleep(20);
    }
  }

  @Test
  void theJavaHostCountsThroughTheJavaCounterWithAutoMtlsMultiplexingAndASocketGroup() throws Exception {
    String key = Examples.uniqueKey("jc");
    long pid;
    try (PluginClient c = client("counter-plugin").plugin("counter", COUNTER)
        .autoMtls(true).multiplexBroker(true).unixSocketGroup("1").build()) {
      Counter counter = c.dispense("counter", Counter.class);
      counter.put(key, 1);
      counter.put(key, 2);
      assertThat(counter.get(key)).isEqualTo(3);
      c.ping();
      ReattachConfig rc = c.reattachConfig().orElseThrow();
      assertThat(rc.multiplexed()).isTrue();
      assertThat(rc.pluginCertificate()).isNotEmpty();
      Path socket = Path.of(rc.address().address());
      assertThat(Files.getAttribute(socket, "unix:gid")).isEqualTo(1);
      assertThat(java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(socket)))
          .isEqualTo("rw-rw----");
      pid = pid(c);
    } finally {
      Files.deleteIfExists(Path.of("kv_" + key));
    }
    // close asked the plugin to shut down: it exits by itself, well before the host would kill it
    assertGone(pid, Duration.ofSeconds(3));
    assertThat(pluginLog.events()).anySatisfy(e -> {
      assertThat(e.level()).isEqualTo(Level.INFO);
      // the hclog fields follow the message, hclog style, so a plain %msg pattern shows them
      assertThat(e.message()).startsWith("counter updated: ").contains("key=" + key).contains("value=3");
      assertThat(e.fields()).containsEntry("key", key)
          .containsEntry("@module", CounterPlugin.class.getName());
      assertThat(((Number) e.fields().get("value")).longValue()).isEqualTo(3);
    });
  }

  @Test
  void theJavaHostGetsThePluginsStdoutThroughGrpcStdioAndItsLogsAsHclogEntries() throws Exception {
    String key = Examples.uniqueKey("jkv");
    try (PluginClient c = client("kv-plugin").plugin("kv", KV).autoMtls(true).multiplexBroker(true).build()) {
      KVGrpc.KVBlockingStub kv = c.dispense("kv", KVGrpc.KVBlockingStub.class);
      kv.withDeadlineAfter(30, TimeUnit.SECONDS)
          .put(PutRequest.newBuilder().setKey(key).setValue(ByteString.copyFromUtf8("v1")).build());
      assertThat(kv.withDeadlineAfter(30, TimeUnit.SECONDS).get(GetRequest.newBuilder().setKey(key).build())
          .getValue().toStringUtf8()).isEqualTo(KvPlugin.stored("v1"));
      assertThatThrownBy(() -> kv.withDeadlineAfter(30, TimeUnit.SECONDS)
              .get(GetRequest.newBuilder().setKey("missing-" + key).build()))
          .isInstanceOf(StatusRuntimeException.class)
          .hasMessageContaining("NOT_FOUND");
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (!stdout.toString(StandardCharsets.UTF_8).contains("kv-plugin: put " + key)
          && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
    } finally {
      Files.deleteIfExists(Path.of("kv_" + key));
    }
    assertThat(stdout.toString(StandardCharsets.UTF_8)).isEqualTo("kv-plugin: put " + key + "\n");
    // the raw stderr is hclog JSON only: one object per line
    assertThat(stderrLines.toString(StandardCharsets.UTF_8).lines())
        .isNotEmpty()
        .allSatisfy(l -> assertThat(l).startsWith("{\"@level\":\"").endsWith("}"));
    assertThat(pluginLog.events()).anySatisfy(e -> {
      assertThat(e.level()).isEqualTo(Level.INFO);
      assertThat(e.message()).startsWith("stored a value: ").contains("key=" + key);
      assertThat(e.fields()).containsEntry("key", key);
    });
  }

  @Test
  void closingTheClientDuringAnInFlightCallEndsTheCallClearlyAndThePluginExitsAtOnce() throws Exception {
    PluginClient c = PluginClient.builder()
        .handshake(ExampleHandshake.PROTOCOL_VERSION, ExampleHandshake.MAGIC_COOKIE_KEY,
            ExampleHandshake.MAGIC_COOKIE_VALUE)
        .command(Examples.java(), "-cp", System.getProperty("java.class.path"),
            SlowKvPlugin.class.getName())
        .env("SLOW_MARKERS_DIR", markers.toString())
        .unixSocketTempDir(socketParent)
        .startTimeout(START)
        .syncStdout(stdout)
        .stderr(stderrLines)
        .logger(pluginLog)
        .plugin("kv", KV).autoMtls(true).multiplexBroker(true).build();
    long pid;
    CompletableFuture<String> slow;
    try {
      KVGrpc.KVBlockingStub kv = c.dispense("kv", KVGrpc.KVBlockingStub.class);
      pid = pid(c);
      slow = CompletableFuture.supplyAsync(() -> kv.withDeadlineAfter(60, TimeUnit.SECONDS)
          .get(GetRequest.newBuilder().setKey("slow").build()).getValue().toStringUtf8());
      awaitFile(markers.resolve("slow-started-" + pid));
    } finally {
      long t0 = System.nanoTime();
      c.close();
      assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(3));
    }
    assertThatThrownBy(() -> slow.get(10, TimeUnit.SECONDS))
        .hasCauseInstanceOf(StatusRuntimeException.class)
        .satisfies(e -> {
          Status s = ((StatusRuntimeException) e.getCause()).getStatus();
          assertThat(s.getCode()).isEqualTo(Status.Code.UNAVAILABLE);
          assertThat(s.getDescription()).contains("the plugin is shutting down").contains("grace period");
        });
    assertGone(pid, Duration.ofSeconds(3));
    assertThat(markers.resolve("slow-cancelled-" + pid)).exists();
    // what the plugin printed while registering, before its handshake, did not break the start
    assertThat(stdout.toString(StandardCharsets.UTF_8)).contains("stray stdout while registering\nand a partial line");
    assertThat(pluginLog.events()).anySatisfy(e -> {
      assertThat(e.level()).isEqualTo(Level.WARN);
      assertThat(e.message()).contains("cancelled 1 call(s)").contains("proto.KV/Get");
    });
  }

  @Test
  void aHostWithoutACommonProtocolVersionGetsAClearErrorAndNothingIsLeft() throws Exception {
    PluginClient c = client("kv-plugin")
        .handshake(ExampleHandshake.MAGIC_COOKIE_KEY, ExampleHandshake.MAGIC_COOKIE_VALUE)
        .plugins(2, Map.of("kv", KV)).autoMtls(true).build();
    assertThatThrownBy(c::start)
        .isInstanceOf(HandshakeException.class)
        .hasMessageContaining("incompatible API version with plugin. Plugin version: 1, host versions: [2]");
    c.close();
    assertThat(pluginLog.events()).anySatisfy(e -> assertThat(e.message())
        .contains("no common protocol version: the host supports [2], this plugin [1]"));
  }

  private static void awaitFile(Path p) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!Files.exists(p)) {
      assertThat(System.nanoTime()).as("waiting for " + p).isLessThan(deadline);
      Thread.sleep(20);
    }
  }
}
