package dev.goplugin4j.protocol.internal.transport;

import static org.assertj.core.api.Assertions.assertThat;

import dev.goplugin4j.protocol.NetAddress;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
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
  private static final byte[] PREFACE =
      "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
  private static final int DATA = 0x0;
  private static final int SETTINGS = 0x4;
  private static final int END_STREAM = 0x1;
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
  void unaryRequestEndsItsStreamOnTheMessageFrame() throws Exception {
    Path sock = dir.resolve("peer.sock");
    try (ServerSocketChannel listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      listener.bind(UnixDomainSocketAddress.of(sock));
      ManagedChannel ch = GrpcTransport.channel(NetAddress.unix(sock.toString()), null, group, null);
      try {
        ch.getState(true);
        try (SocketChannel peer = listener.accept()) {
          ByteBuffer preface = read(peer, PREFACE.length);
          assertThat(preface.array()).isEqualTo(PREFACE);
          write(peer, frame(SETTINGS, 0, 0));
          // a call on a ready connection: one made before is replayed from a buffer, another path
          awaitReady(ch);
          ClientCall<HealthCheckRequest, HealthCheckResponse> call =
              ch.newCall(HealthGrpc.getCheckMethod(), CallOptions.DEFAULT);
          call.start(new ClientCall.Listener<>() {}, new Metadata());
          call.request(1);
          call.sendMessage(HealthCheckRequest.newBuilder().setService("plugin").build());
          // the event loop (the group's only thread) runs what the message queued before the
          // half-close comes, as it does when the caller is slower than the loop
          group.submit(() -> {}).get();
          call.halfClose();
          Frame first = firstDataFrameOfAStream(peer);
          assertThat(first.length).as("the request message").isPositive();
          assertThat(first.flags & END_STREAM).as("END_STREAM on the message frame").isEqualTo(END_STREAM);
          call.cancel("test over", null);
        }
      } finally {
        ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }

  private static void awaitReady(ManagedChannel ch) throws InterruptedException {
    ConnectivityState state;
    while ((state = ch.getState(false)) != ConnectivityState.READY) {
      CountDownLatch changed = new CountDownLatch(1);
      ch.notifyWhenStateChanged(state, changed::countDown);
      changed.await();
    }
  }

  private record Frame(int length, int type, int flags, int stream) {}

  private static Frame firstDataFrameOfAStream(SocketChannel peer) throws IOException {
    while (true) {
      ByteBuffer h = read(peer, 9);
      int length = ((h.get(0) & 0xff) << 16) | ((h.get(1) & 0xff) << 8) | (h.get(2) & 0xff);
      Frame f = new Frame(length, h.get(3) & 0xff, h.get(4) & 0xff, h.getInt(5) & 0x7fffffff);
      read(peer, f.length);
      if (f.type == SETTINGS && (f.flags & ACK) == 0) {
        write(peer, frame(SETTINGS, ACK, 0));
      }
      if (f.type == DATA && f.stream != 0) {
        return f;
      }
    }
  }

  private static ByteBuffer frame(int type, int flags, int stream) {
    return ByteBuffer.allocate(9).put(new byte[] {0, 0, 0, (byte) type, (byte) flags}).putInt(stream).flip();
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
