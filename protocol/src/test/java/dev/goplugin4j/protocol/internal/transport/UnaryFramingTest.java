package dev.goplugin4j.protocol.internal.transport;

import static dev.goplugin4j.protocol.internal.transport.BareHttp2Peer.DATA;
import static dev.goplugin4j.protocol.internal.transport.BareHttp2Peer.END_STREAM;
import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a unary call puts on the wire, read by a bare HTTP/2 peer: the request message and the end
 * of the stream travel in one DATA frame, as go-plugin's Go client sends them, however the
 * caller's thread and the event loop interleave.
 */
class UnaryFramingTest {
  @TempDir Path dir;
  EventLoopGroup group;

  @BeforeEach
  void setUp() {
    group = GrpcTransport.newEventLoopGroup(1, "test-io");
  }

  @AfterEach
  void tearDown() {
    GrpcTransport.shutdown(group);
  }

  @Test
  @Timeout(60)
  void unaryRequestEndsItsStreamOnTheMessageFrame() throws Exception {
    try (BareHttp2Peer peer = BareHttp2Peer.listen(dir.resolve("peer.sock"))) {
      ManagedChannel ch = GrpcTransport.channel(peer.address(), null, group, null);
      try {
        ch.getState(true);
        peer.accept();
        // a call on a ready connection: one made before is replayed from a buffer, another path
        BareHttp2Peer.awaitReady(ch);
        ClientCall<HealthCheckRequest, HealthCheckResponse> call =
            ch.newCall(HealthGrpc.getCheckMethod(), CallOptions.DEFAULT);
        call.start(new ClientCall.Listener<>() {}, new Metadata());
        call.request(1);
        call.sendMessage(HealthCheckRequest.newBuilder().setService("plugin").build());
        // the event loop (the group's only thread) runs what the message queued before the
        // half-close comes, as it does when the caller is slower than the loop
        group.submit(() -> {}).get();
        call.halfClose();
        BareHttp2Peer.Frame first = peer.readUntil(f -> f.type() == DATA && f.stream() != 0);
        assertThat(first.length()).as("the request message").isPositive();
        assertThat(first.flags() & END_STREAM).as("END_STREAM on the message frame")
            .isEqualTo(END_STREAM);
        call.cancel("test over", null);
      } finally {
        ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }
}
