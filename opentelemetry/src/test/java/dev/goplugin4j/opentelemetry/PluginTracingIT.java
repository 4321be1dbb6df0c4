package dev.goplugin4j.opentelemetry;

import static org.assertj.core.api.Assertions.assertThat;

import dev.goplugin4j.host.PluginClient;
import dev.goplugin4j.interop.Counter;
import dev.goplugin4j.interop.CounterPlugin;
import dev.goplugin4j.interop.ExampleHandshake;
import dev.goplugin4j.testkit.GoPeers;
import dev.goplugin4j.testkit.Leaks;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.context.Scope;
import io.opentelemetry.sdk.testing.junit5.OpenTelemetryExtension;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * One trace across host, Go plugin, broker and host: a host span calls the plugin's Counter.Put
 * (testkit's otel-counter, go-plugin v1.8.0 with otelgrpc), the plugin calls the host's AddHelper
 * back through the broker, and every span, Java's from the SDK's in-memory exporter and Go's from
 * the lines the plugin prints, has the same trace id and the right parent.
 */
@SuppressWarnings("try")
class PluginTracingIT {
  static {
    LoggerFactory.getILoggerFactory();
  }

  @RegisterExtension static final OpenTelemetryExtension OTEL = OpenTelemetryExtension.create();

  private static final GoPeers PEERS = GoPeers.create();
  private static final Pattern GO_SPAN = Pattern.compile(
      "goplugin4j-span name=(\\S+) kind=(\\S+) trace=(\\S+) span=(\\S+) parent=(\\S+)");

  @TempDir Path sockets;

  /** A span the Go plugin printed. */
  record GoSpan(String name, String kind, String trace, String span, String parent) {}

  /** Collects what the plugin writes, from the client's threads. */
  static final class Sink extends OutputStream {
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

    @Override
    public synchronized void write(int b) {
      bytes.write(b);
    }

    @Override
    public synchronized void write(byte[] b, int off, int len) {
      bytes.write(b, off, len);
    }

    synchronized String text() {
      return bytes.toString(StandardCharsets.UTF_8);
    }
  }

  private static List<GoSpan> goSpans(Sink sink) {
    Matcher m = GO_SPAN.matcher(sink.text());
    List<GoSpan> spans = new java.util.ArrayList<>();
    while (m.find()) {
      spans.add(new GoSpan(m.group(1), m.group(2), m.group(3), m.group(4), m.group(5)));
    }
    return spans;
  }

  private static GoSpan goSpan(Sink sink, String name, String kind) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (true) {
      for (GoSpan s : goSpans(sink)) {
        if (s.name().equals(name) && s.kind().equals(kind)) {
          return s;
        }
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("the plugin printed no " + kind + " span " + name + "; it wrote:\n"
            + sink.text());
      }
      Thread.sleep(20);
    }
  }

  private static SpanData javaSpan(String name, SpanKind kind) {
    List<SpanData> found = OTEL.getSpans().stream()
        .filter(s -> s.getName().equals(name) && s.getKind() == kind).toList();
    assertThat(found).as(kind + " " + name + " in " + OTEL.getSpans()).hasSize(1);
    return found.get(0);
  }

  @Test
  void hostPluginBrokerAndHostCallbackShareOneTraceWithCorrectParents() throws Exception {
    PluginTracing tracing = new PluginTracing(OTEL.getOpenTelemetry());
    Path binary = PEERS.tracedPlugin("otel-counter");
    Sink sink = new Sink();
    AtomicReference<SpanContext> seenByAdder = new AtomicReference<>();
    Leaks leaks = Leaks.snapshot("goplugin4j-");
    Span request = OTEL.getOpenTelemetry().getTracer("test").spanBuilder("request").startSpan();
    String trace = request.getSpanContext().getTraceId();
    try (PluginClient client = tracing.instrument(PluginClient.builder())
        .handshake(ExampleHandshake.PROTOCOL_VERSION, ExampleHandshake.MAGIC_COOKIE_KEY,
            ExampleHandshake.MAGIC_COOKIE_VALUE)
        .command(binary.toString())
        .unixSocketTempDir(sockets)
        .startTimeout(Duration.ofSeconds(GoPeers.inCi() ? 60 : 30))
        .plugin("counter", new CounterPlugin())
        .stderr(sink)
        .syncStderr(sink)
        .build()) {
      Counter counter = client.dispense("counter", Counter.class);
      try (Scope ignored = request.makeCurrent()) {
        counter.put("k", 5, (a, b) -> {
          seenByAdder.set(Span.current().getSpanContext());
          return a + b;
        });
      } finally {
        request.end();
      }
      assertThat(counter.get("k")).isEqualTo(5);

      // host: request -> CLIENT proto.Counter/Put
      SpanData hostPut = javaSpan("proto.Counter/Put", SpanKind.CLIENT);
      assertThat(hostPut.getTraceId()).isEqualTo(trace);
      assertThat(hostPut.getParentSpanId()).isEqualTo(request.getSpanContext().getSpanId());
      assertThat(hostPut.getAttributes().get(AttributeKey.stringKey("goplugin4j.plugin")))
          .isEqualTo(binary.getFileName().toString());
      // plugin: SERVER proto.Counter/Put under the host's client span
      GoSpan pluginPut = goSpan(sink, "proto.Counter/Put", "server");
      assertThat(pluginPut.trace()).isEqualTo(trace);
      assertThat(pluginPut.parent()).isEqualTo(hostPut.getSpanId());
      // plugin: CLIENT proto.AddHelper/Sum over the broker, under its server span
      GoSpan pluginSum = goSpan(sink, "proto.AddHelper/Sum", "client");
      assertThat(pluginSum.trace()).isEqualTo(trace);
      assertThat(pluginSum.parent()).isEqualTo(pluginPut.span());
      // host: SERVER proto.AddHelper/Sum under the plugin's client span, current in the adder
      SpanData hostSum = javaSpan("proto.AddHelper/Sum", SpanKind.SERVER);
      assertThat(hostSum.getTraceId()).isEqualTo(trace);
      assertThat(hostSum.getParentSpanId()).isEqualTo(pluginSum.span());
      assertThat(hostSum.getParentSpanContext().isRemote()).isTrue();
      assertThat(hostSum.getAttributes().get(AttributeKey.booleanKey("goplugin4j.brokered")))
          .isTrue();
      assertThat(seenByAdder.get()).isEqualTo(hostSum.getSpanContext());
    }
    // the client's own calls (health, broker, stdio, controller) make no Java spans
    assertThat(OTEL.getSpans()).extracting(SpanData::getName)
        .allMatch(n -> Map.of("request", 1, "proto.Counter/Put", 1, "proto.Counter/Get", 1,
            "proto.AddHelper/Sum", 1).containsKey(n));
    leaks.assertNoneWithin(Duration.ofSeconds(10));
  }

  @Test
  void aJavaPluginBuiltWithTheSdkContinuesTheTraceThroughTheBrokerBackIntoTheHost()
      throws Exception {
    javaPluginContinuesTheTrace(false);
  }

  @Test
  void aJavaPluginBuiltWithTheSdkContinuesTheTraceOverTheMultiplexedBrokerToo() throws Exception {
    javaPluginContinuesTheTrace(true);
  }

  private void javaPluginContinuesTheTrace(boolean multiplex) throws Exception {
    PluginTracing tracing = new PluginTracing(OTEL.getOpenTelemetry());
    Sink sink = new Sink();
    AtomicReference<SpanContext> seenByAdder = new AtomicReference<>();
    Leaks leaks = Leaks.snapshot("goplugin4j-");
    Span request = OTEL.getOpenTelemetry().getTracer("test").spanBuilder("request").startSpan();
    String trace = request.getSpanContext().getTraceId();
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    try (PluginClient client = tracing.instrument(PluginClient.builder())
        .handshake(ExampleHandshake.PROTOCOL_VERSION, ExampleHandshake.MAGIC_COOKIE_KEY,
            ExampleHandshake.MAGIC_COOKIE_VALUE)
        .command(java, "-cp", System.getProperty("java.class.path"),
            "-Dslf4j.provider=dev.goplugin4j.server.internal.log.HclogServiceProvider",
            TracedJavaCounterPlugin.class.getName())
        .multiplexBroker(multiplex)
        .unixSocketTempDir(sockets)
        .startTimeout(Duration.ofSeconds(GoPeers.inCi() ? 60 : 30))
        .plugin("counter", new CounterPlugin())
        .stderr(sink)
        .syncStderr(sink)
        .build()) {
      Counter counter = client.dispense("counter", Counter.class);
      try (Scope ignored = request.makeCurrent()) {
        counter.put("k", 5, (a, b) -> {
          seenByAdder.set(Span.current().getSpanContext());
          return a + b;
        });
      } finally {
        request.end();
      }
      assertThat(counter.get("k")).isEqualTo(5);

      // host: request -> CLIENT proto.Counter/Put
      SpanData hostPut = javaSpan("proto.Counter/Put", SpanKind.CLIENT);
      assertThat(hostPut.getTraceId()).isEqualTo(trace);
      assertThat(hostPut.getParentSpanId()).isEqualTo(request.getSpanContext().getSpanId());
      // plugin (SDK, ServeConfig.interceptors): SERVER proto.Counter/Put under the host's span
      GoSpan pluginPut = goSpan(sink, "proto.Counter/Put", "server");
      assertThat(pluginPut.trace()).isEqualTo(trace);
      assertThat(pluginPut.parent()).isEqualTo(hostPut.getSpanId());
      // plugin (SDK, ServeConfig.clientInterceptors): CLIENT proto.AddHelper/Sum over the broker
      GoSpan pluginSum = goSpan(sink, "proto.AddHelper/Sum", "client");
      assertThat(pluginSum.trace()).isEqualTo(trace);
      assertThat(pluginSum.parent()).isEqualTo(pluginPut.span());
      // host: SERVER proto.AddHelper/Sum under the plugin's client span, current in the adder
      SpanData hostSum = javaSpan("proto.AddHelper/Sum", SpanKind.SERVER);
      assertThat(hostSum.getTraceId()).isEqualTo(trace);
      assertThat(hostSum.getParentSpanId()).isEqualTo(pluginSum.span());
      assertThat(hostSum.getParentSpanContext().isRemote()).isTrue();
      assertThat(seenByAdder.get()).isEqualTo(hostSum.getSpanContext());
      // the SDK's own services (broker, stdio, controller, health) make no plugin spans
      assertThat(goSpans(sink)).extracting(GoSpan::name)
          .allMatch(n -> n.startsWith("proto.Counter/") || n.equals("proto.AddHelper/Sum"));
    }
    leaks.assertNoneWithin(Duration.ofSeconds(10));
  }
}
