package dev.goplugin4j.protocol.internal.yamux;

import io.grpc.netty.shaded.io.netty.buffer.ByteBuf;
import io.grpc.netty.shaded.io.netty.buffer.Unpooled;
import io.grpc.netty.shaded.io.netty.channel.embedded.EmbeddedChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A session on an {@link EmbeddedChannel}: the test plays the peer by writing raw frames in and
 * reading the frames the session writes out. Time is virtual ({@link #advance}).
 */
final class EmbeddedPeer implements AutoCloseable {
  final EmbeddedChannel channel = new EmbeddedChannel();
  final YamuxSession session;
  private final YamuxFrameDecoder outDecoder = new YamuxFrameDecoder(Integer.MAX_VALUE);
  private final List<YamuxHeader> out = new ArrayList<>();

  EmbeddedPeer(boolean client, YamuxConfig config) {
    channel.freezeTime();
    session = client ? YamuxSession.client(channel, config) : YamuxSession.server(channel, config);
    channel.runPendingTasks();
  }

  void send(YamuxHeader h) {
    send(h, new byte[0]);
  }

  void send(YamuxHeader h, byte[] payload) {
    ByteBuf b = Unpooled.buffer(YamuxHeader.SIZE + payload.length);
    h.encode(b);
    b.writeBytes(payload);
    sendRaw(b);
  }

  void sendRaw(ByteBuf b) {
    if (channel.isOpen()) {
      channel.writeInbound(b);
    } else {
      b.release();
    }
    run();
  }

  void run() {
    channel.runPendingTasks();
    channel.runScheduledPendingTasks();
    channel.runPendingTasks();
  }

  void advance(long millis) {
    channel.advanceTimeBy(millis, TimeUnit.MILLISECONDS);
    run();
  }

  /** Frames the session wrote since the last call (payloads skipped). */
  List<YamuxHeader> written() {
    run();
    ByteBuf b;
    while ((b = channel.readOutbound()) != null) {
      outDecoder.decode(
          b,
          new YamuxFrameDecoder.Listener() {
            @Override
            public void header(YamuxHeader h) {
              out.add(h);
            }

            @Override
            public void data(YamuxHeader h, ByteBuf chunk) {
              chunk.release();
            }

            @Override
            public void dataEnd(YamuxHeader h) {}
          });
      b.release();
    }
    List<YamuxHeader> r = new ArrayList<>(out);
    out.clear();
    return r;
  }

  static YamuxHeader syn(int id) {
    return new YamuxHeader(YamuxHeader.TYPE_WINDOW_UPDATE, YamuxHeader.FLAG_SYN, id, 0);
  }

  static YamuxHeader data(int id, int flags, int length) {
    return new YamuxHeader(YamuxHeader.TYPE_DATA, flags, id, length);
  }

  @Override
  public void close() {
    session.close();
    run();
    channel.finishAndReleaseAll();
  }
}
