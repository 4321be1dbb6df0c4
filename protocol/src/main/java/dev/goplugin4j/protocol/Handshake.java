package dev.goplugin4j.protocol;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * The handshake line a plugin prints as the first line of its stdout:
 * {@code CORE|APP|NETWORK|ADDRESS|PROTOCOL|CERT[|MUX]}.
 *
 * <p>{@link #parse(String)} reads a line exactly as a go-plugin host does; {@link #format()} writes
 * one exactly as a go-plugin server does (always six fields, a seventh only when {@link #mux()} is
 * present). Checks that need the host's configuration (core version, app version, protocol,
 * multiplexing) are separate methods so the caller can attach its own diagnosis.
 *
 * <p>Immutable and thread-safe.
 *
 * @param coreVersion the core protocol version; go-plugin speaks {@value PluginEnv#CORE_PROTOCOL_VERSION}
 * @param appVersion the negotiated app protocol version
 * @param address where the plugin serves, as the plugin sees it
 * @param protocol {@value #GRPC} or {@value #NETRPC}; not null
 * @param certificate the plugin's certificate, DER in base64 without padding, or empty when the
 *     plugin uses no AutoMTLS; not null
 * @param mux the seventh field as printed ({@code true}/{@code false}), or empty when absent
 */
public record Handshake(
    int coreVersion,
    int appVersion,
    NetAddress address,
    String protocol,
    String certificate,
    Optional<String> mux) {

  /** The gRPC protocol name. */
  public static final String GRPC = "grpc";

  /** Go's net/rpc protocol name; a Java peer cannot speak it. */
  public static final String NETRPC = "netrpc";

  /**
   * go-plugin only treats the certificate field as a certificate when it is longer than this, so
   * older plugins' unused sixth field is ignored.
   */
  private static final int MIN_CERT_FIELD_LENGTH = 50;

  /** Validates the fields; see the class description. */
  public Handshake {
    Objects.requireNonNull(address, "address");
    Objects.requireNonNull(protocol, "protocol");
    Objects.requireNonNull(certificate, "certificate");
    Objects.requireNonNull(mux, "mux");
    if (protocol.isEmpty() || protocol.contains("|")) {
      throw new IllegalArgumentException("protocol must be a non-empty word, got \"" + protocol + "\"");
    }
    if (certificate.contains("|")) {
      throw new IllegalArgumentException("certificate must not contain '|'");
    }
  }

  /**
   * Parses a handshake line the way a go-plugin host does. Surrounding whitespace is trimmed.
   * Fields beyond the fourth are optional: the protocol defaults to {@value #NETRPC}, the
   * certificate to empty, the mux field to absent.
   *
   * @param line the first line the plugin printed; not null
   * @return the parsed handshake
   * @throws HandshakeException if the line has fewer than four fields, a version is not an
   *     integer, or the network is neither {@code unix} nor {@code tcp}
   */
  public static Handshake parse(String line) {
    Objects.requireNonNull(line, "line");
    String trimmed = goTrimSpace(line);
    String[] parts = trimmed.split("\\|", -1);
    if (parts.length < 4) {
      throw new HandshakeException(
          "unrecognized remote plugin message: \"" + abbreviate(trimmed) + "\"");
    }
    int core = parseInt(parts[0], "core protocol version");
    int app = parseInt(parts[1], "app protocol version");
    String network = parts[2];
    if (!NetAddress.UNIX.equals(network) && !NetAddress.TCP.equals(network)) {
      throw new HandshakeException(
          "unknown address type \""
              + abbreviate(network)
              + "\" in the plugin's handshake (expected \"unix\" or \"tcp\"): \""
              + abbreviate(trimmed)
              + "\"");
    }
    if (parts[3].isEmpty()) {
      throw new HandshakeException("the plugin's handshake has an empty address: \"" + abbreviate(trimmed) + "\"");
    }
    NetAddress address = new NetAddress(network, parts[3]);
    String protocol = parts.length >= 5 && !parts[4].isEmpty() ? parts[4] : NETRPC;
    String cert = parts.length >= 6 ? parts[5] : "";
    Optional<String> mux = parts.length >= 7 ? Optional.of(parts[6]) : Optional.empty();
    return new Handshake(core, app, address, protocol, cert, mux);
  }

  /**
   * Formats the line as a go-plugin server prints it (without the trailing newline).
   *
   * @return {@code CORE|APP|NETWORK|ADDRESS|PROTOCOL|CERT} plus {@code |MUX} when present
   */
  public String format() {
    StringBuilder sb =
        new StringBuilder()
            .append(coreVersion)
            .append('|')
            .append(appVersion)
            .append('|')
            .append(address.network())
            .append('|')
            .append(address.address())
            .append('|')
            .append(protocol)
            .append('|')
            .append(certificate);
    mux.ifPresent(m -> sb.append('|').append(m));
    return sb.toString();
  }

  /**
   * Whether the certificate field holds a certificate (go-plugin ignores fields of 50 characters
   * or fewer).
   *
   * @return true when {@link #certificate()} should be parsed
   */
  public boolean hasCertificate() {
    return certificate.length() > MIN_CERT_FIELD_LENGTH;
  }

  /**
   * Checks the core protocol version.
   *
   * @throws HandshakeException if it is not {@value PluginEnv#CORE_PROTOCOL_VERSION}
   */
  public void checkCoreVersion() {
    if (coreVersion != PluginEnv.CORE_PROTOCOL_VERSION) {
      throw new HandshakeException(
          "incompatible core API version with plugin. Plugin version: "
              + coreVersion
              + ", core version: "
              + PluginEnv.CORE_PROTOCOL_VERSION
              + ". To fix this, the plugin usually only needs to be recompiled against a current"
              + " go-plugin; please report this to the plugin author");
    }
  }

  /**
   * Checks that the plugin picked an app version the host offered.
   *
   * @param hostVersions the versions the host offered; not empty
   * @throws IncompatibleVersionException if {@link #appVersion()} is not among them
   */
  public void checkAppVersion(Collection<Integer> hostVersions) {
    if (!hostVersions.contains(appVersion)) {
      throw new IncompatibleVersionException(
          "incompatible API version with plugin. Plugin version: "
              + appVersion
              + ", host versions: "
              + new TreeSet<>(hostVersions)
              + " (offered in " + PluginEnv.PROTOCOL_VERSIONS + "). The plugin supports none of"
              + " the host's versions: upgrade the plugin or the host so that they share a protocol"
              + " version",
          appVersion, hostVersions, null);
    }
  }

  /**
   * Checks that the plugin speaks gRPC.
   *
   * @throws HandshakeException if the protocol is {@code netrpc} or unknown
   */
  public void checkGrpc() {
    if (NETRPC.equals(protocol)) {
      throw new HandshakeException(
          "the plugin speaks Go's net/rpc protocol, which only Go hosts can use; goplugin4j"
              + " supports gRPC plugins only. Ask the plugin author for a gRPC build (go-plugin"
              + " ServeConfig.GRPCServer) or use a Go host");
    }
    if (!GRPC.equals(protocol)) {
      throw new HandshakeException(
          "unsupported plugin protocol \"" + protocol + "\"; supported: [" + GRPC + "]");
    }
  }

  /**
   * Checks the seventh field when the host asked for the multiplexed broker.
   *
   * @throws MultiplexingNotSupportedException if the field is missing (the plugin's go-plugin
   *     predates v1.6), is not a boolean, or is false
   */
  public void checkMultiplexSupported() {
    if (mux.isEmpty()) {
      throw new MultiplexingNotSupportedException(
          "the host asked for the multiplexed gRPC broker but the plugin's handshake has no"
              + " seventh field: the plugin's go-plugin is too old, recompile it with go-plugin"
              + " v1.6 or newer, or turn multiplexing off in the host");
    }
    Boolean value = parseGoBool(mux.get());
    if (value == null) {
      throw new MultiplexingNotSupportedException(
          "the plugin's handshake field 7 (multiplexing support) is \""
              + abbreviate(mux.get())
              + "\", not a boolean");
    }
    if (!value) {
      throw new MultiplexingNotSupportedException(
          "the plugin does not support the multiplexed gRPC broker; turn multiplexing off in the"
              + " host or upgrade the plugin");
    }
  }

  /**
   * Picks the app version a plugin serves, as go-plugin's server does: the highest version the
   * plugin has that the host also offers; with no common version, the plugin's lowest version (so
   * a legacy host that sent no list still gets served and the host reports the mismatch).
   *
   * @param hostVersions versions the host offered (may be empty)
   * @param pluginVersions versions the plugin supports; not empty
   * @return the chosen version
   * @throws IllegalArgumentException if {@code pluginVersions} is empty
   */
  public static int negotiate(Collection<Integer> hostVersions, Collection<Integer> pluginVersions) {
    if (pluginVersions.isEmpty()) {
      throw new IllegalArgumentException("pluginVersions must not be empty");
    }
    SortedSet<Integer> ours = new TreeSet<>(pluginVersions);
    for (Integer v : ((TreeSet<Integer>) ours).descendingSet()) {
      if (hostVersions.contains(v)) {
        return v;
      }
    }
    return ours.first();
  }

  /**
   * Parses {@code PLUGIN_PROTOCOL_VERSIONS} as go-plugin does: comma-separated integers; entries
   * that are not integers are skipped.
   *
   * @param value the variable's value; null or empty gives an empty list
   * @return the versions, in the order given
   */
  public static List<Integer> parseVersionList(String value) {
    List<Integer> out = new ArrayList<>();
    if (value == null || value.isEmpty()) {
      return out;
    }
    for (String s : value.split(",")) {
      try {
        out.add(Integer.parseInt(s.strip()));
      } catch (NumberFormatException e) {
        // go-plugin skips invalid entries too
      }
    }
    return out;
  }

  /**
   * Go's {@code strings.TrimSpace}, which go-plugin applies to the line: Unicode White_Space.
   * Not {@link String#strip()}: Java's whitespace takes U+001C..U+001F and leaves U+00A0 and
   * U+202F, so a field ending in such a character would parse differently from Go.
   */
  static String goTrimSpace(String s) {
    int start = 0;
    int end = s.length();
    while (start < end && isGoSpace(s.charAt(start))) {
      start++;
    }
    while (end > start && isGoSpace(s.charAt(end - 1))) {
      end--;
    }
    return s.substring(start, end);
  }

  /** Go's {@code unicode.IsSpace}: no White_Space character lies outside the BMP. */
  private static boolean isGoSpace(char c) {
    switch (c) {
      case '\t', '\n', '\u000B', '\f', '\r', ' ', '\u0085':
        return true;
      default:
        return c > 0xFF && Character.isSpaceChar(c) || c == '\u00A0';
    }
  }

  /** Go's {@code strconv.Atoi}: an optional sign and ASCII digits only, in int range. */
  private static final java.util.regex.Pattern GO_INT = java.util.regex.Pattern.compile("[+-]?[0-9]+");

  private static int parseInt(String field, String what) {
    if (!GO_INT.matcher(field).matches()) {
      throw new HandshakeException(
          "error parsing " + what + " \"" + abbreviate(field) + "\" in the plugin's handshake:"
              + " not an integer");
    }
    try {
      return Integer.parseInt(field);
    } catch (NumberFormatException e) {
      throw new HandshakeException(
          "error parsing " + what + " \"" + abbreviate(field) + "\" in the plugin's handshake: not an integer", e);
    }
  }

  /** Go's strconv.ParseBool; null when the text is not a boolean. */
  static Boolean parseGoBool(String s) {
    switch (s) {
      case "1", "t", "T", "TRUE", "true", "True":
        return Boolean.TRUE;
      case "0", "f", "F", "FALSE", "false", "False":
        return Boolean.FALSE;
      default:
        return null;
    }
  }

  private static String abbreviate(String s) {
    String oneLine = s.replace("\n", "\\n").replace("\r", "\\r");
    return oneLine.length() <= 200
        ? oneLine
        : oneLine.substring(0, 200) + "… (" + oneLine.length() + " chars)";
  }

}
