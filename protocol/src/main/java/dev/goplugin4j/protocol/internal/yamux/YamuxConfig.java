package dev.goplugin4j.protocol.internal.yamux;

import java.time.Duration;
import java.util.Objects;

/**
 * Immutable settings of a {@link YamuxSession}. The defaults are those of HashiCorp's Go yamux
 * ({@code DefaultConfig()} in v0.1.2), so a session behaves like the Go peer it talks to.
 *
 * <p>Build one with {@link #builder()} or take {@link #defaults()}; {@link #toBuilder()} derives a
 * modified copy. Each setter checks its argument at once and throws {@link
 * IllegalArgumentException} naming it; nothing is clamped silently.
 *
 * <p>Instances are immutable and thread-safe.
 */
public final class YamuxConfig {
  /** The initial per-stream window every yamux peer assumes: 256 KiB. */
  public static final int INITIAL_STREAM_WINDOW = 256 * 1024;

  private static final YamuxConfig DEFAULTS = new Builder().build();

  private final int acceptBacklog;
  private final boolean keepAliveEnabled;
  private final Duration keepAliveInterval;
  private final Duration connectionWriteTimeout;
  private final int maxStreamWindowSize;
  private final Duration streamOpenTimeout;
  private final Duration streamCloseTimeout;

  private YamuxConfig(Builder b) {
    this.acceptBacklog = b.acceptBacklog;
    this.keepAliveEnabled = b.keepAliveEnabled;
    this.keepAliveInterval = b.keepAliveInterval;
    this.connectionWriteTimeout = b.connectionWriteTimeout;
    this.maxStreamWindowSize = b.maxStreamWindowSize;
    this.streamOpenTimeout = b.streamOpenTimeout;
    this.streamCloseTimeout = b.streamCloseTimeout;
  }

  /** The default settings (Go yamux's {@code DefaultConfig()}). */
  public static YamuxConfig defaults() {
    return DEFAULTS;
  }

  /** A builder starting from the defaults. */
  public static Builder builder() {
    return new Builder();
  }

  /** A builder starting from this configuration. */
  public Builder toBuilder() {
    return new Builder(this);
  }

  /**
   * How many inbound streams may wait to be accepted, and how many outbound streams may wait for
   * the peer's ACK; more inbound streams are reset, more outbound opens wait. Default 256, range
   * 1..65536.
   */
  public int acceptBacklog() {
    return acceptBacklog;
  }

  /** Whether the session pings the peer every {@link #keepAliveInterval()}. Default true. */
  public boolean keepAliveEnabled() {
    return keepAliveEnabled;
  }

  /** Period of keepalive pings. Default 30 s, positive. */
  public Duration keepAliveInterval() {
    return keepAliveInterval;
  }

  /**
   * Safety valve for the connection: how long a ping may wait for its answer, and how long the
   * connection may stay unwritable (the peer not reading at all) before the session is closed.
   * Default 10 s, positive.
   */
  public Duration connectionWriteTimeout() {
    return connectionWriteTimeout;
  }

  /**
   * The receive window each stream grants the peer, in bytes; also the most a stream buffers
   * before the peer must stop sending. Default and minimum 256 KiB ({@link
   * #INITIAL_STREAM_WINDOW}), at most 2^31-1.
   */
  public int maxStreamWindowSize() {
    return maxStreamWindowSize;
  }

  /**
   * How long an opened stream may wait for the peer's ACK before the whole session is closed (the
   * peer is presumed stuck). Default 75 s; zero disables the timeout.
   */
  public Duration streamOpenTimeout() {
    return streamOpenTimeout;
  }

  /**
   * How long a stream we closed may wait for the peer's FIN before it is reset and forgotten.
   * Default 5 min; zero disables the timeout.
   */
  public Duration streamCloseTimeout() {
    return streamCloseTimeout;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof YamuxConfig c
        && acceptBacklog == c.acceptBacklog
        && keepAliveEnabled == c.keepAliveEnabled
        && keepAliveInterval.equals(c.keepAliveInterval)
        && connectionWriteTimeout.equals(c.connectionWriteTimeout)
        && maxStreamWindowSize == c.maxStreamWindowSize
        && streamOpenTimeout.equals(c.streamOpenTimeout)
        && streamCloseTimeout.equals(c.streamCloseTimeout);
  }

  @Override
  public int hashCode() {
    return Objects.hash(
        acceptBacklog,
        keepAliveEnabled,
        keepAliveInterval,
        connectionWriteTimeout,
        maxStreamWindowSize,
        streamOpenTimeout,
        streamCloseTimeout);
  }

  @Override
  public String toString() {
    return "YamuxConfig{acceptBacklog="
        + acceptBacklog
        + ", keepAliveEnabled="
        + keepAliveEnabled
        + ", keepAliveInterval="
        + keepAliveInterval
        + ", connectionWriteTimeout="
        + connectionWriteTimeout
        + ", maxStreamWindowSize="
        + maxStreamWindowSize
        + ", streamOpenTimeout="
        + streamOpenTimeout
        + ", streamCloseTimeout="
        + streamCloseTimeout
        + '}';
  }

  /** Builds a {@link YamuxConfig}. Not thread-safe; use from one thread. */
  public static final class Builder {
    private int acceptBacklog = 256;
    private boolean keepAliveEnabled = true;
    private Duration keepAliveInterval = Duration.ofSeconds(30);
    private Duration connectionWriteTimeout = Duration.ofSeconds(10);
    private int maxStreamWindowSize = INITIAL_STREAM_WINDOW;
    private Duration streamOpenTimeout = Duration.ofSeconds(75);
    private Duration streamCloseTimeout = Duration.ofMinutes(5);

    private Builder() {}

    private Builder(YamuxConfig c) {
      this.acceptBacklog = c.acceptBacklog;
      this.keepAliveEnabled = c.keepAliveEnabled;
      this.keepAliveInterval = c.keepAliveInterval;
      this.connectionWriteTimeout = c.connectionWriteTimeout;
      this.maxStreamWindowSize = c.maxStreamWindowSize;
      this.streamOpenTimeout = c.streamOpenTimeout;
      this.streamCloseTimeout = c.streamCloseTimeout;
    }

    /** See {@link YamuxConfig#acceptBacklog()}; 1..65536. */
    public Builder acceptBacklog(int acceptBacklog) {
      if (acceptBacklog < 1 || acceptBacklog > 65536) {
        throw new IllegalArgumentException(
            "acceptBacklog must be in 1..65536, got " + acceptBacklog);
      }
      this.acceptBacklog = acceptBacklog;
      return this;
    }

    /** See {@link YamuxConfig#keepAliveEnabled()}. */
    public Builder keepAliveEnabled(boolean keepAliveEnabled) {
      this.keepAliveEnabled = keepAliveEnabled;
      return this;
    }

    /** See {@link YamuxConfig#keepAliveInterval()}; must be positive. */
    public Builder keepAliveInterval(Duration keepAliveInterval) {
      this.keepAliveInterval = positive("keepAliveInterval", keepAliveInterval);
      return this;
    }

    /** See {@link YamuxConfig#connectionWriteTimeout()}; must be positive. */
    public Builder connectionWriteTimeout(Duration connectionWriteTimeout) {
      this.connectionWriteTimeout = positive("connectionWriteTimeout", connectionWriteTimeout);
      return this;
    }

    /** See {@link YamuxConfig#maxStreamWindowSize()}; 256 KiB..2^31-1 bytes. */
    public Builder maxStreamWindowSize(int maxStreamWindowSize) {
      if (maxStreamWindowSize < INITIAL_STREAM_WINDOW) {
        throw new IllegalArgumentException(
            "maxStreamWindowSize must be at least "
                + INITIAL_STREAM_WINDOW
                + " (the initial window every yamux peer assumes), got "
                + maxStreamWindowSize);
      }
      this.maxStreamWindowSize = maxStreamWindowSize;
      return this;
    }

    /** See {@link YamuxConfig#streamOpenTimeout()}; zero disables, negative is refused. */
    public Builder streamOpenTimeout(Duration streamOpenTimeout) {
      this.streamOpenTimeout = nonNegative("streamOpenTimeout", streamOpenTimeout);
      return this;
    }

    /** See {@link YamuxConfig#streamCloseTimeout()}; zero disables, negative is refused. */
    public Builder streamCloseTimeout(Duration streamCloseTimeout) {
      this.streamCloseTimeout = nonNegative("streamCloseTimeout", streamCloseTimeout);
      return this;
    }

    /** The configuration. */
    public YamuxConfig build() {
      return new YamuxConfig(this);
    }

    private static Duration positive(String name, Duration d) {
      Objects.requireNonNull(d, name);
      if (d.isZero() || d.isNegative()) {
        throw new IllegalArgumentException(name + " must be positive, got " + d);
      }
      return d;
    }

    private static Duration nonNegative(String name, Duration d) {
      Objects.requireNonNull(d, name);
      if (d.isNegative()) {
        throw new IllegalArgumentException(name + " must not be negative, got " + d);
      }
      return d;
    }
  }
}
