/**
 * Micrometer metrics for goplugin4j hosts: {@link dev.goplugin4j.micrometer.PluginMetrics}
 * records live plugins, starts, exits, start-phase times, RPC latency by method and status,
 * brokered channels, the plugin's calls back into the host and supervisor restarts into a {@code
 * MeterRegistry}.
 */
module dev.goplugin4j.micrometer {
  requires transitive dev.goplugin4j.host;
  requires transitive micrometer.core;

  exports dev.goplugin4j.micrometer;
}
