package dev.goplugin4j.opentelemetry;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.goplugin4j.interop.proto.kv.GetRequest;
import dev.goplugin4j.interop.proto.kv.GetResponse;
import dev.goplugin4j.interop.proto.kv.KVGrpc;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.context.Scope;
import io.opentelemetry.sdk.testing.junit5.OpenTelemetryExtension;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@link PluginTracing} in one JVM, over an in-process gRPC transport: the client side injects
 * W3C trace context, the server side extracts it, and the service runs in the server span.
 */
@SuppressWarnings("try")
class PluginTracingTest {
  @RegisterExtension static final OpenTelemetryExtension OTEL = OpenTelemetryExtension.create();

  private final AtomicReference<SpanContext> seenByService = new AtomicReference<>();
  private Server server;
  private ManagedChannel channel;

  @BeforeEach
  void startServer() throws Exception {
    PluginTracing tracing = new PluginTracing(OTEL.getOpenTelemetry());
    String name = InProcessServerBuilder.generateName();
    KVGrpc.KVImplBase kv = new KVGrpc.KVImplBase() {
      @Override
      public void get(GetRequest request, StreamObserver<GetResponse> response) {
        seenByService.set(Span.current().getSpanContext());
        if (request.getKey().equals("missing")) {
          response.onError(io.grpc.Status.NOT_FOUND.withDescription("no such key").asRuntimeException());
          return;
        }
        response.onNext(GetResponse.newBuilder().setValue(ByteString.copyFromUtf8("v")).build());
        response.onCompleted();
      }
    };
    server = InProcessServerBuilder.forName(name).directExecutor()
        .addService(ServerInterceptors.intercept(kv, tracing)).build().start();
    channel = InProcessChannelBuilder.forName(name).directExecutor().intercept(tracing).build();
  }

  @AfterEach
  void stop() throws Exception {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }

  @Test
  void aCallMakesAClientSpanUnderTheCurrentSpanAndAServerSpanUnderTheClientSpanInOneTrace() {
    Span request = OTEL.getOpenTelemetry().getTracer("test").spanBuilder("request").startSpan();
    try (Scope ignored = request.makeCurrent()) {
      KVGrpc.newBlockingStub(channel).get(GetRequest.newBuilder().setKey("k").build());
    } finally {
      request.end();
    }
    List<SpanData> spans = OTEL.getSpans();
    SpanData client = only(spans, SpanKind.CLIENT);
    SpanData server = only(spans, SpanKind.SERVER);
    assertThat(spans).extracting(SpanData::getTraceId).containsOnly(request.getSpanContext().getTraceId());
    assertThat(client.getParentSpanId()).isEqualTo(request.getSpanContext().getSpanId());
    assertThat(server.getParentSpanId()).isEqualTo(client.getSpanId());
    assertThat(server.getParentSpanContext().isRemote()).isTrue();
    assertThat(seenByService.get()).isEqualTo(server.getSpanContext());
    assertThat(client.getName()).isEqualTo("proto.KV/Get");
    assertThat(client.getAttributes().asMap()).containsEntry(
        io.opentelemetry.api.common.AttributeKey.stringKey("rpc.service"), "proto.KV");
    assertThat(client.getStatus().getStatusCode()).isEqualTo(StatusCode.UNSET);
  }

  @Test
  void aFailedCallEndsBothSpansWithError() {
    try {
      KVGrpc.newBlockingStub(channel).get(GetRequest.newBuilder().setKey("missing").build());
    } catch (StatusRuntimeException expected) {
      // NOT_FOUND
    }
    List<SpanData> spans = OTEL.getSpans();
    assertThat(spans).hasSize(2).allSatisfy(s -> {
      assertThat(s.getStatus().getStatusCode()).isEqualTo(StatusCode.ERROR);
      assertThat(s.getStatus().getDescription()).startsWith("NOT_FOUND");
    });
    assertThat(only(spans, SpanKind.SERVER).getParentSpanId())
        .isEqualTo(only(spans, SpanKind.CLIENT).getSpanId());
  }

  private static SpanData only(List<SpanData> spans, SpanKind kind) {
    List<SpanData> of = spans.stream().filter(s -> s.getKind() == kind).toList();
    assertThat(of).as(kind + " spans in " + spans).hasSize(1);
    return of.get(0);
  }
}
