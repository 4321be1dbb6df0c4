package dev.goplugin4j.host.internal.client;

import dev.goplugin4j.host.AttachedRunner;
import dev.goplugin4j.host.GrpcPlugin;
import dev.goplugin4j.host.PluginClient;
import dev.goplugin4j.host.ReattachConfig;
import dev.goplugin4j.protocol.AutoMtlsCertificate;
import dev.goplugin4j.protocol.Handshake;
import dev.goplugin4j.protocol.HandshakeException;
import dev.goplugin4j.protocol.IncompatibleVersionException;
import dev.goplugin4j.protocol.MultiplexingNotSupportedException;
import java.security.cert.X509Certificate;
import java.util.Map;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Negotiation phase of a start: the plugin's handshake line checked against the client's
 * configuration (core and app versions, allowed protocols, gRPC, multiplexing, AutoMTLS), and a
 * reattach config's counterpart checks.
 */
final class Negotiation {
  // the session's logger: tests and users read these lines under PluginClient
  private static final Logger log = LoggerFactory.getLogger(PluginClient.class);

  private Negotiation() {}

  /**
   * What a handshake settled: the protocol version, its plugin set, and the plugin's AutoMTLS
   * certificate ({@code ""} and null when AutoMTLS is off).
   */
  record Negotiated(int version, Map<String, GrpcPlugin<?>> pluginSet, String pluginCertBase64,
      X509Certificate pluginCert) {}

  /** Checks the handshake line; failures are worded with the runner's diagnosis. */
  static Negotiated negotiate(PluginClient.Config config, String name, Handshake h,
      AttachedRunner r, FailureDiagnosis diagnosis) {
    String pluginCertBase64 = "";
    X509Certificate pluginCert = null;
    try {
      h.checkCoreVersion();
      h.checkAppVersion(config.versionedPlugins().keySet());
      checkAllowedProtocol(config, h.protocol());
      h.checkGrpc();
      if (config.multiplexBroker()) {
        h.checkMultiplexSupported();
      }
      if (config.tls() == null && config.autoMtls()) {
        if (!h.hasCertificate()) {
          throw new HandshakeException(
              "AutoMTLS is on but the plugin returned no certificate in its handshake: the plugin"
                  + " does not support AutoMTLS. Turn autoMtls(false) for this plugin or give it TLS"
                  + " material of its own");
        }
        pluginCertBase64 = h.certificate();
        pluginCert = AutoMtlsCertificate.parseBase64Der(pluginCertBase64);
      }
    } catch (IncompatibleVersionException e) {
      throw new IncompatibleVersionException(
          diagnosis.failure(e.getMessage(), r), e.pluginVersion(), e.hostVersions(), e);
    } catch (MultiplexingNotSupportedException e) {
      throw new MultiplexingNotSupportedException(diagnosis.failure(e.getMessage(), r), e);
    } catch (HandshakeException e) {
      throw new HandshakeException(diagnosis.failure(e.getMessage(), r), e);
    }
    int version = h.appVersion();
    Map<String, GrpcPlugin<?>> pluginSet = config.versionedPlugins().get(version);
    log.debug("plugin {} negotiated protocol version {} at {}", name, version, h.address());
    return new Negotiated(version, pluginSet, pluginCertBase64, pluginCert);
  }

  /** go-plugin's AllowedProtocols check, with our net/rpc explanation when that is the cause. */
  private static void checkAllowedProtocol(PluginClient.Config config, String protocol) {
    if (config.allowedProtocols().contains(protocol)) {
      return;
    }
    String allowed = new TreeSet<>(config.allowedProtocols()).toString();
    if (Handshake.NETRPC.equals(protocol)) {
      throw new HandshakeException(
          "unsupported plugin protocol \"" + protocol + "\"; allowedProtocols is " + allowed
              + ". The plugin speaks Go's net/rpc protocol, which only Go hosts can use. Ask the"
              + " plugin author for a gRPC build (go-plugin ServeConfig.GRPCServer) or use a Go host");
    }
    throw new HandshakeException(
        "unsupported plugin protocol \"" + protocol + "\"; allowedProtocols is " + allowed
            + ". Check that the command runs a go-plugin gRPC plugin");
  }

  /** Before the reattacher runs: a refused config touches no process or container. */
  static void checkReattachProtocol(PluginClient.Config config, ReattachConfig rc) {
    if (!config.allowedProtocols().contains(rc.protocol())) {
      throw new HandshakeException("cannot reattach to a \"" + rc.protocol()
          + "\" plugin: allowedProtocols is " + new TreeSet<>(config.allowedProtocols())
          + "; goplugin4j hosts speak gRPC only");
    }
  }

  /**
   * A reattached plugin's protocol version needs a plugin set ({@code pluginSet}, looked up by
   * the session), and both sides must agree on multiplexing.
   */
  static void checkReattached(PluginClient.Config config, ReattachConfig rc,
      Map<String, GrpcPlugin<?>> pluginSet) {
    int version = rc.protocolVersion();
    if (pluginSet == null) {
      throw new IncompatibleVersionException(
          "the reattached plugin speaks protocol version " + version
              + " but this client has plugins only for versions " + config.versionedPlugins().keySet()
              + ": add plugins(" + version + ", map) to the builder, or reattach with a client of"
              + " that version", version, config.versionedPlugins().keySet(), null);
    }
    if (rc.multiplexed() != config.multiplexBroker()) {
      throw new HandshakeException(
          "the reattach config says multiplexed=" + rc.multiplexed()
              + " but the client has multiplexBroker(" + config.multiplexBroker() + "); set them alike");
    }
  }
}
