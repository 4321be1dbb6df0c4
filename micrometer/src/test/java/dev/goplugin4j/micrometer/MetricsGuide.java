package dev.goplugin4j.micrometer;

import dev.goplugin4j.host.PluginChannel;
import dev.goplugin4j.host.PluginClient;
import dev.goplugin4j.host.PluginClientDefaults;
import dev.goplugin4j.host.PluginListener;
import dev.goplugin4j.host.PluginSupervisor;
import dev.goplugin4j.interop.KvPlugin;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.MethodDescriptor;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The code of docs/operations.md's "Metrics" section: each of its Java blocks is an excerpt of
 * this file (interop-tests' OperationsDocTest checks it), so the snippets compile.
 */
final class MetricsGuide {
  private static final Logger log = LoggerFactory.getLogger(MetricsGuide.class);

  private MetricsGuide() {}

  static PluginClient instrumentedClient(MeterRegistry registry) {
    PluginMetrics metrics = new PluginMetrics(registry, Tags.of("app", "billing"));
    PluginClient kv = metrics.instrument(PluginClient.builder())
        .handshake(1, "BASIC_PLUGIN", "hello")
        .plugin("kv", new KvPlugin())
        .command("./kv-plugin")
        .build();
    return kv;
  }

  static PluginSupervisor supervised(PluginMetrics metrics, PluginListener audit) {
    PluginClientDefaults defaults = metrics.instrument(PluginClientDefaults.of(audit));
    PluginSupervisor supervisor = PluginSupervisor.builder()
        .plugin("kv", () -> defaults.builder()
            .handshake(1, "BASIC_PLUGIN", "hello")
            .plugin("kv", new KvPlugin())
            .command("./kv-plugin"))
        .listener(metrics)
        .build();
    return supervisor;
  }

  static PluginClient yamuxBytes(PluginMetrics metrics) {
    PluginClient kv = metrics.bindTransport(metrics.instrument(PluginClient.builder())
        .handshake(1, "BASIC_PLUGIN", "hello")
        .plugin("kv", new KvPlugin())
        .command("./kv-plugin")
        .multiplexBroker(true)
        .build());
    kv.transportStats().ifPresent(t -> log.info("{} bytes sent, {} received",
        t.bytesSent(), t.bytesReceived()));
    return kv;
  }

  static PluginClient.Builder ownInterceptor(PluginClient.Builder builder) {
    ClientInterceptor logCalls = new ClientInterceptor() {
      @Override
      public <Q, A> ClientCall<Q, A> interceptCall(
          MethodDescriptor<Q, A> method, CallOptions options, Channel next) {
        PluginChannel channel = PluginChannel.of(options).orElseThrow();
        log.debug("{} calls {} on its {} channel", channel.pluginName(),
            method.getFullMethodName(), channel.brokered() ? "brokered" : "main");
        return next.newCall(method, options);
      }
    };
    builder.interceptors(logCalls);
    return builder;
  }
}
