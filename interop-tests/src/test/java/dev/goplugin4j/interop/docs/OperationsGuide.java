package dev.goplugin4j.interop.docs;

import dev.goplugin4j.host.PluginClient;
import dev.goplugin4j.host.PluginClientDefaults;
import dev.goplugin4j.host.PluginEvent;
import dev.goplugin4j.host.PluginListener;
import dev.goplugin4j.host.PluginRestartingException;
import dev.goplugin4j.host.PluginSupervisor;
import dev.goplugin4j.interop.Kv;
import dev.goplugin4j.interop.KvPlugin;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The code of docs/operations.md: every Java block there is an excerpt of this file. */
final class OperationsGuide {
  private static final Logger log = LoggerFactory.getLogger(OperationsGuide.class);

  private OperationsGuide() {}

  static PluginListener crashLogger() {
    PluginListener listener = event -> {
      if (event instanceof PluginEvent.Started started) {
        log.info("plugin {} started as {} in {} ms", started.source().name(),
            started.runnerId(), started.total().toMillis());
      } else if (event instanceof PluginEvent.Exited exited && !exited.requested()) {
        log.warn("plugin {} stopped by itself: status {} {}", exited.source().name(),
            exited.status(), exited.hint());
      } else if (event instanceof PluginEvent.Stderr line) {
        log.info("plugin {} says: {}", line.source().name(), line.message());
      }
    };
    return listener;
  }

  static PluginClient clientWithListener(PluginListener listener) {
    PluginClient client = PluginClient.builder()
        .handshake(1, "BASIC_PLUGIN", "hello")
        .plugin("kv", new KvPlugin())
        .command("./kv-plugin")
        .listener(listener)
        .build();
    return client;
  }

  static PluginClient clientFromDefaults(PluginListener metrics, PluginListener audit) {
    PluginClientDefaults defaults = PluginClientDefaults.of(metrics, audit);
    PluginClient kv = defaults.builder()
        .handshake(1, "BASIC_PLUGIN", "hello")
        .plugin("kv", new KvPlugin())
        .command("./kv-plugin")
        .build();
    return kv;
  }

  static void supervise() {
    try (PluginSupervisor supervisor = PluginSupervisor.builder()
        .plugin("kv", () -> PluginClient.builder()
            .handshake(1, "BASIC_PLUGIN", "hello")
            .plugin("kv", new KvPlugin())
            .command("./kv-plugin"))
        .restartBackoff(Duration.ofMillis(200), Duration.ofSeconds(30))
        .giveUpAfter(5, Duration.ofMinutes(5))
        .healthCheckInterval(Duration.ofSeconds(10))
        .listener(event -> log.info("supervisor: {}", event))
        .build()) {
      supervisor.start();
      byte[] value = supervisor.call("kv", client ->
          client.dispense("kv", Kv.class).get("hello"));
      log.info("hello = {}", new String(value, StandardCharsets.UTF_8));
    }
  }

  static byte[] callDuringRestart(PluginSupervisor supervisor) {
    try {
      return supervisor.call("kv", client -> client.dispense("kv", Kv.class).get("hello"));
    } catch (PluginRestartingException restarting) {
      // or wait for the restart, up to a deadline of your choice:
      return supervisor.call("kv", Duration.ofSeconds(5),
          client -> client.dispense("kv", Kv.class).get("hello"));
    }
  }

  static void upgrade(PluginSupervisor supervisor) {
    supervisor.upgrade("kv", () -> PluginClient.builder()
        .handshake(1, "BASIC_PLUGIN", "hello")
        .plugin("kv", new KvPlugin())
        .command("./kv-plugin-v2"));
  }
}
