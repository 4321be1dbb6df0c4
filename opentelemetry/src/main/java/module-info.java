/**
 * OpenTelemetry tracing for goplugin4j hosts: {@link dev.goplugin4j.opentelemetry.PluginTracing}
 * puts the W3C trace context of the current span into every call to a plugin (main and brokered
 * channels) and continues the trace of the plugin's calls back into the host's brokered servers.
 * In a Java plugin it is the plugin SDK's server and client interceptor, so the plugin continues
 * the trace too.
 */
module dev.goplugin4j.opentelemetry {
  requires transitive dev.goplugin4j.host;
  requires transitive io.opentelemetry.api;
  requires transitive io.opentelemetry.context;

  exports dev.goplugin4j.opentelemetry;
}
