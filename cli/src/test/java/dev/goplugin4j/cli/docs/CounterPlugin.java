package dev.goplugin4j.cli.docs;

import dev.goplugin4j.interop.proto.counter.AddHelperGrpc;
import dev.goplugin4j.interop.proto.counter.CounterGrpc;
import dev.goplugin4j.interop.proto.counter.Empty;
import dev.goplugin4j.interop.proto.counter.GetRequest;
import dev.goplugin4j.interop.proto.counter.GetResponse;
import dev.goplugin4j.interop.proto.counter.PutRequest;
import dev.goplugin4j.interop.proto.counter.SumRequest;
import dev.goplugin4j.protocol.GrpcBroker;
import dev.goplugin4j.server.PluginServer;
import dev.goplugin4j.server.ServeConfig;
import io.grpc.ManagedChannel;
import io.grpc.stub.StreamObserver;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** docs/plugin-sdk.md's "Callbacks through the broker": go-plugin's bidirectional Counter. */
public final class CounterPlugin {
  private CounterPlugin() {}

  public static void main(String[] args) {
    PluginServer.serveAndExit(ServeConfig.builder()
        .handshake(1, "BASIC_PLUGIN", "hello")
        .plugin("counter", (services, broker) -> services.addService(new CounterImpl(broker)))
        .build());
  }

  static final class CounterImpl extends CounterGrpc.CounterImplBase {
    private final GrpcBroker broker;
    private final Map<String, Long> counts = new ConcurrentHashMap<>();

    CounterImpl(GrpcBroker broker) {
      this.broker = broker;
    }

    @Override
    public void put(PutRequest req, StreamObserver<Empty> out) {
      ManagedChannel host = broker.dial(req.getAddServer());       // waits up to 5 s for the host
      try {
        long sum = AddHelperGrpc.newBlockingStub(host)
            .sum(SumRequest.newBuilder().setA(counts.getOrDefault(req.getKey(), 0L))
                .setB(req.getValue()).build())
            .getR();
        counts.put(req.getKey(), sum);
      } finally {
        host.shutdownNow();
      }
      out.onNext(Empty.getDefaultInstance());
      out.onCompleted();
    }

    @Override
    public void get(GetRequest req, StreamObserver<GetResponse> out) {
      out.onNext(GetResponse.newBuilder().setValue(counts.getOrDefault(req.getKey(), 0L)).build());
      out.onCompleted();
    }
  }
}
