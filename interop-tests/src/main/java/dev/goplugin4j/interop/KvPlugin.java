package dev.goplugin4j.interop;

import com.google.protobuf.ByteString;
import dev.goplugin4j.host.GrpcPlugin;
import dev.goplugin4j.interop.proto.kv.GetRequest;
import dev.goplugin4j.interop.proto.kv.KVGrpc;
import dev.goplugin4j.interop.proto.kv.PutRequest;
import dev.goplugin4j.protocol.GrpcBroker;
import io.grpc.Channel;
import java.util.Objects;

/**
 * Host adapter for the {@code proto.KV} service of go-plugin's examples/grpc (the counterpart of
 * its {@code shared.KVGRPCPlugin.GRPCClient}). Stateless and thread-safe.
 */
public final class KvPlugin implements GrpcPlugin<Kv> {
  /** Creates the adapter. */
  public KvPlugin() {}

  @Override
  public Kv client(Channel channel, GrpcBroker broker) {
    return new Client(KVGrpc.newBlockingStub(channel));
  }

  private static final class Client implements Kv {
    private final KVGrpc.KVBlockingStub stub;

    Client(KVGrpc.KVBlockingStub stub) {
      this.stub = stub;
    }

    @Override
    public void put(String key, byte[] value) {
      Objects.requireNonNull(key, "key");
      Objects.requireNonNull(value, "value");
      stub.put(PutRequest.newBuilder().setKey(key).setValue(ByteString.copyFrom(value)).build());
    }

    @Override
    public byte[] get(String key) {
      Objects.requireNonNull(key, "key");
      return stub.get(GetRequest.newBuilder().setKey(key).build()).getValue().toByteArray();
    }
  }
}
