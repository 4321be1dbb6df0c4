package dev.goplugin4j.benchmarks;

import dev.goplugin4j.host.PluginClient;
import dev.goplugin4j.interop.ExampleHandshake;
import dev.goplugin4j.interop.Kv;
import dev.goplugin4j.interop.KvPlugin;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The first call of a process plugin as a user of a fresh JVM sees it: {@code main} builds a
 * client for go-plugin's examples/grpc KV plugin, starts it and does one {@code KV.Get}, then
 * prints one line {@code first_call_ms=<ms since main began> value=cold} and exits (the JVM's
 * own start is not in that figure; the launcher measures it). {@link FreshJvm} launches it in new JVMs (with and without a class-data archive) and
 * measures the wall time from the launch to that line.
 *
 * <p>Usage: {@code FreshFirstCall PLUGIN [mtls|plain]}; the working directory is the plugin's
 * (it reads {@code kv_coldstart} there, written here first).
 */
public final class FreshFirstCall {
  private FreshFirstCall() {}

  /**
   * Runs one first call.
   *
   * @param args the plugin's path, then {@code mtls} (default) or {@code plain}
   * @throws Exception if the call fails
   */
  public static void main(String[] args) throws Exception {
    long t0 = System.nanoTime();
    boolean mtls = args.length < 2 || !"plain".equals(args[1]);
    Files.writeString(Path.of("kv_coldstart"), "cold", StandardCharsets.UTF_8);
    byte[] value;
    try (PluginClient client = PluginClient.builder()
        .handshake(
            ExampleHandshake.PROTOCOL_VERSION,
            ExampleHandshake.MAGIC_COOKIE_KEY,
            ExampleHandshake.MAGIC_COOKIE_VALUE)
        .command(args[0])
        .plugin("kv", new KvPlugin())
        .autoMtls(mtls)
        .build()) {
      value = client.dispense("kv", Kv.class).get("coldstart");
      long t1 = System.nanoTime();
      System.out.println("first_call_ms=" + (t1 - t0) / 1e6
          + " value=" + new String(value, StandardCharsets.UTF_8));
      System.out.flush();
    }
  }
}
