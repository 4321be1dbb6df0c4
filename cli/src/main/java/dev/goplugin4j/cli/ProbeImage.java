package dev.goplugin4j.cli;

import dev.goplugin4j.container.internal.Engine;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/**
 * The probe image, {@code goplugin4j-probe:<content hash>[-u<uid>]}: a root file system holding
 * only {@code /probe} ({@link ProbeBinary}), imported locally through the Engine API (no registry,
 * no build tool), entrypoint {@code /probe}, a given numeric {@code USER}. Reused when present.
 */
final class ProbeImage {
  static final String NAME = "goplugin4j-probe";

  private ProbeImage() {}

  /** The tag for a user: the probe's content hash, then {@code -u<uid>} unless root. */
  static String tag(int uid) {
    return contentHash() + (uid == 0 ? "" : "-u" + uid);
  }

  static String contentHash() {
    try {
      return HexFormat.of().formatHex(
          MessageDigest.getInstance("SHA-256").digest(ProbeBinary.elf())).substring(0, 12);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 missing from the JDK", e);
    }
  }

  /**
   * Makes sure the image for {@code uid:gid} exists and returns its ID.
   *
   * @param progress told when an image is built
   */
  static String ensure(Engine engine, EngineApi api, String name, int uid, int gid,
      java.util.function.Consumer<String> progress) {
    String ref = name + ":" + tag(uid);
    List<String> ids = engine.imageIds(ref);
    if (!ids.isEmpty()) {
      return ids.get(0);
    }
    progress.accept("building probe image " + ref + " (" + (ProbeBinary.elf().length)
        + "-byte static binary, FROM scratch, USER " + uid + ":" + gid + ")");
    // name:tag in repo: Podman ignores the separate tag parameter of an import
    String query = "/images/create?fromSrc=-&repo=" + enc(name + ":" + tag(uid))
        + "&changes=" + enc("ENTRYPOINT [\"/probe\"]")
        + "&changes=" + enc("USER " + uid + ":" + gid)
        + "&changes=" + enc("LABEL dev.goplugin4j.probe=" + contentHash());
    String answer = api.postTar("/v" + engine.apiVersion() + query,
        new ByteArrayInputStream(tar(ProbeBinary.elf())));
    if (answer.contains("\"error\"")) {
      throw new dev.goplugin4j.protocol.PluginException("importing the probe image " + ref
          + " failed: " + answer.strip());
    }
    ids = engine.imageIds(ref);
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"(sha256:[0-9a-f]{64})\"")
        .matcher(answer);
    if (ids.isEmpty() && m.find()) {
      return m.group(1);
    }
    if (ids.isEmpty()) {
      throw new dev.goplugin4j.protocol.PluginException("the engine imported the probe image "
          + ref + " but does not list it: " + answer.strip());
    }
    return ids.get(0);
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  /**
   * A tar with a world-writable, sticky directory {@code tmp/} and the executable {@code probe},
   * owned by root ({@link ImageTar}).
   */
  static byte[] tar(byte[] probe) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (ImageTar tar = new ImageTar(out)) {
      tar.dir("tmp", 01777);
      tar.file("probe", 0755, probe);
    } catch (IOException e) {
      throw new UncheckedIOException("writing to memory failed", e); // a byte array does not fail
    }
    return out.toByteArray();
  }
}
