package dev.goplugin4j.opentelemetry;

import dev.goplugin4j.host.PluginClient;
import dev.goplugin4j.interop.KvPlugin;
import dev.goplugin4j.interop.proto.kv.KVGrpc;
import dev.goplugin4j.server.PluginServer;
import dev.goplugin4j.server.ServeConfig;
import io.opentelemetry.api.OpenTelemetry;

/**
 * The code of docs/operations.md's "Tracing" section: each of its Java blocks is an excerpt of
 * this file (interop-tests' OperationsDocTest checks it), so the snippets compile.
 */
final class TracingGuide {
  private TracingGuide() {}

  static PluginClient tracedClient(OpenTelemetry openTelemetry) {
    PluginTracing tracing = new PluginTracing(openTelemetry);
    PluginClient kv = tracing.instrument(PluginClient.builder())
        .handshake(1, "BASIC_PLUGIN", "hello")
        .plugin("kv", new KvPlugin())
        .command("./kv-plugin")
        .build();
    return kv;
  }

  /** A plugin's service, for the SDK snippet. */
  static final class KvService extends KVGrpc.KVImplBase {}

  static void tracedPlugin(OpenTelemetry openTelemetry) {
    PluginTracing tracing = new PluginTracing(openTelemetry);
    PluginServer.serveAndExit(ServeConfig.builder()
        .handshake(1, "BASIC_PLUGIN", "hello")
        .plugin("kv", (services, broker) -> services.addService(new KvService()))
        .interceptors(tracing)          // the host's calls continue the host's trace
        .clientInterceptors(tracing)    // calls back through broker.dial(id) carry it on
        .build());
  }
}
