package dev.goplugin4j.interop.docs;

import dev.goplugin4j.host.GrpcPlugin;
import dev.goplugin4j.host.PluginClient;
import dev.goplugin4j.interop.proto.kv.GetRequest;
import dev.goplugin4j.interop.proto.kv.KVGrpc;
import dev.goplugin4j.protocol.IncompatibleVersionException;
import java.nio.file.Path;
import java.util.Map;

/**
 * The Java blocks of docs/go-users.md, "Several protocol versions", as compiled code (checked by
 * {@link VersionsDocTest}). Not run: ProtocolVersionsIT runs the same against a Go plugin.
 */
final class VersionsGuide {
  private VersionsGuide() {}

  /** What the adapter makes: the version it was told and a stub. */
  record VersionedKv(int version, KVGrpc.KVBlockingStub stub) {}

  static PluginClient multiVersionHost(Path pluginExecutable) {
    GrpcPlugin<VersionedKv> kv = GrpcPlugin.versioned((channel, broker, version) ->
        new VersionedKv(version, KVGrpc.newBlockingStub(channel)));
    return PluginClient.builder()
        .handshake("BASIC_PLUGIN", "hello")  // the magic cookie only: the versions come next
        .plugins(5, Map.of("kv", kv))        // each version the host speaks, with its plugins
        .plugins(6, Map.of("kv", kv))        // (one adapter may serve several)
        .command(pluginExecutable.toString())
        .build();
  }

  static void use(Path pluginExecutable) {
    try (PluginClient client = multiVersionHost(pluginExecutable)) {
      VersionedKv kv = client.dispense("kv", VersionedKv.class);
      int negotiated = client.negotiatedVersion().orElseThrow(); // == kv.version()
      System.out.println("speaking version " + negotiated + ": "
          + kv.stub().get(GetRequest.newBuilder().setKey("greeting").build()).getValue());
    } catch (IncompatibleVersionException e) {
      // the plugin answered a version the host did not offer
      System.err.println("plugin speaks " + e.pluginVersion() + ", we speak " + e.hostVersions());
    }
  }
}
