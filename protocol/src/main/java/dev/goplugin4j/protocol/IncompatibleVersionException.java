package dev.goplugin4j.protocol;

import java.util.Collection;
import java.util.Collections;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * The plugin answered an app protocol version the host did not offer: the two sides share no
 * version (go-plugin's "incompatible API version with plugin"). A go-plugin plugin that has no
 * version in common with the host's {@code PLUGIN_PROTOCOL_VERSIONS} prints one of its own anyway
 * so that the host can report the mismatch; this is that report. The message names the plugin's
 * version and the host's offered set; the accessors give them to code.
 *
 * <p>Instances are immutable and thread-safe.
 */
public class IncompatibleVersionException extends HandshakeException {
  private static final long serialVersionUID = 1L;

  private final int pluginVersion;
  private final TreeSet<Integer> hostVersions;

  /**
   * Creates the exception.
   *
   * @param message what went wrong and how to fix it; not null
   * @param pluginVersion the app protocol version in the plugin's handshake line
   * @param hostVersions the versions the host offered; not null
   * @param cause the underlying failure; may be null
   */
  public IncompatibleVersionException(
      String message, int pluginVersion, Collection<Integer> hostVersions, Throwable cause) {
    super(message, cause);
    this.pluginVersion = pluginVersion;
    this.hostVersions = new TreeSet<>(hostVersions);
  }

  /**
   * The app protocol version the plugin answered.
   *
   * @return the version from the plugin's handshake line
   */
  public int pluginVersion() {
    return pluginVersion;
  }

  /**
   * The app protocol versions the host offered ({@code PLUGIN_PROTOCOL_VERSIONS}).
   *
   * @return the versions, ascending; unmodifiable
   */
  public SortedSet<Integer> hostVersions() {
    return Collections.unmodifiableSortedSet(hostVersions);
  }
}
