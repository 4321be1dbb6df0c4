package dev.goplugin4j.cli.docs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.goplugin4j.cli.DocsSupport;
import dev.goplugin4j.testkit.GoPeers;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * getting-started's Java KV plugin under go-plugin's own example host (examples/grpc), with the
 * two commands the guide shows: put and get run as two host processes, each starting the plugin.
 */
class GettingStartedGoHostIT {
  @Test
  void goPluginsExampleHostPutsThenGetsThroughThePluginSnippetInTwoRuns(@TempDir Path dir)
      throws Exception {
    Path host = GoPeers.create().goPluginExample(GoPeers.GO_PLUGIN_LATEST, GoPeers.KV_HOST);
    Files.copy(host, dir.resolve("grpc-example-host"));
    Path plugin = dir.resolve("kv-plugin");
    Files.writeString(plugin, "#!/bin/sh\nexec '" + DocsSupport.javaExecutable() + "' -cp '"
        + System.getProperty("java.class.path") + "' " + KvPluginMain.class.getName() + "\n");
    Files.setPosixFilePermissions(plugin, PosixFilePermissions.fromString("rwx------"));

    // the guide's commands, verbatim
    assertThat(sh(dir, "KV_PLUGIN=./kv-plugin KV_PROTO=grpc ./grpc-example-host put hello world 2>/dev/null"))
        .isEmpty();
    assertThat(sh(dir, "KV_PLUGIN=./kv-plugin KV_PROTO=grpc ./grpc-example-host get hello 2>/dev/null"))
        .isEqualTo("world\n\nWritten from plugin-java-grpc\n");
    assertThat(dir.resolve("kv_hello")).as("the file the plugin keeps the value in").exists();
  }

  private static String sh(Path dir, String command) throws IOException, InterruptedException {
    Process p = new ProcessBuilder("sh", "-c", command).directory(dir.toFile())
        .redirectError(ProcessBuilder.Redirect.INHERIT).start();
    try {
      p.getOutputStream().close();
      byte[] out = p.getInputStream().readAllBytes();
      assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("host finished: " + command).isTrue();
      String printed = new String(out, StandardCharsets.UTF_8);
      assertThat(p.exitValue()).as(command + " printed " + printed).isZero();
      return printed;
    } finally {
      p.destroyForcibly();
    }
  }
}
