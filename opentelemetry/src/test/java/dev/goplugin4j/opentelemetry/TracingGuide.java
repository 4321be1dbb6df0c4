package dev.goplugin4j.opentelemetry;

import dev.goplugin4j.host.PluginClient;
import dev.goplugin4j.interop.KvPlugin;
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
}
