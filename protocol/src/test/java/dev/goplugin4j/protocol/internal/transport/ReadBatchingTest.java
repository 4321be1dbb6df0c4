package dev.goplugin4j.protocol.internal.transport;

import static dev.goplugin4j.protocol.internal.transport.BareHttp2Peer.DATA;
import static dev.goplugin4j.protocol.internal.transport.BareHttp2Peer.END_HEADERS;
import static dev.goplugin4j.protocol.internal.transport.BareHttp2Peer.END_STREAM;
import static dev.goplugin4j.protocol.internal.transport.BareHttp2Peer.HEADERS;
import static dev.goplugin4j.protocol.internal.transport.BareHttp2Peer.frame;
import static org.assertj.core.api.Assertions.assertThat;

import dev.goplugin4j.protocol.NetAddress;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.stub.ClientCalls;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.Executor;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * How a unary call's callbacks reach the call's own executor (a blocking stub's waiting thread)
 * when a bare HTTP/2 peer answers with headers, message and trailers in one write, as grpc-go
 * does: in one hand-over, so the waiting thread wakes once.
 */
class ReadBatchingTest {
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
  void unaryAnswerReadAtOnceReachesTheCallExecutorInOneHandOver() throws Exception {
    try (BareHttp2Peer peer = BareHttp2Peer.listen(dir.resolve("peer.sock"))) {
      ManagedChannel ch = GrpcTransport.channel(peer.address(), null, group, null);
      try {
        ch.getState(true);
        peer.accept();
        // a call on a ready connection: one made before is handed to its executor once more,
        // to create its stream when the connection is up
        BareHttp2Peer.awaitReady(ch);
        // runs each hand-over at once, on the thread that hands it over: without batching the
        // call's serializing executor is done with the headers before the message is decoded,
        // and hands over again for the message and for the trailers
        AtomicInteger handOvers = new AtomicInteger();
        Executor counting = task -> {
          handOvers.incrementAndGet();
          task.run();
        };
        Future<HealthCheckResponse> answer = ClientCalls.futureUnaryCall(
            ch.newCall(HealthGrpc.getCheckMethod(), CallOptions.DEFAULT.withExecutor(counting)),
            HealthCheckRequest.newBuilder().setService("plugin").build());
        int stream = peer.readUntil(f -> f.stream() != 0 && (f.flags() & END_STREAM) != 0).stream();
        peer.write(answer(stream));
        assertThat(answer.get(30, TimeUnit.SECONDS).getStatus())
            .isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
        assertThat(handOvers.get()).as("hand-overs of headers, message and trailers").isEqualTo(1);
      } finally {
        ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }

  @Test
  @Timeout(60)
  void aCallClosedOffTheEventLoopIsHandedOverAtOnce() throws Exception {
    ManagedChannel ch = GrpcTransport.channel(
        NetAddress.unix(dir.resolve("nobody.sock").toString()), null, group, null);
    ch.shutdownNow();
    Thread caller = Thread.currentThread();
    AtomicInteger onCaller = new AtomicInteger();
    Executor counting = task -> {
      if (Thread.currentThread() == caller) {
        onCaller.incrementAndGet();
      }
      task.run();
    };
    Future<HealthCheckResponse> answer = ClientCalls.futureUnaryCall(
        ch.newCall(HealthGrpc.getCheckMethod(), CallOptions.DEFAULT.withExecutor(counting)),
        HealthCheckRequest.getDefaultInstance());
    assertThat(answer).isDone();
    assertThat(onCaller.get()).as("hand-overs on the calling thread").isEqualTo(1);
    assertThat(ch.awaitTermination(5, TimeUnit.SECONDS)).isTrue();
  }

  /** Response headers, the message and the trailers, in one buffer. */
  private static ByteBuffer answer(int stream) {
    byte[] message = HealthCheckResponse.newBuilder()
        .setStatus(HealthCheckResponse.ServingStatus.SERVING).build().toByteArray();
    ByteBuffer grpcMessage = ByteBuffer.allocate(5 + message.length)
        .put((byte) 0).putInt(message.length).put(message);
    ByteBuffer headers = frame(HEADERS, END_HEADERS, stream,
        literals(":status", "200", "content-type", "application/grpc"));
    ByteBuffer data = frame(DATA, 0, stream, grpcMessage.array());
    ByteBuffer trailers = frame(HEADERS, END_HEADERS | END_STREAM, stream,
        literals("grpc-status", "0"));
    return ByteBuffer.allocate(headers.remaining() + data.remaining() + trailers.remaining())
        .put(headers).put(data).put(trailers).flip();
  }

  /** HPACK literal header fields without indexing, new names, no Huffman coding. */
  private static byte[] literals(String... nameValues) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (int i = 0; i < nameValues.length; i += 2) {
      out.write(0x00);
      for (String s : new String[] {nameValues[i], nameValues[i + 1]}) {
        byte[] b = s.getBytes(StandardCharsets.US_ASCII);
        out.write(b.length);
        out.write(b, 0, b.length);
      }
    }
    return out.toByteArray();
  }
}
