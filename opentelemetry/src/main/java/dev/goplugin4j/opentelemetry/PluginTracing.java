package dev.goplugin4j.opentelemetry;

import dev.goplugin4j.host.PluginChannel;
import dev.goplugin4j.host.PluginClient;
import dev.goplugin4j.host.PluginClientDefaults;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.Contexts;
import io.grpc.ForwardingClientCall.SimpleForwardingClientCall;
import io.grpc.ForwardingClientCallListener.SimpleForwardingClientCallListener;
import io.grpc.ForwardingServerCall.SimpleForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.context.propagation.TextMapPropagator;
import io.opentelemetry.context.propagation.TextMapSetter;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * OpenTelemetry tracing of the calls between a host and its plugins. As a gRPC {@link
 * ClientInterceptor} on every channel to a plugin (the main one and each brokered one), it starts
 * a {@link SpanKind#CLIENT} span per call, a child of the caller's current span, and injects its
 * context into the call's metadata with the configured propagator (W3C {@code traceparent} and
 * {@code tracestate} with {@link io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator});
 * a plugin instrumented for OpenTelemetry (in Go, with {@code otelgrpc}) continues the trace. As a
 * {@link ServerInterceptor} on the servers the host serves through the broker, it extracts the
 * context the plugin sends with its calls back into the host and runs the service in a {@link
 * SpanKind#SERVER} span, child of the plugin's span, made current for the service's code (in both
 * the OpenTelemetry and the gRPC context). So one trace runs host, plugin, broker, host.
 *
 * <pre>{@code
 * PluginTracing tracing = new PluginTracing(openTelemetry);
 * PluginClient kv = tracing.instrument(PluginClient.builder())
 *     .handshake(1, "BASIC_PLUGIN", "hello")
 *     .plugin("kv", new KvPlugin())
 *     .command("./kv-plugin")
 *     .build();
 * }</pre>
 *
 * <p><b>In a Java plugin.</b> The same object continues the trace in a plugin written with the
 * plugin SDK ({@code goplugin4j-server}): register it as the plugin's server interceptor (the
 * host's calls) and client interceptor (the plugin's calls back through the broker):
 *
 * <pre>{@code
 * PluginServer.serveAndExit(ServeConfig.builder()
 *     .handshake(1, "BASIC_PLUGIN", "hello")
 *     .plugin("kv", (services, broker) -> services.addService(new KvService()))
 *     .interceptors(tracing)
 *     .clientInterceptors(tracing)
 *     .build());
 * }</pre>
 *
 * <p>There the spans carry no {@code goplugin4j.*} attributes (the plugin side has no {@link
 * PluginChannel}).
 *
 * <p><b>Spans.</b> Named {@code <service>/<method>} (as OpenTelemetry's RPC conventions), with
 * {@code rpc.system} {@code grpc}, {@code rpc.service}, {@code rpc.method}, {@code
 * rpc.grpc.status_code}, and {@code goplugin4j.plugin}, {@code goplugin4j.runner} and {@code
 * goplugin4j.brokered} from the call's {@link PluginChannel}. A call that ends with a status other
 * than OK ends its span with {@link StatusCode#ERROR}. The client's own calls (health check,
 * go-plugin's broker, stdio and controller streams) get no span and carry no context: they are
 * the client's machinery and the streams last as long as the plugin.
 *
 * <p><b>Propagation.</b> The propagator is {@link OpenTelemetry#getPropagators()}'s text map
 * propagator; configure the SDK with the W3C trace-context propagator (the SDK's default with
 * autoconfiguration) for go-plugin plugins, whose {@code otelgrpc} reads W3C headers by default.
 *
 * <p>Thread-safe: one instance serves any number of clients and threads.
 */
@SuppressWarnings("try") // scopes are held for their side effect, not read
public final class PluginTracing implements ClientInterceptor, ServerInterceptor {
  /** The instrumentation scope name of the tracer. */
  public static final String INSTRUMENTATION_NAME = "dev.goplugin4j.opentelemetry";

  private static final AttributeKey<String> RPC_SYSTEM = AttributeKey.stringKey("rpc.system");
  private static final AttributeKey<String> RPC_SERVICE = AttributeKey.stringKey("rpc.service");
  private static final AttributeKey<String> RPC_METHOD = AttributeKey.stringKey("rpc.method");
  private static final AttributeKey<Long> RPC_STATUS =
      AttributeKey.longKey("rpc.grpc.status_code");
  private static final AttributeKey<String> PLUGIN = AttributeKey.stringKey("goplugin4j.plugin");
  private static final AttributeKey<String> RUNNER = AttributeKey.stringKey("goplugin4j.runner");
  private static final AttributeKey<Boolean> BROKERED =
      AttributeKey.booleanKey("goplugin4j.brokered");

  /** go-plugin's own services and the health service: the client's machinery. */
  private static final Set<String> INTERNAL_SERVICES = Set.of(
      "plugin.GRPCBroker", "plugin.GRPCStdio", "plugin.GRPCController", "grpc.health.v1.Health");

  private static final TextMapSetter<Metadata> SETTER =
      (carrier, key, value) -> carrier.put(Metadata.Key.of(key, Metadata.ASCII_STRING_MARSHALLER), value);

  private static final TextMapGetter<Metadata> GETTER = new TextMapGetter<>() {
    @Override
    @SuppressWarnings("deprecation") // still abstract in the API; deprecated for getAll's sake
    public Iterable<String> keys(Metadata carrier) {
      return carrier.keys();
    }

    @Override
    public String get(Metadata carrier, String key) {
      if (carrier == null || key.endsWith(Metadata.BINARY_HEADER_SUFFIX)) {
        return null;
      }
      return carrier.get(Metadata.Key.of(key, Metadata.ASCII_STRING_MARSHALLER));
    }
  };

  private final Tracer tracer;
  private final TextMapPropagator propagator;

  /**
   * Tracing with the tracer and propagator of {@code openTelemetry}.
   *
   * @param openTelemetry the application's OpenTelemetry (SDK or {@link
   *     OpenTelemetry#noop()}); not null
   */
  public PluginTracing(OpenTelemetry openTelemetry) {
    Objects.requireNonNull(openTelemetry, "openTelemetry");
    this.tracer = openTelemetry.getTracer(INSTRUMENTATION_NAME);
    this.propagator = openTelemetry.getPropagators().getTextMapPropagator();
  }

  /**
   * Registers this object on a client builder: as a client interceptor on every channel and as
   * a server interceptor on the host's brokered servers.
   *
   * @param builder not null
   * @return the same builder
   */
  public PluginClient.Builder instrument(PluginClient.Builder builder) {
    return builder.interceptors(this).serverInterceptors(this);
  }

  /**
   * The given defaults plus this object, as {@link #instrument(PluginClient.Builder)} registers
   * it.
   *
   * @param defaults not null
   * @return new defaults; {@code defaults} is unchanged
   */
  public PluginClientDefaults instrument(PluginClientDefaults defaults) {
    return defaults.withInterceptors(this).withServerInterceptors(this);
  }

  /** Starts a client span for the call and injects its context into the call's headers. */
  @Override
  public <Q, A> ClientCall<Q, A> interceptCall(
      MethodDescriptor<Q, A> method, CallOptions options, Channel next) {
    if (INTERNAL_SERVICES.contains(method.getServiceName())) {
      return next.newCall(method, options);
    }
    Context parent = Context.current();
    Span span = startSpan(method, SpanKind.CLIENT, parent,
        Optional.ofNullable(options.getOption(PluginChannel.CALL_OPTION)));
    Context context = parent.with(span);
    ClientCall<Q, A> call;
    try (Scope ignored = context.makeCurrent()) {
      call = next.newCall(method, options);
    } catch (RuntimeException | Error e) {
      span.recordException(e);
      span.setStatus(StatusCode.ERROR);
      span.end();
      throw e;
    }
    return new SimpleForwardingClientCall<>(call) {
      @Override
      public void start(Listener<A> listener, Metadata headers) {
        propagator.inject(context, headers, SETTER);
        try {
          super.start(new SimpleForwardingClientCallListener<>(listener) {
            @Override
            public void onClose(Status status, Metadata trailers) {
              end(span, status);
              super.onClose(status, trailers);
            }
          }, headers);
        } catch (RuntimeException | Error e) {
          span.recordException(e);
          span.setStatus(StatusCode.ERROR);
          span.end();
          throw e;
        }
      }

      @Override
      public void cancel(String message, Throwable cause) {
        // onClose follows with CANCELLED and ends the span
        super.cancel(message, cause);
      }
    };
  }

  /**
   * Extracts the caller's context from the headers and serves the call in a server span made
   * current for the service.
   */
  @Override
  public <Q, A> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, A> call, Metadata headers, ServerCallHandler<Q, A> next) {
    MethodDescriptor<Q, A> method = call.getMethodDescriptor();
    Context parent = propagator.extract(Context.root(), headers, GETTER);
    Span span = startSpan(method, SpanKind.SERVER, parent, PluginChannel.current());
    Context otel = parent.with(span);
    // the OpenTelemetry context travels in the gRPC context, so it is current in every callback
    io.grpc.Context grpc = io.grpc.Context.current().withValue(OTEL_CONTEXT, otel);
    ServerCall<Q, A> traced = new SimpleForwardingServerCall<>(call) {
      @Override
      public void close(Status status, Metadata trailers) {
        end(span, status);
        super.close(status, trailers);
      }
    };
    ServerCall.Listener<Q> listener;
    try (Scope ignored = otel.makeCurrent()) {
      listener = Contexts.interceptCall(grpc, traced, headers, next);
    }
    return new io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener<>(listener) {
      @Override
      public void onMessage(Q message) {
        try (Scope ignored = otel.makeCurrent()) {
          super.onMessage(message);
        }
      }

      @Override
      public void onHalfClose() {
        try (Scope ignored = otel.makeCurrent()) {
          super.onHalfClose();
        }
      }

      @Override
      public void onCancel() {
        try (Scope ignored = otel.makeCurrent()) {
          super.onCancel();
        }
      }

      @Override
      public void onComplete() {
        try (Scope ignored = otel.makeCurrent()) {
          super.onComplete();
        }
      }

      @Override
      public void onReady() {
        try (Scope ignored = otel.makeCurrent()) {
          super.onReady();
        }
      }
    };
  }

  /** The OpenTelemetry context of a traced server call, in the gRPC context. */
  private static final io.grpc.Context.Key<Context> OTEL_CONTEXT =
      io.grpc.Context.key("goplugin4j.opentelemetry-context");

  private Span startSpan(MethodDescriptor<?, ?> method, SpanKind kind, Context parent,
      Optional<PluginChannel> channel) {
    String service = method.getServiceName();
    String fullName = method.getFullMethodName();
    var b = tracer.spanBuilder(fullName)
        .setSpanKind(kind)
        .setParent(parent)
        .setAttribute(RPC_SYSTEM, "grpc")
        .setAttribute(RPC_METHOD, service == null ? fullName
            : fullName.substring(Math.min(fullName.length(), service.length() + 1)));
    if (service != null) {
      b.setAttribute(RPC_SERVICE, service);
    }
    channel.ifPresent(c -> b.setAttribute(PLUGIN, c.pluginName())
        .setAttribute(RUNNER, c.runnerKind())
        .setAttribute(BROKERED, c.brokered()));
    return b.startSpan();
  }

  private static void end(Span span, Status status) {
    span.setAttribute(RPC_STATUS, (long) status.getCode().value());
    if (!status.isOk()) {
      span.setStatus(StatusCode.ERROR, status.getCode().name()
          + (status.getDescription() == null ? "" : ": " + status.getDescription()));
    }
    span.end();
  }

  @Override
  public String toString() {
    return "PluginTracing[" + tracer + "]";
  }
}
