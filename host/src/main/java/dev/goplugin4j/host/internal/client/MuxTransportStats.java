package dev.goplugin4j.host.internal.client;

import dev.goplugin4j.host.PluginEvent;
import dev.goplugin4j.host.TransportStats;
import dev.goplugin4j.protocol.internal.yamux.YamuxSession;

/**
 * The {@link TransportStats} of one client's yamux session: reads the session's counters while
 * it is attached, and keeps their final values (not the session) once the client lets it go.
 * Thread-safe.
 */
final class MuxTransportStats implements TransportStats {
  private final PluginEvent.Source source;
  private volatile YamuxSession session;
  private volatile long finalSent;
  private volatile long finalReceived;
  private volatile boolean finished;

  MuxTransportStats(PluginEvent.Source source) {
    this.source = source;
  }

  @Override
  public PluginEvent.Source source() {
    return source;
  }

  /** The client connected: counts come from {@code s} from now on. */
  void attach(YamuxSession s) {
    if (!finished) {
      session = s;
    }
  }

  /** The client let the session go (closed, or never made): keep the counts, drop the session. */
  void finish() {
    YamuxSession s = session;
    if (s != null) {
      finalSent = s.bytesSent();
      finalReceived = s.bytesReceived();
    }
    finished = true;
    session = null;
  }

  @Override
  public long bytesSent() {
    YamuxSession s = session;
    return s != null ? s.bytesSent() : finalSent;
  }

  @Override
  public long bytesReceived() {
    YamuxSession s = session;
    return s != null ? s.bytesReceived() : finalReceived;
  }

  @Override
  public boolean finished() {
    return finished;
  }

  @Override
  public String toString() {
    return "TransportStats[" + source.name() + ", sent=" + bytesSent() + ", received=" + bytesReceived()
        + (finished ? ", finished" : "") + "]";
  }
}
