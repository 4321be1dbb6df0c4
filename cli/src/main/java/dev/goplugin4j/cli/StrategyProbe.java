package dev.goplugin4j.cli;

import dev.goplugin4j.cli.Strategies.Strategy;
import dev.goplugin4j.container.ContainerConfig;
import dev.goplugin4j.container.internal.Engine;
import dev.goplugin4j.container.internal.EngineLocator;
import dev.goplugin4j.host.PluginCommand;
import dev.goplugin4j.host.Runner;
import dev.goplugin4j.protocol.NetAddress;
import dev.goplugin4j.protocol.PluginEnv;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;

/**
 * Measures which socket permission strategy works on this engine for this host user: for each
 * runtime (runc and every registered gVisor runtime) and each {@link Strategy}, it makes a socket
 * directory as {@code PluginClient} does, starts the probe through the container runner ({@link
 * ContainerConfig}, so mounts, capabilities and ACLs are exactly the library's), waits for the
 * probe to bind its socket, and connects to it from this process.
 */
final class StrategyProbe {
  /** The non-root user of the probe for the group strategies (distroless's "nonroot"). */
  static final int NONROOT = 65532;

  /** The socket group for "shared gid" when the host is root (any gid not 0 would do). */
  static final int ROOT_HOST_SHARED_GID = 1500;

  private final CliContext ctx;
  private final EngineFacts facts;
  private final Path socketParent;
  private final boolean quiet;
  private final int euid;

  StrategyProbe(CliContext ctx, EngineFacts facts, Path socketParent, boolean quiet) {
    this.ctx = ctx;
    this.facts = facts;
    this.socketParent = socketParent;
    this.quiet = quiet;
    this.euid = HostChecks.euid();
  }

  List<Check> run() {
    List<Check> out = new ArrayList<>();
    int primaryGid = primaryGid();
    Map<String, String> runtimes = new LinkedHashMap<>();
    if (facts.runtimes().isEmpty() || facts.kind().equals("Podman")) {
      // Podman's Docker-compatible API ignores HostConfig.Runtime: only its default runs
      runtimes.put("", "default runtime" + (facts.defaultRuntime().isEmpty() ? ""
          : " (" + facts.defaultRuntime() + ")"));
    } else {
      runtimes.put(facts.runtimes().containsKey("runc") ? "runc" : "", "runc");
      EngineChecks judge = new EngineChecks(facts, ctx.env());
      for (EngineFacts.Runtime r : facts.runtimes().values()) {
        if (!r.isGvisor()) {
          continue;
        }
        if (EngineChecks.makesHostSockets(judge.effective(r))) {
          runtimes.put(r.name(), r.name());
        } else {
          // every probe would wait out its timeout: the runtime rows already say why and how to fix
          out.add(Check.skip("sockets", r.name() + ": socket permission strategies",
              "not probed: without " + EngineChecks.HOST_UDS + " no socket made in the sandbox"
                  + " appears on the host (see the runtime rows)"));
        }
      }
    }
    int sharedUidUser = facts.rootless() ? 0 : euid;
    Map<Integer, String> images = new LinkedHashMap<>();
    try (Engine engine = new EngineLocator(facts.endpoint(), ctx.env()).connect();
        EngineApi api = EngineApi.open(facts.endpoint(), ctx.env())) {
      for (int uid : List.of(sharedUidUser, NONROOT)) {
        int gid = uid == NONROOT ? NONROOT : (uid == 0 ? 0 : primaryGid);
        images.put(uid, ProbeImage.ensure(engine, api, imageName(), uid, gid, this::progress));
      }
    } catch (RuntimeException e) {
      out.add(Check.fail("sockets", "probe image", "cannot build or find the probe image: "
          + e.getMessage(), "see the engine's message; `docker import` must work"));
      return out;
    }
    for (Map.Entry<String, String> rt : runtimes.entrySet()) {
      List<String> working = new ArrayList<>();
      for (Strategy s : Strategy.values()) {
        Setup setup = setup(s, primaryGid, sharedUidUser);
        String image = images.get(setup.containerUid());
        progress("probing " + rt.getValue() + ": " + s.label + " (" + setup.describe() + ")");
        String failure = probe(rt.getKey(), image, setup);
        String name = rt.getValue() + ": " + s.label;
        if (failure == null) {
          working.add(s.label + " [" + setup.howTo() + "]");
          out.add(Check.ok("sockets", name, "works: " + setup.describe()));
        } else {
          out.add(Check.info("sockets", name, "does not work: " + failure));
        }
      }
      out.add(verdict(rt.getValue(), working));
    }
    return out;
  }

  private String imageName() {
    return ProbeImage.NAME;
  }

  private Check verdict(String runtime, List<String> working) {
    String name = runtime + ": strategy to use";
    if (working.isEmpty()) {
      return Check.fail("sockets", name, "no strategy lets a plugin in a container share a"
              + " socket with this host under " + runtime,
          "see the rows above and the runtime checks (gVisor needs --host-uds); run the host as"
              + " root, or use a rootless engine where container root is your user");
    }
    boolean nonRoot = working.stream().anyMatch(w -> !w.startsWith(Strategy.SHARED_UID.label));
    String detail = String.join("; ", working);
    if (!nonRoot) {
      return Check.warn("sockets", name, detail, "only plugin images that run as "
          + (facts.rootless() ? "root" : "your uid") + " work; non-root images cannot share"
          + " the socket under " + runtime);
    }
    return Check.ok("sockets", name, detail);
  }

  /**
   * How one strategy is set up.
   *
   * @param containerUid the probe's user
   * @param socketGroup the host's socket group (dir 0770 and PLUGIN_UNIX_SOCKET_GROUP), or -1
   * @param groupAdd the container's extra group, or -1
   * @param rootless {@code ContainerConfig.rootless(true)}: default ACL + CAP_DAC_OVERRIDE
   * @param pluginGroup the {@code PLUGIN_UNIX_SOCKET_GROUP} the plugin sees when it differs from
   *     the host's socket group (a rootless engine maps the host user's group to gid 0), or -1
   */
  record Setup(int containerUid, int socketGroup, int groupAdd, boolean rootless,
      int pluginGroup) {
    String describe() {
      return "container uid " + containerUid
          + (socketGroup >= 0 ? ", socket group " + socketGroup : ", no socket group")
          + (groupAdd >= 0 ? ", groupAdd " + groupAdd : "")
          + (rootless ? ", ContainerConfig.rootless(true)" : "")
          + (pluginGroup >= 0 ? ", plugin told socket group " + pluginGroup : "");
    }

    String howTo() {
      if (socketGroup < 0) {
        return containerUid == 0 ? "plugin image runs as root; nothing to configure"
            : "plugin image runs as uid " + containerUid;
      }
      return (rootless ? "ContainerConfig.rootless(true).groupAdd(" : "ContainerConfig.groupAdd(")
          + groupAdd + ")" + (pluginGroup >= 0 ? ".env(\"PLUGIN_UNIX_SOCKET_GROUP\", \""
              + pluginGroup + "\")" : "")
          + ", PluginClient.unixSocketGroup(\"" + socketGroup + "\")";
    }
  }

  Setup setup(Strategy s, int primaryGid, int sharedUidUser) {
    int shareGid = euid == 0 && !facts.rootless() ? ROOT_HOST_SHARED_GID : primaryGid;
    return switch (s) {
      case SHARED_UID -> new Setup(sharedUidUser, -1, -1, false, -1);
      case SHARED_GID -> new Setup(NONROOT, shareGid, shareGid, false, -1);
      case ACL_CAPABILITY -> new Setup(NONROOT, shareGid, shareGid, true, -1);
      // rootless: the host user's group is gid 0 inside, so the plugin must chown to 0
      case GID_0 -> facts.rootless() ? new Setup(NONROOT, primaryGid, 0, false, 0)
          : new Setup(NONROOT, 0, 0, false, -1);
    };
  }

  /** Null when the host connected to the probe's socket, else what went wrong. */
  private String probe(String runtime, String imageId, Setup setup) {
    Path dir;
    try {
      dir = Files.createTempDirectory(socketParent, "goplugin4j-",
          PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    } catch (IOException e) {
      return "cannot make a socket directory in " + socketParent + ": " + e.getMessage();
    }
    Runner runner = null;
    try {
      Map<String, String> env = new LinkedHashMap<>();
      env.put(PluginEnv.UNIX_SOCKET_DIR, dir.toString());
      if (setup.socketGroup() >= 0) {
        try {
          Files.setAttribute(dir, "unix:gid", setup.socketGroup());
          Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwx---"));
        } catch (IOException | SecurityException e) {
          return "the host cannot give its socket directory to group " + setup.socketGroup()
              + " (" + e.getMessage() + "): it must be one of your groups";
        }
        env.put(PluginEnv.UNIX_SOCKET_GROUP, Integer.toString(setup.socketGroup()));
      }
      ContainerConfig.Builder b = ContainerConfig.builder()
          .image(imageName()).tag(ProbeImage.tag(setup.containerUid()))
          .sha256(imageId)
          .runtime(runtime)
          .engineEndpoint(facts.endpoint())
          .disableNetwork(true)
          .pluginName("goplugin4j-doctor-probe")
          .killGrace(java.time.Duration.ZERO);
      if (setup.groupAdd() >= 0) {
        b.groupAdd(setup.groupAdd());
      }
      b.rootless(setup.rootless());
      if (setup.pluginGroup() >= 0) {
        b.env(PluginEnv.UNIX_SOCKET_GROUP, Integer.toString(setup.pluginGroup()));
      }
      runner = b.build().create(new PluginCommand(List.of(), env), dir);
      runner.start();
      Runner r = runner;
      CompletableFuture<String> line = CompletableFuture.supplyAsync(() -> {
        try {
          BufferedReader in = new BufferedReader(
              new InputStreamReader(r.stdout(), StandardCharsets.UTF_8));
          return in.readLine();
        } catch (IOException e) {
          return null;
        }
      });
      String first;
      try {
        first = line.get(30, TimeUnit.SECONDS);
      } catch (TimeoutException e) {
        line.cancel(true);
        return "the probe did not bind its socket within 30 s";
      }
      if (!"ready".equals(first)) {
        return "the probe stopped before listening: " + exitStory(runner);
      }
      NetAddress host = runner.pluginToHost(
          NetAddress.unix("/tmp/go-plugin-container/probe.sock"));
      return connect(Path.of(host.address()));
    } catch (ExecutionException e) {
      return "reading the probe's output failed: " + e.getCause();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "interrupted";
    } catch (RuntimeException e) {
      return firstLine(e.getMessage());
    } finally {
      if (runner != null) {
        try {
          runner.kill();
        } catch (RuntimeException e) {
          ctx.err().println("goplugin4j: warning: cannot remove probe container "
              + runner.id() + ": " + e.getMessage());
        }
      }
      deleteTree(dir);
    }
  }

  private static String connect(Path socket) {
    try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      ch.connect(UnixDomainSocketAddress.of(socket));
      ByteBuffer buf = ByteBuffer.allocate(16);
      while (buf.position() < 3 && ch.read(buf) >= 0) {
        // read "ok\n"
      }
      String got = new String(buf.array(), 0, buf.position(), StandardCharsets.UTF_8);
      return got.startsWith("ok") ? null : "connected, but the probe answered \"" + got + "\"";
    } catch (IOException e) {
      String perms = "";
      try {
        perms = " (socket " + Files.getAttribute(socket, "unix:uid") + ":"
            + Files.getAttribute(socket, "unix:gid") + " "
            + PosixFilePermissions.toString(Files.getPosixFilePermissions(socket)) + ")";
      } catch (IOException | RuntimeException ignored) {
        perms = Files.exists(socket) ? "" : " (no socket on the host side)";
      }
      return "the host cannot connect: " + e.getMessage() + perms;
    }
  }

  private static String exitStory(Runner runner) {
    Integer code;
    try {
      code = runner.onExit().get(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      code = null;
    } catch (ExecutionException | TimeoutException e) {
      code = null;
    }
    String err = "";
    try {
      byte[] bytes = runner.stderr().readNBytes(4096);
      err = new String(bytes, StandardCharsets.UTF_8).strip();
    } catch (IOException | RuntimeException e) {
      // no stderr to show
    }
    return (err.isEmpty() ? "no output" : "\"" + err + "\"")
        + (code == null ? "" : ", exit " + code + errnoName(code));
  }

  /** Names the errno the probe exits with. */
  static String errnoName(int code) {
    return switch (code) {
      case 1 -> " (EPERM: operation not permitted)";
      case 2 -> " (ENOENT: the socket directory is not mounted)";
      case 13 -> " (EACCES: permission denied in the socket directory)";
      case 30 -> " (EROFS: read-only file system)";
      case 95 -> " (EOPNOTSUPP)";
      default -> "";
    };
  }

  private void progress(String message) {
    if (!quiet) {
      ctx.progress(message);
    }
  }

  private int primaryGid() {
    try {
      Path f = Files.createTempFile(socketParent, "goplugin4j-gid-", "");
      try {
        return (Integer) Files.getAttribute(f, "unix:gid");
      } finally {
        Files.deleteIfExists(f);
      }
    } catch (IOException | RuntimeException e) {
      return euid == 0 ? 0 : euid;
    }
  }

  private static String firstLine(String s) {
    return s == null ? "(no message)" : s.lines().findFirst().orElse(s);
  }

  private static void deleteTree(Path p) {
    try (Stream<Path> walk = Files.walk(p)) {
      walk.sorted(Comparator.reverseOrder()).forEach(f -> {
        try {
          Files.deleteIfExists(f);
        } catch (IOException e) {
          // reported below by the caller's leftover check, if any
        }
      });
    } catch (IOException e) {
      // already gone
    }
  }
}
