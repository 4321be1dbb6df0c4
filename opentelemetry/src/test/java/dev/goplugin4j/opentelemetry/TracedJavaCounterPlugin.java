package dev.goplugin4j.opentelemetry;

import dev.goplugin4j.interop.ExampleHandshake;
import dev.goplugin4j.interop.proto.counter.AddHelperGrpc;
import dev.goplugin4j.interop.proto.counter.CounterGrpc;
import dev.goplugin4j.interop.proto.counter.Empty;
import dev.goplugin4j.interop.proto.counter.GetRequest;
import dev.goplugin4j.interop.proto.counter.GetResponse;
import dev.goplugin4j.interop.proto.counter.PutRequest;
import dev.goplugin4j.interop.proto.counter.SumRequest;
import dev.goplugin4j.protocol.GrpcBroker;
import dev.goplugin4j.server.PluginServer;
import dev.goplugin4j.server.ServeConfig;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.trace.ReadWriteSpan;
import io.opentelemetry.sdk.trace.ReadableSpan;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.SpanProcessor;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * A Java plugin built with the plugin SDK and traced with {@link PluginTracing}: go-plugin's
 * bidirectional Counter (Put asks the host's AddHelper, on the broker id the call names, for the
 * sum). Every span it ends is printed to the process's stderr as {@code goplugin4j-span name=N
 * kind=K trace=T span=S parent=P}, the lines testkit's Go {@code otel-counter} prints, so the
 * host's test reads both the same way. Run as a subprocess by {@link PluginTracingIT}.
 */
final class TracedJavaCounterPlugin extends CounterGrpc.CounterImplBase {
  private final GrpcBroker broker;
  private final Map<String, Long> counts = new ConcurrentHashMap<>();

  private TracedJavaCounterPlugin(GrpcBroker broker) {
    this.broker = broker;
  }

  /**
   * Serves the plugin until the host is done with it.
   *
   * @param args ignored
   */
  public static void main(String[] args) {
    // the real stderr, before the SDK redirects System.err to the host's stdio stream
    PrintStream stderr = new PrintStream(new FileOutputStream(FileDescriptor.err), true,
        StandardCharsets.UTF_8);
    OpenTelemetrySdk otel = OpenTelemetrySdk.builder()
        .setTracerProvider(SdkTracerProvider.builder().addSpanProcessor(printer(stderr)).build())
        .setPropagators(ContextPropagators.create(W3CTraceContextPropagator.getInstance()))
        .build();
    PluginTracing tracing = new PluginTracing(otel);
    PluginServer.serveAndExit(ServeConfig.builder()
        .handshake(ExampleHandshake.PROTOCOL_VERSION, ExampleHandshake.MAGIC_COOKIE_KEY,
            ExampleHandshake.MAGIC_COOKIE_VALUE)
        .plugin("counter", (services, broker) ->
            services.addService(new TracedJavaCounterPlugin(broker)))
        .interceptors(tracing)
        .clientInterceptors(tracing)
        .build());
  }

  private static SpanProcessor printer(PrintStream out) {
    return new SpanProcessor() {
      @Override
      public void onStart(Context parentContext, ReadWriteSpan span) {}

      @Override
      public boolean isStartRequired() {
        return false;
      }

      @Override
      public void onEnd(ReadableSpan span) {
        SpanData d = span.toSpanData();
        out.println("goplugin4j-span name=" + d.getName() + " kind="
            + d.getKind().name().toLowerCase(Locale.ROOT) + " trace=" + d.getTraceId() + " span="
            + d.getSpanId() + " parent=" + d.getParentSpanId());
      }

      @Override
      public boolean isEndRequired() {
        return true;
      }

      @Override
      public CompletableResultCode shutdown() {
        return CompletableResultCode.ofSuccess();
      }
    };
  }

  @Override
  public void put(PutRequest request, StreamObserver<Empty> responses) {
    long current = counts.getOrDefault(request.getKey(), 0L);
    ManagedChannel host = broker.dial(request.getAddServer());
    try {
      long sum = AddHelperGrpc.newBlockingStub(host).withDeadlineAfter(30, TimeUnit.SECONDS)
          .sum(SumRequest.newBuilder().setA(current).setB(request.getValue()).build())
          .getR();
      counts.put(request.getKey(), sum);
      responses.onNext(Empty.getDefaultInstance());
      responses.onCompleted();
    } catch (StatusRuntimeException e) {
      responses.onError(e);
    } finally {
      host.shutdownNow();
    }
  }

  @Override
  public void get(GetRequest request, StreamObserver<GetResponse> responses) {
    Long value = counts.get(request.getKey());
    if (value == null) {
      responses.onError(Status.NOT_FOUND.withDescription("no count for " + request.getKey())
          .asRuntimeException());
      return;
    }
    responses.onNext(GetResponse.newBuilder().setValue(value).build());
    responses.onCompleted();
  }
}
