package dev.goplugin4j.protocol.internal.tls;

import io.grpc.netty.shaded.io.netty.buffer.ByteBufAllocator;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import java.nio.ByteBuffer;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;

/**
 * One full TLS handshake between a client and a server engine of two Netty contexts, in memory in
 * this thread: what gRPC does over a socket, without one. The client checks the endpoint ({@code
 * HTTPS}, authority {@code localhost}) as gRPC's client does. Used by {@link TlsWarmUp} and by
 * tests. It stops, with an {@link SSLException}, when its thread is interrupted. Stateless and
 * thread-safe.
 */
public final class InMemoryHandshake {
  private InMemoryHandshake() {}

  /**
   * The engines after a finished handshake.
   *
   * @param client the client's engine
   * @param server the server's engine
   */
  public record Done(SSLEngine client, SSLEngine server) {}

  /**
   * Runs the handshake.
   *
   * @param client the client's context
   * @param server the server's context
   * @return both engines, handshake done
   * @throws SSLException if either side refuses the other
   */
  public static Done run(SslContext client, SslContext server) throws SSLException {
    SSLEngine c = client.newEngine(ByteBufAllocator.DEFAULT, TlsContexts.AUTHORITY, 1);
    SSLEngine s = server.newEngine(ByteBufAllocator.DEFAULT);
    SSLParameters p = c.getSSLParameters();
    p.setEndpointIdentificationAlgorithm("HTTPS");
    c.setSSLParameters(p);
    return run(c, s);
  }

  /**
   * Runs the handshake between two engines the caller made and set up (e.g. a new peer port per
   * client engine, so that its session cache never offers resumption).
   *
   * @param c the client's engine, not yet handshaking
   * @param s the server's engine, not yet handshaking
   * @return both engines, handshake done
   * @throws SSLException if either side refuses the other, or the thread is interrupted
   */
  public static Done run(SSLEngine c, SSLEngine s) throws SSLException {
    ByteBuffer c2s = ByteBuffer.allocate(1 << 17);
    ByteBuffer s2c = ByteBuffer.allocate(1 << 17);
    ByteBuffer app = ByteBuffer.allocate(1 << 17);
    c.beginHandshake();
    s.beginHandshake();
    for (int round = 0; round < 100; round++) {
      if (Thread.currentThread().isInterrupted()) {
        // a warm-up whose client is closing: give the thread back (the interrupt stays set)
        throw new SSLException("in-memory handshake interrupted");
      }
      step(c, c2s, s2c, app);
      step(s, s2c, c2s, app);
      if (c.getHandshakeStatus() == HandshakeStatus.NOT_HANDSHAKING
          && s.getHandshakeStatus() == HandshakeStatus.NOT_HANDSHAKING
          && c2s.position() == 0
          && s2c.position() == 0) {
        return new Done(c, s);
      }
    }
    throw new IllegalStateException("the handshake did not finish in 100 rounds: client "
        + c.getHandshakeStatus() + ", server " + s.getHandshakeStatus());
  }

  private static void step(SSLEngine e, ByteBuffer out, ByteBuffer in, ByteBuffer app)
      throws SSLException {
    ByteBuffer empty = ByteBuffer.allocate(0);
    boolean progress = true;
    while (progress) {
      progress = false;
      HandshakeStatus hs = e.getHandshakeStatus();
      if (hs == HandshakeStatus.NEED_TASK) {
        for (Runnable r = e.getDelegatedTask(); r != null; r = e.getDelegatedTask()) {
          r.run();
        }
        progress = true;
      } else if (hs == HandshakeStatus.NEED_WRAP) {
        SSLEngineResult r = e.wrap(empty, out);
        progress = r.bytesProduced() > 0 || r.getHandshakeStatus() != HandshakeStatus.NEED_WRAP;
      } else {
        in.flip();
        if (in.hasRemaining()) {
          progress = e.unwrap(in, app).bytesConsumed() > 0;
        }
        in.compact();
        app.clear();
      }
    }
  }
}
