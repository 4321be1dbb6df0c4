package dev.goplugin4j.interop;

import dev.goplugin4j.host.GrpcPlugin;
import dev.goplugin4j.interop.proto.counter.AddHelperGrpc;
import dev.goplugin4j.interop.proto.counter.CounterGrpc;
import dev.goplugin4j.interop.proto.counter.GetRequest;
import dev.goplugin4j.interop.proto.counter.PutRequest;
import dev.goplugin4j.interop.proto.counter.SumRequest;
import dev.goplugin4j.interop.proto.counter.SumResponse;
import dev.goplugin4j.protocol.GrpcBroker;
import io.grpc.Channel;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.Objects;

/**
 * Host adapter for the {@code proto.Counter} service of go-plugin's examples/bidirectional, with
 * the host-side {@code proto.AddHelper} callback. Like the upstream Go host, each {@link
 * Counter#put} reserves a broker id ({@link GrpcBroker#nextId()}), serves the {@link AddHelper}
 * under it ({@link GrpcBroker#acceptAndServe}), sends the id in {@code PutRequest.add_server} (the
 * plugin dials it back) and stops serving when the call returns. Stateless and thread-safe.
 */
public final class CounterPlugin implements GrpcPlugin<Counter> {
  /** Creates the adapter. */
  public CounterPlugin() {}

  @Override
  public Counter client(Channel channel, GrpcBroker broker) {
    return new Client(CounterGrpc.newBlockingStub(channel), broker);
  }

  private static final class Client implements Counter {
    private final CounterGrpc.CounterBlockingStub stub;
    private final GrpcBroker broker;

    Client(CounterGrpc.CounterBlockingStub stub, GrpcBroker broker) {
      this.stub = stub;
      this.broker = broker;
    }

    @Override
    public void put(String key, long value, AddHelper adder) {
      Objects.requireNonNull(key, "key");
      Objects.requireNonNull(adder, "adder");
      int id = broker.nextId();
      try (GrpcBroker.BrokeredServer server =
          broker.acceptAndServe(id, List.of(new AddHelperService(adder)))) {
        stub.put(PutRequest.newBuilder().setAddServer(server.id()).setKey(key).setValue(value).build());
      }
    }

    @Override
    public long get(String key) {
      Objects.requireNonNull(key, "key");
      return stub.get(GetRequest.newBuilder().setKey(key).build()).getValue();
    }
  }

  private static final class AddHelperService extends AddHelperGrpc.AddHelperImplBase {
    private final AddHelper adder;

    AddHelperService(AddHelper adder) {
      this.adder = adder;
    }

    @Override
    public void sum(SumRequest request, StreamObserver<SumResponse> response) {
      long r;
      try {
        r = adder.sum(request.getA(), request.getB());
      } catch (RuntimeException e) {
        response.onError(
            Status.UNKNOWN.withDescription("AddHelper.sum failed: " + e).withCause(e).asRuntimeException());
        return;
      }
      response.onNext(SumResponse.newBuilder().setR(r).build());
      response.onCompleted();
    }
  }
}
