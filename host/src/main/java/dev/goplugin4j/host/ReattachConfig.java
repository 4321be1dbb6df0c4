package dev.goplugin4j.host;

import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.stream.JsonWriter;
import dev.goplugin4j.protocol.NetAddress;
import dev.goplugin4j.protocol.PluginException;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * Everything a host needs to reconnect to a plugin that is still running after the host that
 * started it went away: the counterpart of go-plugin's {@code ReattachConfig}. Serializes to a
 * small JSON object and back.
 *
 * <p>The runner identity is a kind ({@value #KIND_PROCESS}, {@value #KIND_CONTAINER}, or a user
 * runner's own), an id (pid, container id) and free-form attributes the runner needs to verify
 * it found the same plugin (for a process, its start time, so a reused pid can never make us
 * kill an unrelated process).
 *
 * <p>Immutable and thread-safe.
 *
 * @param protocol {@code grpc}
 * @param protocolVersion the negotiated app protocol version
 * @param address the plugin's address as the host dials it
 * @param runnerKind the runner kind; not empty
 * @param runnerId the runner's id of the plugin; not empty
 * @param runnerAttributes extra runner data; not null
 * @param multiplexed whether the plugin was started with the multiplexed broker
 * @param pluginCertificate the plugin's AutoMTLS certificate (base64 DER), or empty when none
 * @param hostCertificate the host's AutoMTLS certificate (PEM), or empty when none
 * @param hostPrivateKey the host's AutoMTLS private key (PEM); a SECRET: store the JSON with
 *     owner-only permissions. Empty when AutoMTLS is off. {@link #toString()} never prints it.
 * @param test go-plugin's test flag: a plugin in test mode is not killed on close
 */
public record ReattachConfig(
    String protocol,
    int protocolVersion,
    NetAddress address,
    String runnerKind,
    String runnerId,
    Map<String, String> runnerAttributes,
    boolean multiplexed,
    String pluginCertificate,
    String hostCertificate,
    String hostPrivateKey,
    boolean test) {

  /** Runner kind of a plugin started as a local process. */
  public static final String KIND_PROCESS = "process";

  /** Runner kind of a plugin started in a container. */
  public static final String KIND_CONTAINER = "container";

  /** Validates and copies the fields. */
  public ReattachConfig {
    Objects.requireNonNull(protocol, "protocol");
    Objects.requireNonNull(address, "address");
    Objects.requireNonNull(runnerKind, "runnerKind");
    Objects.requireNonNull(runnerId, "runnerId");
    Objects.requireNonNull(pluginCertificate, "pluginCertificate");
    Objects.requireNonNull(hostCertificate, "hostCertificate");
    Objects.requireNonNull(hostPrivateKey, "hostPrivateKey");
    if (hostCertificate.isEmpty() != hostPrivateKey.isEmpty()) {
      throw new IllegalArgumentException(
          "hostCertificate and hostPrivateKey must be given together or not at all");
    }
    if (runnerKind.isEmpty()) {
      throw new IllegalArgumentException("runnerKind must not be empty");
    }
    if (runnerId.isEmpty()) {
      throw new IllegalArgumentException("runnerId must not be empty");
    }
    if (protocolVersion < 0) {
      throw new IllegalArgumentException("protocolVersion must be >= 0, got " + protocolVersion);
    }
    runnerAttributes = Map.copyOf(Objects.requireNonNull(runnerAttributes, "runnerAttributes"));
  }

  /**
   * The JSON form, stable across versions of this library.
   *
   * @return a JSON object
   */
  public String toJson() {
    // written with gson's streaming writer: a Gson instance (or JsonElement.toString) builds gson's
    // whole set of type adapters, ~140 classes and ~40 ms in a fresh JVM, on a start's path
    StringWriter out = new StringWriter();
    try (JsonWriter w = new JsonWriter(out)) {
      w.beginObject();
      w.name("protocol").value(protocol);
      w.name("protocol_version").value(protocolVersion);
      w.name("network").value(address.network());
      w.name("address").value(address.address());
      w.name("runner_kind").value(runnerKind);
      w.name("runner_id").value(runnerId);
      w.name("runner_attributes").beginObject();
      for (Map.Entry<String, String> e : new TreeMap<>(runnerAttributes).entrySet()) {
        w.name(e.getKey()).value(e.getValue());
      }
      w.endObject();
      w.name("multiplexed").value(multiplexed);
      w.name("plugin_certificate").value(pluginCertificate);
      w.name("host_certificate").value(hostCertificate);
      w.name("host_private_key").value(hostPrivateKey);
      w.name("test").value(test);
      w.endObject();
    } catch (IOException e) {
      throw new UncheckedIOException("writing JSON to a string", e); // a StringWriter does not fail
    }
    return out.toString();
  }

  /**
   * Parses the JSON form.
   *
   * @param json the text from {@link #toJson()}; not null
   * @return the config
   * @throws PluginException if the text is not a valid reattach config; the message names the
   *     field
   */
  public static ReattachConfig fromJson(String json) {
    Objects.requireNonNull(json, "json");
    try {
      JsonObject o = JsonParser.parseString(json).getAsJsonObject();
      Map<String, String> attrs = new TreeMap<>();
      if (o.has("runner_attributes")) {
        if (!o.get("runner_attributes").isJsonObject()) {
          throw new PluginException(
              "invalid reattach config: \"runner_attributes\" is not a JSON object");
        }
        o.getAsJsonObject("runner_attributes")
            .entrySet()
            .forEach(e -> attrs.put(e.getKey(), e.getValue().getAsString()));
      }
      return new ReattachConfig(
          required(o, "protocol"),
          Integer.parseInt(required(o, "protocol_version")),
          new NetAddress(required(o, "network"), required(o, "address")),
          required(o, "runner_kind"),
          required(o, "runner_id"),
          attrs,
          o.has("multiplexed") && o.get("multiplexed").getAsBoolean(),
          optional(o, "plugin_certificate"),
          optional(o, "host_certificate"),
          optional(o, "host_private_key"),
          o.has("test") && o.get("test").getAsBoolean());
    } catch (JsonParseException | IllegalStateException | IllegalArgumentException
        | UnsupportedOperationException e) {
      throw new PluginException("invalid reattach config: " + e.getMessage(), e);
    }
  }

  /** Whether the plugin expects AutoMTLS with the recorded host certificate. */
  public boolean autoMtls() {
    return !hostCertificate.isEmpty();
  }

  /** Like the record's, but never prints the private key. */
  @Override
  public String toString() {
    return "ReattachConfig[protocol=" + protocol + ", protocolVersion=" + protocolVersion
        + ", address=" + address + ", runnerKind=" + runnerKind + ", runnerId=" + runnerId
        + ", runnerAttributes=" + runnerAttributes + ", multiplexed=" + multiplexed
        + ", autoMtls=" + autoMtls() + ", test=" + test + "]";
  }

  private static String optional(JsonObject o, String field) {
    return o.has(field) && !o.get(field).isJsonNull() ? o.get(field).getAsString() : "";
  }

  private static String required(JsonObject o, String field) {
    if (!o.has(field) || o.get(field).isJsonNull()) {
      throw new IllegalArgumentException("missing field \"" + field + "\"");
    }
    return o.get(field).getAsString();
  }
}
