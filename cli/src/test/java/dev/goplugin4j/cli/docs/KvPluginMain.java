package dev.goplugin4j.cli.docs;

import com.google.protobuf.ByteString;
import dev.goplugin4j.interop.proto.kv.Empty;
import dev.goplugin4j.interop.proto.kv.GetRequest;
import dev.goplugin4j.interop.proto.kv.GetResponse;
import dev.goplugin4j.interop.proto.kv.KVGrpc;
import dev.goplugin4j.interop.proto.kv.PutRequest;
import dev.goplugin4j.server.PluginServer;
import dev.goplugin4j.server.ServeConfig;
import io.grpc.stub.StreamObserver;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** A KV plugin in Java that go-plugin's own Go host (examples/grpc) loads unchanged. */
public final class KvPluginMain {
  private KvPluginMain() {}

  /** The service: go-plugin's kv.proto, implemented in memory. */
  static final class KvService extends KVGrpc.KVImplBase {
    private final Map<String, ByteString> store = new ConcurrentHashMap<>();

    @Override
    public void put(PutRequest request, StreamObserver<Empty> response) {
      store.put(request.getKey(), request.getValue());
      response.onNext(Empty.getDefaultInstance());
      response.onCompleted();
    }

    @Override
    public void get(GetRequest request, StreamObserver<GetResponse> response) {
      response.onNext(GetResponse.newBuilder()
          .setValue(store.getOrDefault(request.getKey(), ByteString.EMPTY)).build());
      response.onCompleted();
    }
  }

  /** Started by a host, never by hand: it refuses to run without the magic cookie. */
  public static void main(String[] args) {
    PluginServer.serveAndExit(ServeConfig.builder()
        .handshake(1, "BASIC_PLUGIN", "hello")
        .plugin("kv", (services, broker) -> services.addService(new KvService()))
        .build());
  }
}
