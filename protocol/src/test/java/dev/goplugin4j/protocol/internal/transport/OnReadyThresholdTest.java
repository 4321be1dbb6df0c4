package dev.goplugin4j.protocol.internal.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptors;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.protobuf.ProtoUtils;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link GrpcTransport#onReadyThreshold(int)}: the threshold each call leaves with. */
class OnReadyThresholdTest {
  private static final MethodDescriptor<HealthCheckRequest, HealthCheckRequest> UPLOAD =
      method(MethodDescriptor.MethodType.CLIENT_STREAMING);
  private static final MethodDescriptor<HealthCheckRequest, HealthCheckRequest> CHAT =
      method(MethodDescriptor.MethodType.BIDI_STREAMING);

  private static MethodDescriptor<HealthCheckRequest, HealthCheckRequest> method(
      MethodDescriptor.MethodType type) {
    var m = ProtoUtils.marshaller(HealthCheckRequest.getDefaultInstance());
    return MethodDescriptor.newBuilder(m, m).setType(type)
        .setFullMethodName("test.Test/" + type.name()).build();
  }

  /** The end of a chain: records the options each call reaches it with. */
  private static final class Recording extends Channel {
    final List<CallOptions> seen = new ArrayList<>();

    @Override
    public <Q, A> ClientCall<Q, A> newCall(MethodDescriptor<Q, A> method, CallOptions options) {
      seen.add(options);
      return new ClientCall<>() {
        @Override
        public void start(Listener<A> listener, Metadata headers) {}

        @Override
        public void request(int n) {}

        @Override
        public void cancel(String message, Throwable cause) {}

        @Override
        public void halfClose() {}

        @Override
        public void sendMessage(Q message) {}
      };
    }

    @Override
    public String authority() {
      return "localhost";
    }
  }

  @Test
  void clientAndBidiStreamingCallsWithoutAThresholdGetOneMebibyte() {
    Recording end = new Recording();
    Channel ch = ClientInterceptors.intercept(end, GrpcTransport.defaultOnReadyThreshold());

    ch.newCall(UPLOAD, CallOptions.DEFAULT);
    ch.newCall(CHAT, CallOptions.DEFAULT);

    assertThat(GrpcTransport.ON_READY_THRESHOLD).isEqualTo(1 << 20);
    assertThat(end.seen).extracting(CallOptions::getOnReadyThreshold).containsExactly(1 << 20, 1 << 20);
  }

  @Test
  void unaryAndServerStreamingCallsPassUnchanged() {
    Recording end = new Recording();
    Channel ch = ClientInterceptors.intercept(end, GrpcTransport.defaultOnReadyThreshold());

    ch.newCall(HealthGrpc.getCheckMethod(), CallOptions.DEFAULT);
    ch.newCall(HealthGrpc.getWatchMethod(), CallOptions.DEFAULT);

    assertThat(end.seen).containsExactly(CallOptions.DEFAULT, CallOptions.DEFAULT);
  }

  @Test
  void aThresholdTheCallAlreadyCarriesIsKept() {
    Recording end = new Recording();
    Channel ch = ClientInterceptors.intercept(end, GrpcTransport.onReadyThreshold(4096));

    ch.newCall(UPLOAD, CallOptions.DEFAULT.withOnReadyThreshold(100));
    ch.newCall(UPLOAD, CallOptions.DEFAULT);

    assertThat(end.seen).extracting(CallOptions::getOnReadyThreshold).containsExactly(100, 4096);
  }

  @Test
  void aStubsOwnThresholdReachesTheChannelThroughTheInterceptor() {
    Recording end = new Recording();
    Channel ch = ClientInterceptors.intercept(end, GrpcTransport.defaultOnReadyThreshold());

    ClientCalls.asyncClientStreamingCall(
        ch.newCall(UPLOAD, CallOptions.DEFAULT.withOnReadyThreshold(7)),
        new StreamObserver<HealthCheckRequest>() {
          @Override
          public void onNext(HealthCheckRequest value) {}

          @Override
          public void onError(Throwable t) {}

          @Override
          public void onCompleted() {}
        });

    assertThat(end.seen).extracting(CallOptions::getOnReadyThreshold).containsExactly(7);
  }

  @Test
  void aThresholdBelowOneByteIsRejected() {
    assertThatThrownBy(() -> GrpcTransport.onReadyThreshold(0))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("at least 1");
  }
}
