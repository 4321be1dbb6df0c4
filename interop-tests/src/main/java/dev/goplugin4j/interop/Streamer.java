package dev.goplugin4j.interop;

/**
 * The Streamer interface of go-plugin's examples/streaming (v1.8.0 on). The upstream Go plugin
 * writes to and reads from the file named by {@link #configure}; data travels in chunks of the
 * configured size: {@link #write} as a client stream, {@link #read} as a server stream.
 *
 * <p>Implementations made by {@link StreamerPlugin} remember the chunk size per client instance:
 * use one instance from one thread at a time, like the upstream Go client.
 */
public interface Streamer {
  /**
   * Sets the file the plugin uses and the chunk size of both directions.
   *
   * @param path the file, as the plugin sees it; not null
   * @param chunkSize bytes per message; at least 1
   * @throws io.grpc.StatusRuntimeException if the plugin fails
   */
  void configure(String path, long chunkSize);

  /**
   * Sends {@code data} to the plugin in chunks, which writes it to the file (replacing it).
   *
   * @param data the bytes; not null
   * @throws IllegalStateException if {@link #configure} was not called
   * @throws io.grpc.StatusRuntimeException if the plugin fails
   */
  void write(byte[] data);

  /**
   * Reads the whole file, streamed back in chunks.
   *
   * @return the file's bytes
   * @throws io.grpc.StatusRuntimeException if the plugin fails
   */
  byte[] read();
}
