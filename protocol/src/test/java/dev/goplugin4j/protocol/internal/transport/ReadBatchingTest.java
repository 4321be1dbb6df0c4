package dev.goplugin4j.protocol.internal.transport;

import static org.assertj.core.api.Assertions.assertThat;

import dev.goplugin4j.protocol.NetAddress;
import io.grpc.CallOptions;
import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.stub.ClientCalls;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
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
  private static final byte[] PREFACE =
      "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
  private static final int DATA = 0x0;
  private static final int HEADERS = 0x1;
  private static final int SETTINGS = 0x4;
  private static final int END_STREAM = 0x1;
  private static final int END_HEADERS = 0x4;
  private static final int ACK = 0x1;

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
    Path sock = dir.resolve("peer.sock");
    try (ServerSocketChannel listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      listener.bind(UnixDomainSocketAddress.of(sock));
      ManagedChannel ch = GrpcTransport.channel(NetAddress.unix(sock.toString()), null, group, null);
      try {
        ch.getState(true);
        try (SocketChannel peer = listener.accept()) {
          assertThat(read(peer, PREFACE.length).array()).isEqualTo(PREFACE);
          write(peer, frame(SETTINGS, 0, 0, new byte[0]));
          // a call on a ready connection: one made before is handed to its executor once more,
          // to create its stream when the connection is up
          awaitReady(ch);
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
          int stream = requestStream(peer);
          write(peer, answer(stream));
          assertThat(answer.get(30, TimeUnit.SECONDS).getStatus())
              .isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
          assertThat(handOvers.get()).as("hand-overs of headers, message and trailers").isEqualTo(1);
        }
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

  private static void awaitReady(ManagedChannel ch) throws InterruptedException {
    ConnectivityState state;
    while ((state = ch.getState(false)) != ConnectivityState.READY) {
      CountDownLatch changed = new CountDownLatch(1);
      ch.notifyWhenStateChanged(state, changed::countDown);
      changed.await();
    }
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

  /** Reads frames (acking the client's settings) until a request ends its stream; its id. */
  private static int requestStream(SocketChannel peer) throws IOException {
    while (true) {
      ByteBuffer h = read(peer, 9);
      int length = ((h.get(0) & 0xff) << 16) | ((h.get(1) & 0xff) << 8) | (h.get(2) & 0xff);
      int type = h.get(3) & 0xff;
      int flags = h.get(4) & 0xff;
      int stream = h.getInt(5) & 0x7fffffff;
      read(peer, length);
      if (type == SETTINGS && (flags & ACK) == 0) {
        write(peer, frame(SETTINGS, ACK, 0, new byte[0]));
      }
      if (stream != 0 && (flags & END_STREAM) != 0) {
        return stream;
      }
    }
  }

  private static ByteBuffer frame(int type, int flags, int stream, byte[] payload) {
    return ByteBuffer.allocate(9 + payload.length)
        .put(new byte[] {
          (byte) (payload.length >>> 16), (byte) (payload.length >>> 8), (byte) payload.length,
          (byte) type, (byte) flags})
        .putInt(stream)
        .put(payload)
        .flip();
  }

  private static ByteBuffer read(SocketChannel peer, int n) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(n);
    while (b.hasRemaining()) {
      if (peer.read(b) < 0) {
        throw new EOFException("peer closed after " + b.position() + " of " + n + " bytes");
      }
    }
    return b.flip();
  }

  private static void write(SocketChannel peer, ByteBuffer b) throws IOException {
    while (b.hasRemaining()) {
      peer.write(b);
    }
  }
}
