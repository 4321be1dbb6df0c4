package dev.goplugin4j.protocol.internal.transport;

import static org.assertj.core.api.Assertions.assertThat;

import dev.goplugin4j.protocol.NetAddress;
import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
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
import java.util.function.Predicate;

/**
 * The server end of one HTTP/2 connection on a Unix socket, written by hand for tests that read
 * the frames a channel writes or answer with exactly the frames they choose: no Netty, no HPACK
 * decoder. Not thread-safe; one test thread.
 */
final class BareHttp2Peer implements AutoCloseable {
  static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
  static final int DATA = 0x0;
  static final int HEADERS = 0x1;
  static final int SETTINGS = 0x4;
  static final int END_STREAM = 0x1;
  static final int END_HEADERS = 0x4;
  static final int ACK = 0x1;

  /** A frame's header; its payload was read and dropped. */
  record Frame(int length, int type, int flags, int stream) {}

  private final ServerSocketChannel listener;
  private final Path socket;
  private SocketChannel peer;

  private BareHttp2Peer(ServerSocketChannel listener, Path socket) {
    this.listener = listener;
    this.socket = socket;
  }

  /** Listens on {@code socket}. */
  static BareHttp2Peer listen(Path socket) throws IOException {
    ServerSocketChannel l = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    try {
      l.bind(UnixDomainSocketAddress.of(socket));
    } catch (IOException e) {
      l.close();
      throw e;
    }
    return new BareHttp2Peer(l, socket);
  }

  NetAddress address() {
    return NetAddress.unix(socket.toString());
  }

  /** Accepts the channel's connection, checks the client preface and sends empty SETTINGS. */
  void accept() throws IOException {
    peer = listener.accept();
    assertThat(read(PREFACE.length).array()).isEqualTo(PREFACE);
    write(frame(SETTINGS, 0, 0, new byte[0]));
  }

  /** Reads frames, acking the client's SETTINGS, until one {@code matches}; returns it. */
  Frame readUntil(Predicate<Frame> matches) throws IOException {
    while (true) {
      ByteBuffer h = read(9);
      int length = ((h.get(0) & 0xff) << 16) | ((h.get(1) & 0xff) << 8) | (h.get(2) & 0xff);
      Frame f = new Frame(length, h.get(3) & 0xff, h.get(4) & 0xff, h.getInt(5) & 0x7fffffff);
      read(f.length());
      if (f.type() == SETTINGS && (f.flags() & ACK) == 0) {
        write(frame(SETTINGS, ACK, 0, new byte[0]));
      }
      if (matches.test(f)) {
        return f;
      }
    }
  }

  void write(ByteBuffer b) throws IOException {
    while (b.hasRemaining()) {
      peer.write(b);
    }
  }

  static ByteBuffer frame(int type, int flags, int stream, byte[] payload) {
    return ByteBuffer.allocate(9 + payload.length)
        .put(new byte[] {
          (byte) (payload.length >>> 16), (byte) (payload.length >>> 8), (byte) payload.length,
          (byte) type, (byte) flags})
        .putInt(stream)
        .put(payload)
        .flip();
  }

  /** Waits until {@code ch} is READY. */
  static void awaitReady(ManagedChannel ch) throws InterruptedException {
    ConnectivityState state;
    while ((state = ch.getState(false)) != ConnectivityState.READY) {
      CountDownLatch changed = new CountDownLatch(1);
      ch.notifyWhenStateChanged(state, changed::countDown);
      changed.await();
    }
  }

  private ByteBuffer read(int n) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(n);
    while (b.hasRemaining()) {
      if (peer.read(b) < 0) {
        throw new EOFException("peer closed after " + b.position() + " of " + n + " bytes");
      }
    }
    return b.flip();
  }

  @Override
  public void close() throws IOException {
    try {
      if (peer != null) {
        peer.close();
      }
    } finally {
      listener.close();
    }
  }
}
