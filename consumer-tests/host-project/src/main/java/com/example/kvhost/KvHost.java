package com.example.kvhost;

import com.example.kv.proto.GetRequest;
import com.example.kv.proto.KVGrpc;
import com.example.kv.proto.PutRequest;
import com.google.protobuf.ByteString;
import dev.goplugin4j.host.PluginClient;

/** The host project of docs/maven.md: runs a KV plugin, puts a value and reads it back. */
public final class KvHost {
  private KvHost() {}

  /** Usage: {@code KvHost <plugin executable>}. */
  public static void main(String[] args) {
    try (PluginClient client = PluginClient.builder()
        .handshake(1, "BASIC_PLUGIN", "hello")
        .plugin("kv", (channel, broker) -> KVGrpc.newBlockingStub(channel))
        .command(args[0])
        .build()) {
      KVGrpc.KVBlockingStub kv = client.dispense("kv", KVGrpc.KVBlockingStub.class);
      kv.put(PutRequest.newBuilder().setKey("hello").setValue(ByteString.copyFromUtf8("world")).build());
      System.out.println(kv.get(GetRequest.newBuilder().setKey("hello").build()).getValue().toStringUtf8());
    }
  }
}
