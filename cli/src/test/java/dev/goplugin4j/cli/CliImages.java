package dev.goplugin4j.cli;

import dev.goplugin4j.testkit.GoPeers;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * The ITs' plugin image: plugincontainer's counter plugin (built by the testkit with Go), in a
 * {@code FROM scratch} image made with {@code docker import} (no registry, no Dockerfile).
 */
final class CliImages {
  static final String COUNTER = "goplugin4j-cli-it/plugin-counter";

  private CliImages() {}

  /** go-plugin's KV example plugin; it writes kv_KEY files in its working dir, /tmp here. */
  static final String KV = "goplugin4j-cli-it/plugin-kv";

  /** Builds the counter image if needed and returns its ID. */
  static synchronized String counter() {
    return image(COUNTER, GoPeers.create().pluginContainerCounter());
  }

  /** Builds the KV image if needed and returns its ID. */
  static synchronized String kv() {
    return image(KV, GoPeers.create().goPluginExample(GoPeers.GO_PLUGIN_LATEST,
        GoPeers.KV_PLUGIN));
  }

  /** The tag an image of this binary gets: the binary's content hash from its cache name. */
  static String tagFor(Path binary) {
    return binary.getFileName().toString().replaceAll(".*-", "");
  }

  private static String image(String name, Path binary) {
    String tag = tagFor(binary);
    String ref = name + ":" + tag;
    String id = CliProcess.sh("docker", "images", "-q", "--no-trunc", ref).strip();
    if (!id.isEmpty()) {
      return id;
    }
    Path root = null;
    Path tar = null;
    try {
      root = Files.createTempDirectory("goplugin4j-cli-image-");
      Path bin = Files.createDirectories(root.resolve("bin"));
      Files.copy(binary, bin.resolve("go-plugin-counter"));
      Files.setPosixFilePermissions(bin.resolve("go-plugin-counter"),
          PosixFilePermissions.fromString("rwxr-xr-x"));
      Files.createDirectories(root.resolve("tmp"));
      tar = Files.createTempFile("goplugin4j-cli-image-", ".tar");
      CliProcess.sh("tar", "--numeric-owner", "--owner=0", "--group=0", "-C", root.toString(),
          "-cf", tar.toString(), ".");
      CliProcess.sh("docker", "import", "--change", "ENTRYPOINT [\"/bin/go-plugin-counter\"]",
          "--change", "WORKDIR /tmp", tar.toString(), ref);
      return CliProcess.sh("docker", "images", "-q", "--no-trunc", ref).strip();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      CliProcess.sh("rm", "-rf", root == null ? "/nonexistent" : root.toString(),
          tar == null ? "/nonexistent" : tar.toString());
    }
  }

  static String tagOf(String ref) {
    return ref.substring(ref.indexOf(':') + 1);
  }
}
