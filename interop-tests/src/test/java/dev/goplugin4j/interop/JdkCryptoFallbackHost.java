package dev.goplugin4j.interop;

import dev.goplugin4j.host.PluginClient;
import dev.goplugin4j.protocol.internal.tls.TlsCrypto;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * A host in its own JVM, for {@link JdkCryptoFallbackIT}: the AutoMTLS crypto path is chosen once
 * per JVM, so the fallback is exercised in a fresh one. Puts and gets a key through go-plugin's KV
 * example with AutoMTLS and prints {@code PATH=<crypto path>} and {@code VALUE=<value>}.
 */
public final class JdkCryptoFallbackHost {
  private JdkCryptoFallbackHost() {}

  /**
   * Entry point.
   *
   * @param args the KV plugin binary, the socket parent directory, the key to use
   * @throws Exception if the plugin cannot be started or called
   */
  public static void main(String[] args) throws Exception {
    Path plugin = Path.of(args[0]);
    try (PluginClient client = InteropSupport.exampleClient(plugin, Path.of(args[1]))
        .plugin("kv", new KvPlugin())
        .autoMtls(true)
        .build()) {
      Kv kv = client.dispense("kv", Kv.class);
      kv.put(args[2], "hello from Java".getBytes(StandardCharsets.UTF_8));
      String value = new String(kv.get(args[2]), StandardCharsets.UTF_8);
      System.out.println("PATH=" + TlsCrypto.get().path());
      System.out.println("VALUE=" + value.replace("\n", "\\n"));
    }
  }
}
