package dev.goplugin4j.cli.docs;

import com.google.protobuf.ByteString;
import dev.goplugin4j.host.PluginClient;
import dev.goplugin4j.interop.proto.kv.GetRequest;
import dev.goplugin4j.interop.proto.kv.KVGrpc;
import dev.goplugin4j.interop.proto.kv.PutRequest;

/** A host that runs go-plugin's KV example plugin (examples/grpc) as a child process. */
public final class KvHost {
  private KvHost() {}

  /** Usage: {@code KvHost <path to the kv plugin executable>}. */
  public static void main(String[] args) {
    try (PluginClient client = PluginClient.builder()
        .handshake(1, "BASIC_PLUGIN", "hello")          // must match the plugin's HandshakeConfig
        .plugin("kv", (channel, broker) -> KVGrpc.newBlockingStub(channel))
        .command(args[0])                                // the plugin executable
        .build()) {                                      // AutoMTLS is on by default
      KVGrpc.KVBlockingStub kv = client.dispense("kv", KVGrpc.KVBlockingStub.class);
      kv.put(PutRequest.newBuilder().setKey("hello")
          .setValue(ByteString.copyFromUtf8("world")).build());
      String value = kv.get(GetRequest.newBuilder().setKey("hello").build())
          .getValue().toStringUtf8();
      System.out.println("hello = " + value);
    }                                                    // asks the plugin to shut down
  }
}
