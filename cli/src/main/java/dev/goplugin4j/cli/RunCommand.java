package dev.goplugin4j.cli;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.goplugin4j.container.ContainerConfig;
import dev.goplugin4j.host.GrpcPlugin;
import dev.goplugin4j.host.PluginClient;
import dev.goplugin4j.host.ReattachConfig;
import dev.goplugin4j.protocol.MultiplexingNotSupportedException;
import dev.goplugin4j.protocol.PluginException;
import io.grpc.Channel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code goplugin4j run}: starts a plugin (an executable, or an image in a container), performs
 * the handshake, and prints what a user needs to know about it.
 */
@Command(
    name = "run",
    mixinStandardHelpOptions = true,
    description = {
        "Start a go-plugin plugin from an executable or an image, handshake, and print the"
            + " negotiated protocol version, address, protocol, multiplexing, the gRPC services it"
            + " serves (server reflection) and its health; then stop it (or, with --keep, leave it"
            + " running and print the reattach JSON).",
        "Multiplexing: by default run asks for the multiplexed broker, so that the plugin says"
            + " whether it supports it (go-plugin v1.6+ answers in the handshake's seventh field);"
            + " a plugin that refuses it or is too old to answer is started again without it and"
            + " reported as not supporting it (such a plugin, older than go-plugin 1.5, makes its"
            + " socket in TMPDIR, which the host points at the plugin's socket directory unless"
            + " --env sets one, so nothing of its first, killed start is left behind). With --keep it is not asked for (a multiplexed"
            + " plugin serves only its first host connection, so it could not be reattached).",
        "Examples:",
        "  goplugin4j run --magic-cookie BASIC_PLUGIN=hello ./kv-plugin",
        "  goplugin4j run --magic-cookie BASIC_PLUGIN=hello --image go-plugin-counter"
            + " --runtime runsc --no-network --memory 64m --cpus 0.5"})
final class RunCommand implements Callable<Integer> {
  private final CliContext ctx;

  @picocli.CommandLine.Spec
  picocli.CommandLine.Model.CommandSpec spec;

  @Parameters(index = "0", arity = "0..1", paramLabel = "EXECUTABLE",
      description = "The plugin executable (or use --image).")
  Path executable;

  @Parameters(index = "1..*", paramLabel = "ARG",
      description = "Arguments: for an executable, its arguments; with --image, replaces the"
          + " image's CMD.")
  List<String> args = new ArrayList<>();

  @Option(names = "--magic-cookie", required = true, paramLabel = "KEY=VALUE",
      description = "The plugin's handshake magic cookie (go-plugin HandshakeConfig"
          + " MagicCookieKey/MagicCookieValue), e.g. BASIC_PLUGIN=hello.")
  String magicCookie;

  @Option(names = "--protocol-version", paramLabel = "N", split = ",",
      description = "App protocol versions the host offers (repeat or comma-separate); the"
          + " plugin picks the highest it supports. Default: 1.")
  List<Integer> protocolVersions = new ArrayList<>();

  @Option(names = "--multiplex", negatable = true,
      description = "--multiplex: require the multiplexed broker (yamux), failing when the plugin"
          + " lacks it. --no-multiplex: do not ask. Default: ask, and start the plugin again"
          + " without it when it refuses (not asked with --keep).")
  Boolean multiplex;

  @Option(names = "--no-auto-mtls", description = "Do not use AutoMTLS (plain gRPC).")
  boolean noAutoMtls;

  @Option(names = "--start-timeout", paramLabel = "SECONDS", defaultValue = "60",
      description = "How long to wait for the handshake. Default: ${DEFAULT-VALUE}.")
  int startTimeoutSeconds;

  @Option(names = "--socket-group", paramLabel = "GID",
      description = "Group (gid or name) that owns the plugin's sockets (PluginClient"
          + " unixSocketGroup); with --image it is also added to the container (groupAdd) when"
          + " numeric, unless --group-add is given.")
  String socketGroup;

  @Option(names = "--socket-dir", paramLabel = "DIR",
      description = "Parent of the socket directory (PluginClient unixSocketTempDir).")
  Path socketDir;

  @Option(names = "--env", paramLabel = "KEY=VALUE",
      description = "Extra environment for the plugin (repeatable).")
  Map<String, String> env = new LinkedHashMap<>();

  @Option(names = "--sha256", paramLabel = "HEX",
      description = "For an executable: its expected SHA-256. With --image: the image ID to pin"
          + " (as `docker images --no-trunc` prints).")
  String sha256;

  @Option(names = "--keep",
      description = "Leave the plugin running and print its reattach JSON (it contains the"
          + " host's AutoMTLS private key: store it owner-only).")
  boolean keep;

  @Option(names = "--json", description = "Print the result as JSON.")
  boolean json;

  @ArgGroup(exclusive = false, heading = "Container options (with --image):%n")
  ContainerOptions container;

  /** Options that turn {@code run} into a container run. */
  static final class ContainerOptions {
    @Option(names = "--image", required = true, paramLabel = "NAME",
        description = "Run the plugin in a container from this local image (no tag).")
    String image;

    @Option(names = "--tag", description = "Image tag. Default: the engine's (latest).")
    String tag;

    @Option(names = "--runtime", description = "OCI runtime, e.g. runc or runsc (gVisor).")
    String runtime;

    @Option(names = "--memory", paramLabel = "SIZE",
        description = "Memory limit: bytes, or with k, m, g (e.g. 64m).")
    String memory;

    @Option(names = "--cpus", paramLabel = "CPUS", description = "CPU limit, e.g. 0.5.")
    Double cpus;

    @Option(names = "--no-network", description = "No network in the container (only lo).")
    boolean noNetwork;

    @Option(names = "--group-add", paramLabel = "GID",
        description = "Extra gid for the container process.")
    Integer groupAdd;

    @Option(names = "--rootless",
        description = "Default ACL + CAP_DAC_OVERRIDE (upstream's rootless strategy).")
    boolean rootless;

    @Option(names = "--entrypoint", split = ",", paramLabel = "ARG",
        description = "Replace the image's entrypoint (comma-separated).")
    List<String> entrypoint;

    @Option(names = "--engine", paramLabel = "ENDPOINT",
        description = "Engine endpoint (unix:// or tcp://). Default: discover.")
    String engine;

    @Option(names = "--debug",
        description = "Keep the container after exit and add its logs to failures.")
    boolean debug;
  }

  RunCommand(CliContext ctx) {
    this.ctx = ctx;
  }

  @Override
  public Integer call() {
    if ((executable == null) == (container == null)) {
      throw new picocli.CommandLine.ParameterException(
          spec.commandLine(), executable == null
              ? "give the plugin EXECUTABLE or --image" : "give EXECUTABLE or --image, not both");
    }
    int eq = magicCookie.indexOf('=');
    if (eq <= 0) {
      throw new picocli.CommandLine.ParameterException(spec.commandLine(),
          "--magic-cookie must be KEY=VALUE, got \"" + magicCookie + "\"");
    }
    List<Integer> versions = protocolVersions.isEmpty() ? List.of(1) : protocolVersions;
    // null: ask, to learn whether the plugin supports it, and fall back without
    boolean probeMux = multiplex == null && !keep;
    PluginClient.Builder b = PluginClient.builder()
        .handshake(versions.get(versions.size() - 1), magicCookie.substring(0, eq),
            magicCookie.substring(eq + 1))
        .autoMtls(!noAutoMtls)
        .multiplexBroker(probeMux || Boolean.TRUE.equals(multiplex))
        .startTimeout(Duration.ofSeconds(startTimeoutSeconds));
    GrpcPlugin<Channel> raw = (channel, broker) -> channel;
    for (int v : versions) {
      b.plugins(v, Map.of("channel", raw));
    }
    env.forEach(b::env);
    if (socketGroup != null) {
      b.unixSocketGroup(socketGroup);
    }
    if (socketDir != null) {
      b.unixSocketTempDir(socketDir);
    }
    String what;
    if (executable != null) {
      if (!Files.isRegularFile(executable)) {
        throw new PluginException("no plugin executable at " + executable);
      }
      b.command(executable.toAbsolutePath().toString(), args.toArray(new String[0]));
      if (sha256 != null) {
        b.sha256(sha256);
      }
      what = executable.toString();
    } else {
      ContainerConfig cfg = containerConfig();
      b.runner(cfg);
      what = "image " + cfg.namedRef()
          + (cfg.runtime().isEmpty() ? "" : " (runtime " + cfg.runtime() + ")");
    }
    ctx.progress("starting " + what + "; waiting for its handshake (timeout "
        + startTimeoutSeconds + " s)");
    long t0 = System.nanoTime();
    PluginClient client = b.build();
    boolean detached = false;
    MuxSupport mux;
    try {
      try {
        client.start();
        mux = probeMux ? MuxSupport.YES : MuxSupport.NOT_ASKED;
      } catch (MultiplexingNotSupportedException e) {
        if (!probeMux) {
          throw e;
        }
        // the only handshake failure that starting again without multiplexing can cure: every
        // other field was accepted before this check; any other failure is reported as it is
        client.close();
        String why = e.getMessage().lines().findFirst().orElse("");
        ctx.progress("the plugin did not accept the multiplexed broker (" + why + "); starting it"
            + " again without it");
        client = b.multiplexBroker(false).build();
        t0 = System.nanoTime();
        client.start();
        mux = MuxSupport.no(why);
      }
      long ms = (System.nanoTime() - t0) / 1_000_000;
      ctx.progress("connected in " + ms + " ms; asking for its services");
      ReattachConfig rc = client.reattachConfig().orElseThrow();
      Channel channel = client.dispense("channel", Channel.class);
      Reflection.Services services = Reflection.listServices(channel, Duration.ofSeconds(5));
      String health;
      try {
        client.ping();
        health = "SERVING";
      } catch (PluginException e) {
        health = "NOT SERVING: " + e.getMessage();
      }
      print(what, rc, services, health, ms, mux);
      if (keep) {
        client.detach();
        detached = true;
        ctx.out().println(rc.toJson());
        ctx.out().flush();
        ctx.progress("left running: " + rc.runnerKind() + " " + rc.runnerId() + ". The JSON"
            + " above holds the host's private key: store it owner-only. Stop it with "
            + (rc.runnerKind().equals(ReattachConfig.KIND_CONTAINER)
                ? "`docker rm -f " + rc.runnerId() + "`" : "`kill " + rc.runnerId() + "`"));
      }
      return health.equals("SERVING") ? 0 : 1;
    } finally {
      if (!detached) {
        client.close();
      }
    }
  }

  private ContainerConfig containerConfig() {
    ContainerOptions c = container;
    ContainerConfig.Builder cb = ContainerConfig.builder().image(c.image);
    if (c.tag != null) {
      cb.tag(c.tag);
    }
    if (sha256 != null) {
      cb.sha256(sha256);
    }
    if (c.runtime != null) {
      cb.runtime(c.runtime);
    }
    if (c.memory != null) {
      cb.memory(parseSize(c.memory));
    }
    if (c.cpus != null) {
      cb.nanoCpus(Math.round(c.cpus * 1e9));
    }
    cb.disableNetwork(c.noNetwork);
    if (c.groupAdd != null) {
      cb.groupAdd(c.groupAdd);
    } else if (socketGroup != null && socketGroup.chars().allMatch(Character::isDigit)) {
      cb.groupAdd(Integer.parseInt(socketGroup));
    }
    cb.rootless(c.rootless);
    if (c.entrypoint != null) {
      cb.entrypoint(c.entrypoint);
    }
    if (!args.isEmpty()) {
      cb.args(args);
    }
    if (c.engine != null) {
      cb.engineEndpoint(c.engine);
    }
    cb.debug(c.debug);
    return cb.build();
  }

  /** Bytes from {@code 123}, {@code 64k}, {@code 64m}, {@code 1g} (binary units). */
  static long parseSize(String s) {
    String t = s.strip().toLowerCase(Locale.ROOT);
    long mult = 1;
    if (t.endsWith("b")) {
      t = t.substring(0, t.length() - 1);
    }
    if (t.endsWith("k")) {
      mult = 1L << 10;
    } else if (t.endsWith("m")) {
      mult = 1L << 20;
    } else if (t.endsWith("g")) {
      mult = 1L << 30;
    }
    if (mult != 1) {
      t = t.substring(0, t.length() - 1);
    }
    try {
      return Math.multiplyExact(Long.parseLong(t), mult);
    } catch (NumberFormatException | ArithmeticException e) {
      throw new IllegalArgumentException("--memory must be bytes or a size like 64m, got \""
          + s + "\"");
    }
  }

  /**
   * What is known of the plugin's multiplexing support.
   *
   * @param supported true or false when the plugin answered; null when it was not asked
   * @param note what to show
   */
  record MuxSupport(Boolean supported, String note) {
    static final MuxSupport YES = new MuxSupport(true, "yes (yamux broker)");
    static final MuxSupport NOT_ASKED = new MuxSupport(null, "not asked");

    static MuxSupport no(String why) {
      return new MuxSupport(false, "no, the plugin does not support it: " + why);
    }
  }

  private String notAskedWhy() {
    return keep
        ? "not asked: with --keep the plugin must accept a second host connection, which a"
            + " multiplexed plugin does not (--multiplex asks anyway)"
        : "not asked (--no-multiplex)";
  }

  private void print(String what, ReattachConfig rc, Reflection.Services services, String health,
      long ms, MuxSupport mux) {
    String muxNote = mux.supported() == null ? notAskedWhy() : mux.note();
    if (json) {
      JsonObject o = new JsonObject();
      o.addProperty("plugin", what);
      o.addProperty("runner_kind", rc.runnerKind());
      o.addProperty("runner_id", rc.runnerId());
      o.addProperty("protocol_version", rc.protocolVersion());
      o.addProperty("network", rc.address().network());
      o.addProperty("address", rc.address().address());
      o.addProperty("protocol", rc.protocol());
      o.addProperty("multiplexed", rc.multiplexed());
      o.addProperty("multiplex_supported", mux.supported());
      o.addProperty("multiplex", muxNote);
      o.addProperty("auto_mtls", rc.autoMtls());
      o.addProperty("reflection", services.api());
      JsonArray list = new JsonArray();
      services.names().forEach(list::add);
      o.add("services", list);
      o.addProperty("health", health);
      o.addProperty("start_ms", ms);
      ctx.out().println(new GsonBuilder().disableHtmlEscaping().setPrettyPrinting().create()
          .toJson(o));
    } else {
      Map<String, String> rows = new java.util.LinkedHashMap<>();
      rows.put("plugin", what + " (" + rc.runnerKind() + " " + rc.runnerId() + ")");
      rows.put("protocol version", Integer.toString(rc.protocolVersion()));
      rows.put("address", rc.address().network() + " " + rc.address().address());
      rows.put("protocol", rc.protocol() + (rc.autoMtls() ? " with AutoMTLS" : " (no TLS)"));
      rows.put("multiplexed", muxNote);
      rows.put("health", health);
      rows.put("services", services.names().isEmpty() ? services.api()
          : String.join("\n" + " ".repeat(20), services.names()));
      rows.put("started in", ms + " ms");
      rows.forEach((k, v) -> ctx.out().printf("%-18s  %s%n", k + ":", v));
    }
    ctx.out().flush();
  }
}
