package dev.goplugin4j.host;

import dev.goplugin4j.protocol.NetAddress;

/**
 * Translates addresses between the plugin's view and the host's, for runners where they differ
 * (a container sees the host's socket directory under another path). The counterpart of
 * go-plugin's {@code runner.AddrTranslator}.
 *
 * <p>Implementations must be thread-safe.
 */
public interface AddrTranslator {
  /**
   * Called on every address received from the plugin, before the host dials it.
   *
   * @param pluginAddress the address as the plugin wrote it
   * @return the address the host can dial
   * @throws dev.goplugin4j.protocol.PluginException if the address is not one the host may dial
   */
  NetAddress pluginToHost(NetAddress pluginAddress);

  /**
   * Called on every host address before it is sent to the plugin.
   *
   * @param hostAddress the address as the host sees it
   * @return the address the plugin can dial
   * @throws dev.goplugin4j.protocol.PluginException if the address cannot be reached from the
   *     plugin
   */
  NetAddress hostToPlugin(NetAddress hostAddress);

  /** The identity translation, for plugins that share the host's file system and network. */
  AddrTranslator IDENTITY =
      new AddrTranslator() {
        @Override
        public NetAddress pluginToHost(NetAddress pluginAddress) {
          return pluginAddress;
        }

        @Override
        public NetAddress hostToPlugin(NetAddress hostAddress) {
          return hostAddress;
        }
      };
}
