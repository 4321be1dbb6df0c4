package dev.goplugin4j.cli.docs;

import com.google.protobuf.ByteString;
import dev.goplugin4j.container.ContainerConfig;
import dev.goplugin4j.host.PluginClient;
import dev.goplugin4j.interop.proto.kv.GetRequest;
import dev.goplugin4j.interop.proto.kv.KVGrpc;
import dev.goplugin4j.interop.proto.kv.PutRequest;

/** The same host, with the plugin in a gVisor container instead of a child process. */
public final class SandboxedKvHost {
  private SandboxedKvHost() {}

  /** Usage: {@code SandboxedKvHost <image> <image ID>}, e.g. {@code kv-plugin sha256:3bf0…}. */
  public static void main(String[] args) {
    ContainerConfig sandbox = ContainerConfig.builder()
        .image(args[0])                 // a local image; the runner never pulls
        .sha256(args[1])                // pin the image ID (docker images --no-trunc)
        .runtime("runsc")               // gVisor; "runc" or "" for the engine's default
        .disableNetwork(true)
        .memory(64L << 20)              // 64 MiB
        .nanoCpus(500_000_000L)         // half a CPU
        .build();                       // plus the defaults: read-only root, no capabilities,
                                        // no-new-privileges, 256 pids, owner labels
    try (PluginClient client = PluginClient.builder()
        .handshake(1, "BASIC_PLUGIN", "hello")
        .plugin("kv", (channel, broker) -> KVGrpc.newBlockingStub(channel))
        .runner(sandbox)                // instead of .command(...)
        .build()) {
      KVGrpc.KVBlockingStub kv = client.dispense("kv", KVGrpc.KVBlockingStub.class);
      kv.put(PutRequest.newBuilder().setKey("hello")
          .setValue(ByteString.copyFromUtf8("sandboxed")).build());
      System.out.println("hello = " + kv.get(GetRequest.newBuilder().setKey("hello").build())
          .getValue().toStringUtf8());
    }                                   // stops and removes the container
  }
}
