package dev.goplugin4j.cli.docs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.goplugin4j.cli.DocsSupport;
import dev.goplugin4j.testkit.GoPeers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The getting-started programs do what the guide says, against real plugins and the real engine. */
class DocsSnippetsIT {
  @Test
  void hostSnippetRunsGoPluginsKvExample() {
    Path kv = GoPeers.create().goPluginExample(GoPeers.GO_PLUGIN_LATEST, GoPeers.KV_PLUGIN);
    DocsSupport.Result r = DocsSupport.java(KvHost.class, kv.toString());
    assertThat(r.status()).as(r.toString()).isZero();
    assertThat(r.out()).contains("hello = world");
    // the Go KV plugin writes kv_hello in its working directory: never the module's
    assertThat(Path.of("kv_hello")).as("file the plugin wrote in the test's own directory").doesNotExist();
  }

  @Test
  void hostSnippetRunsThePluginSnippet(@TempDir Path dir) throws Exception {
    Path plugin = dir.resolve("kv-plugin-java");
    Files.writeString(plugin, "#!/bin/sh\nexec '" + DocsSupport.javaExecutable() + "' -cp '"
        + System.getProperty("java.class.path") + "' " + KvPluginMain.class.getName() + "\n");
    Files.setPosixFilePermissions(plugin, PosixFilePermissions.fromString("rwx------"));
    DocsSupport.Result r = DocsSupport.java(KvHost.class, plugin.toString());
    assertThat(r.status()).as(r.toString()).isZero();
    assertThat(r.out()).contains("hello = world");
  }

  @Test
  void containerSnippetRunsTheKvPluginInGvisor() {
    String id = DocsSupport.kvImage();
    DocsSupport.Result r = DocsSupport.java(SandboxedKvHost.class, DocsSupport.KV_IMAGE, id);
    assertThat(r.status()).as(r.toString()).isZero();
    assertThat(r.out()).contains("hello = sandboxed");
  }
}
