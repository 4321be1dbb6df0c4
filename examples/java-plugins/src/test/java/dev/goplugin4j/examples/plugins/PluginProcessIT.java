package dev.goplugin4j.examples.plugins;

import static org.assertj.core.api.Assertions.assertThat;

import dev.goplugin4j.protocol.Handshake;
import dev.goplugin4j.server.NotLaunchedByHostException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A Java plugin as a process: what it does when started wrongly (no or wrong cookie, a socket
 * directory it cannot use), on signals, and when its Go host dies in the middle of a call or
 * shares no protocol version with it.
 */
class PluginProcessIT {
  private Path work;

  @BeforeEach
  void workDir() throws IOException {
    work = Examples.tempDir("gp4j-pp");
  }

  @AfterEach
  void cleanUp() throws IOException {
    Examples.deleteRecursively(work);
  }

  private Map<String, String> pluginEnv() {
    Map<String, String> env = Examples.javaEnv();
    env.put(ExampleHandshake.MAGIC_COOKIE_KEY, ExampleHandshake.MAGIC_COOKIE_VALUE);
    env.put("PLUGIN_PROTOCOL_VERSIONS", "1");
    env.put("PLUGIN_UNIX_SOCKET_DIR", work.toString());
    return env;
  }

  private Examples.Result runLauncher(List<String> prefix, Map<String, String> env) throws Exception {
    return runLauncher(prefix, Examples.launcher("kv-plugin"), env);
  }

  /** Copies a directory tree, every entry readable (and directories enterable) by all users. */
  private static Path copyReadableByAll(Path from, Path to) throws IOException {
    try (Stream<Path> s = Files.walk(from)) {
      for (Path p : s.toList()) {
        Path target = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(target);
          Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("rwxr-xr-x"));
        } else {
          Files.copy(p, target, java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
          Files.setPosixFilePermissions(target, PosixFilePermissions.fromString(
              Files.isExecutable(p) ? "rwxr-xr-x" : "rw-r--r--"));
        }
      }
    }
    return to;
  }

  private Examples.Result runLauncher(List<String> prefix, Path launcher, Map<String, String> env)
      throws Exception {
    List<String> cmd = Stream.concat(prefix.stream(), Stream.of(launcher.toString())).toList();
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(work.toFile());
    pb.environment().remove(ExampleHandshake.MAGIC_COOKIE_KEY);
    pb.environment().putAll(env);
    Process p = pb.start();
    p.getOutputStream().close();
    CompletableFuture<String> out = Examples.drain(p.getInputStream());
    CompletableFuture<String> err = Examples.drain(p.getErrorStream());
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("plugin exits").isTrue();
    return new Examples.Result(p.exitValue(), out.join(), err.join());
  }

  private List<Path> socketsIn(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(p -> p.getFileName().toString().startsWith("plugin")).toList();
    }
  }

  @Test
  void withoutTheMagicCookieThePluginPrintsGoPluginsGuidanceToStderrAndExitsWith1() throws Exception {
    Map<String, String> env = pluginEnv();
    env.remove(ExampleHandshake.MAGIC_COOKIE_KEY);
    Examples.Result r = runLauncher(List.of(), env);
    assertThat(r.exit()).as(r.toString()).isEqualTo(1);
    assertThat(r.stdout()).isEmpty();
    assertThat(r.stderr()).isEqualTo(NotLaunchedByHostException.GUIDANCE + "\n");
    assertThat(socketsIn(work)).isEmpty();
  }

  @Test
  void withAWrongMagicCookieThePluginRefusesTheSameWay() throws Exception {
    Map<String, String> env = pluginEnv();
    env.put(ExampleHandshake.MAGIC_COOKIE_KEY, "goodbye");
    Examples.Result r = runLauncher(List.of(), env);
    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.stdout()).isEmpty();
    assertThat(r.stderr()).startsWith("This binary is a plugin. These are not meant to be executed directly.");
  }

  @Test
  void aSocketDirectoryThePluginCannotWriteFailsWithAClearErrorAndStatus1() throws Exception {
    Path locked = Files.createDirectory(work.resolve("locked"),
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
    Map<String, String> env = pluginEnv();
    env.put("PLUGIN_UNIX_SOCKET_DIR", locked.toString());
    Files.setPosixFilePermissions(work, PosixFilePermissions.fromString("rwxr-xr-x"));
    // as "nobody": root could write anywhere. nobody may not reach the build tree (a clone in a
    // 0700 directory), so it runs a copy of the plugin's layout that it can read.
    Path dist = copyReadableByAll(Examples.dist(), work.resolve("dist"));
    Examples.Result r = runLauncher(
        List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"),
        dist.resolve("bin").resolve("kv-plugin"), env);
    assertThat(r.exit()).as(r.toString()).isEqualTo(1);
    assertThat(r.stdout()).isEmpty();
    assertThat(r.stderr()).as(r.toString())
        .contains("{\"@level\":\"error\",\"@message\":\"plugin init error: cannot create the plugin's Unix socket in "
            + locked)
        .contains("permission denied for uid 65534, gid 65534");
    assertThat(socketsIn(locked)).isEmpty();
  }

  @Test
  void aSocketPathLongerThanLinuxAllowsFailsWithAClearErrorAndStatus1() throws Exception {
    Path deep = Files.createDirectories(work.resolve("x".repeat(50)).resolve("y".repeat(50)));
    Map<String, String> env = pluginEnv();
    env.put("PLUGIN_UNIX_SOCKET_DIR", deep.toString());
    Examples.Result r = runLauncher(List.of(), env);
    assertThat(r.exit()).as(r.toString()).isEqualTo(1);
    assertThat(r.stdout()).isEmpty();
    assertThat(r.stderr()).contains("the plugin's Unix socket path would be too long")
        .contains("Linux allows at most 107");
    assertThat(socketsIn(deep)).isEmpty();
  }

  /** A running plugin started directly, with its handshake read. */
  private record Running(Process process, Handshake handshake, CompletableFuture<String> restOfStdout,
      CompletableFuture<String> stderr) {}

  private Running start(List<String> command, Map<String, String> env) throws Exception {
    ProcessBuilder pb = new ProcessBuilder(command).directory(work.toFile());
    pb.environment().putAll(env);
    Process p = pb.start();
    p.getOutputStream().close();
    CompletableFuture<String> err = Examples.drain(p.getErrorStream());
    BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    String line = CompletableFuture.supplyAsync(() -> {
      try {
        return r.readLine();
      } catch (IOException e) {
        return null;
      }
    }).get(60, TimeUnit.SECONDS);
    assertThat(line).as("handshake line; stderr: " + err.getNow("")).isNotNull();
    CompletableFuture<String> rest = CompletableFuture.supplyAsync(() -> {
      StringBuilder sb = new StringBuilder();
      try {
        int c;
        while ((c = r.read()) != -1) {
          sb.append((char) c);
        }
      } catch (IOException e) {
        // closed
      }
      return sb.toString();
    });
    return new Running(p, Handshake.parse(line), rest, err);
  }

  @Test
  void sigtermStopsThePluginGracefullyAndRemovesItsSocket() throws Exception {
    Running r = start(List.of(Examples.launcher("kv-plugin").toString()), pluginEnv());
    Path socket = Path.of(r.handshake().address().address());
    assertThat(socket).exists();
    r.process().destroy();
    assertThat(r.process().waitFor(5, TimeUnit.SECONDS)).isTrue();
    assertThat(r.process().exitValue()).isEqualTo(143);
    assertThat(socket).doesNotExist();
    assertThat(r.restOfStdout().get(5, TimeUnit.SECONDS)).isEmpty();
  }

  @Test
  void sigintIsIgnoredAsGoPluginPluginsDo() throws Exception {
    Running r = start(List.of(Examples.launcher("kv-plugin").toString()), pluginEnv());
    try {
      new ProcessBuilder("kill", "-INT", Long.toString(r.process().pid())).start().waitFor();
      assertThat(r.process().waitFor(1500, TimeUnit.MILLISECONDS)).as("still running after SIGINT").isFalse();
      assertThat(Path.of(r.handshake().address().address())).exists();
    } finally {
      r.process().destroy();
      r.process().waitFor(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void theHandshakeIsTheOnlyLineOnStdoutEvenWhenThePluginCodePrints() throws Exception {
    Running r = start(List.of(Examples.java(), "-cp", System.getProperty("java.class.path"),
        SlowKvPlugin.class.getName()), pluginEnv());
    assertThat(r.handshake().appVersion()).isEqualTo(1);
    r.process().destroy();
    assertThat(r.process().waitFor(5, TimeUnit.SECONDS)).isTrue();
    assertThat(r.restOfStdout().get(5, TimeUnit.SECONDS)).isEmpty();
  }

  /** With exec the JVM is the host's child; without, the host's sh is in between. */
  @ParameterizedTest(name = "exec {0}")
  @ValueSource(booleans = {true, false})
  void aPluginWhoseGoHostDiesMidCallNoticesTheCancelExitsAndRemovesItsSocket(boolean exec) throws Exception {
    Path host = Examples.goTestHost("kvhost", "v1.8.0");
    String cp = System.getProperty("java.class.path");
    Map<String, String> env = new HashMap<>();
    env.put("KV_PLUGIN", (exec ? "exec '" : "'") + Examples.java() + "' -cp '" + cp + "' "
        + SlowKvPlugin.class.getName());
    env.put("SLOW_MARKERS_DIR", work.toString());
    env.put("TMPDIR", work.toString());
    ProcessBuilder pb = new ProcessBuilder(host.toString(), "-mtls", "get", "slow-key").directory(work.toFile());
    pb.environment().putAll(env);
    pb.redirectErrorStream(true).redirectOutput(work.resolve("host.log").toFile());
    Process hostProcess = pb.start();
    long pluginPid = awaitMarker("slow-started-");
    // a go-plugin host without a runner gives no socket dir: the plugin uses TMPDIR
    Path socketDir = work;
    assertThat(socketsIn(socketDir)).hasSize(1);

    hostProcess.destroyForcibly().waitFor();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (ProcessHandle.of(pluginPid).map(ProcessHandle::isAlive).orElse(false)) {
      assertThat(System.nanoTime()).as("the plugin outlived its host").isLessThan(deadline);
      Thread.sleep(20);
    }
    assertThat(work.resolve("slow-cancelled-" + pluginPid)).exists();
    assertThat(socketsIn(socketDir)).as("the plugin removed its socket").isEmpty();
  }

  @Test
  void aGoHostSharingNoProtocolVersionReportsTheMismatch() throws Exception {
    Path host = Examples.goTestHost("kvhost", "v1.8.0");
    Map<String, String> env = Examples.javaEnv();
    env.put("KV_PLUGIN", Examples.shCommand("kv-plugin"));
    // a go-plugin host without a runner gives no socket dir: the plugin's socket goes in TMPDIR,
    // here a directory of its own that must be empty once the host has killed it
    Path pluginTmp = Files.createDirectory(work.resolve("tmp"));
    env.put("TMPDIR", pluginTmp.toString());
    Examples.Result r = Examples.run(List.of(host.toString(), "-version", "2", "get", "x"), env, work,
        Examples.COMMAND_TIMEOUT);
    assertThat(r.exit()).as(r.toString()).isEqualTo(1);
    assertThat(r.stdout()).containsIgnoringCase(
        "API version with plugin. Plugin version: 1, Client versions: [2]");
    assertThat(r.stderr()).contains("no common protocol version: the host supports [2], this plugin [1]");
    try (Stream<Path> s = Files.list(pluginTmp)) {
      assertThat(s.toList()).as("what the killed plugin left in its TMPDIR").isEmpty();
    }
  }

  private long awaitMarker(String prefix) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (true) {
      try (Stream<Path> s = Files.list(work)) {
        var found = s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(prefix)).findFirst();
        if (found.isPresent()) {
          return Long.parseLong(found.get().substring(prefix.length()));
        }
      }
      assertThat(System.nanoTime()).as("waiting for " + prefix + "; host log:\n"
          + (Files.exists(work.resolve("host.log")) ? Files.readString(work.resolve("host.log")) : ""))
          .isLessThan(deadline);
      Thread.sleep(Duration.ofMillis(20).toMillis());
    }
  }
}
