package dev.goplugin4j.container;

import com.sun.jna.Function;
import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import com.sun.jna.NativeLibrary;
import dev.goplugin4j.testkit.GoPeers;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;

/**
 * The matrix's images of plugincontainer's {@code plugin-counter}, built locally without a registry
 * (static Go binary, {@code FROM scratch}), imported into rootful Docker and copied into every
 * other engine with {@code docker save} / {@code load}, so each engine holds the same image IDs.
 *
 * <ul>
 *   <li>{@code :root} runs as uid 0;
 *   <li>{@code :nonroot} runs as {@code USER 1234:1234};
 *   <li>{@code :nonroot-mlock} runs as {@code USER 1234:1234} a copy of the binary carrying the file
 *       capability {@code cap_ipc_lock+ep} (as plugincontainer's {@code nonroot-mlock} target), the
 *       only way a non-root process gets {@code IPC_LOCK} under Docker; it needs {@code
 *       noNewPrivileges(false)}.
 * </ul>
 *
 * <p>The root of the image's file system is {@code 0755} (Podman applies the mode of the tar's
 * {@code ./} entry; Docker does not). An engine is loaded only when its copy's content label differs.
 */
final class MatrixImages {
  static final String COUNTER = "goplugin4j-matrix/plugin-counter";
  static final String ROOT = "root";
  static final String NONROOT = "nonroot";
  static final String NONROOT_MLOCK = "nonroot-mlock";
  static final int NONROOT_UID = 1234;

  private static final String HASH_LABEL = "dev.goplugin4j.test.content";
  private static final int CAP_IPC_LOCK = 14;
  private static final Set<MatrixEngine> loaded = EnumSet.noneOf(MatrixEngine.class);
  private static String contentHash;

  private MatrixImages() {}

  /** Builds the images (once per JVM) and makes sure {@code engine} holds them. */
  static synchronized void ensureIn(MatrixEngine engine) {
    if (contentHash == null) {
      contentHash = build();
    }
    if (engine == MatrixEngine.ROOTFUL_DOCKER || loaded.contains(engine)) {
      return;
    }
    String endpoint = engine.requireEndpoint("runc");
    List<String> refs = refs();
    boolean current = refs.stream().allMatch(r -> contentHash.equals(label(endpoint, r)));
    if (!current) {
      Path tar = null;
      try {
        tar = Files.createTempFile("goplugin4j-matrix-images-", ".tar");
        List<String> save = new ArrayList<>(List.of("docker", "save", "-o", tar.toString()));
        save.addAll(refs);
        TestImages.run(save);
        TestImages.run(List.of("docker", "-H", endpoint, "load", "-i", tar.toString()));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      } finally {
        TestImages.deleteTree(tar);
      }
    }
    loaded.add(engine);
  }

  static String ref(String tag) {
    return COUNTER + ":" + tag;
  }

  private static List<String> refs() {
    return List.of(ref(ROOT), ref(NONROOT), ref(NONROOT_MLOCK));
  }

  private static String label(String endpoint, String ref) {
    try {
      return TestImages.run(List.of("docker", "-H", endpoint, "image", "inspect", "--format",
          "{{index .Config.Labels \"" + HASH_LABEL + "\"}}", ref)).strip();
    } catch (IllegalStateException e) {
      return "";
    }
  }

  /** Builds the three images in rootful Docker unless current; returns the content hash. */
  private static String build() {
    Path counter = GoPeers.create().pluginContainerCounter();
    String hash = hash(counter);
    String endpoint = MatrixEngine.ROOTFUL_DOCKER.requireEndpoint("runc");
    if (refs().stream().allMatch(r -> hash.equals(label(endpoint, r)))) {
      return hash;
    }
    String entry = "ENTRYPOINT [\"/bin/go-plugin-counter\"]";
    String user = "USER " + NONROOT_UID + ":" + NONROOT_UID;
    importImage(counter, hash, ref(ROOT), List.of(entry));
    importImage(counter, hash, ref(NONROOT), List.of(entry, user));
    importImage(counter, hash, ref(NONROOT_MLOCK),
        List.of("ENTRYPOINT [\"/bin/go-plugin-counter-mlock\"]", user));
    return hash;
  }

  private static void importImage(Path counter, String hash, String ref, List<String> changes) {
    Path root = null;
    Path tar = null;
    try {
      root = Files.createTempDirectory("goplugin4j-matrix-rootfs-");
      Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwxr-xr-x"));
      Path bin = Files.createDirectories(root.resolve("bin"));
      Path tmp = Files.createDirectories(root.resolve("tmp"));
      Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxrwxrwx"));
      Path main = bin.resolve("go-plugin-counter");
      Files.copy(counter, main);
      Files.setPosixFilePermissions(main, PosixFilePermissions.fromString("rwxr-xr-x"));
      Path mlock = bin.resolve("go-plugin-counter-mlock");
      Files.copy(counter, mlock);
      Files.setPosixFilePermissions(mlock, PosixFilePermissions.fromString("rwxr-xr-x"));
      setFileCapability(mlock, CAP_IPC_LOCK);
      Path etc = Files.createDirectories(root.resolve("etc"));
      Files.writeString(etc.resolve("passwd"), "root:x:0:0:root:/:/bin/go-plugin-counter\n"
          + "plugin:x:" + NONROOT_UID + ":" + NONROOT_UID + ":plugin:/:/bin/go-plugin-counter\n");
      Files.writeString(etc.resolve("group"), "root:x:0:\nplugin:x:" + NONROOT_UID + ":\n");
      tar = Files.createTempFile("goplugin4j-matrix-rootfs-", ".tar");
      TestImages.run(List.of("tar", "--numeric-owner", "--owner=0", "--group=0", "--xattrs",
          "--xattrs-include=security.capability", "-C", root.toString(), "-cf", tar.toString(),
          "."));
      List<String> cmd = new ArrayList<>(List.of("docker", "import"));
      for (String c : changes) {
        cmd.add("--change");
        cmd.add(c);
      }
      cmd.add("--change");
      cmd.add("LABEL " + HASH_LABEL + "=" + hash);
      cmd.add(tar.toString());
      cmd.add(ref);
      TestImages.run(cmd);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      TestImages.deleteTree(root);
      TestImages.deleteTree(tar);
    }
  }

  /**
   * Writes {@code security.capability} (VFS capability revision 2, effective) granting one
   * capability in the permitted set, as {@code setcap cap_x=+ep} does.
   */
  private static void setFileCapability(Path file, int capability) {
    ByteBuffer b = ByteBuffer.allocate(20).order(ByteOrder.LITTLE_ENDIAN);
    b.putInt(0x02000000 | 0x1); // VFS_CAP_REVISION_2 | VFS_CAP_FLAGS_EFFECTIVE
    b.putInt(1 << capability).putInt(0); // data[0]: permitted, inheritable
    b.putInt(0).putInt(0); // data[1]
    byte[] value = b.array();
    Memory m = new Memory(value.length);
    m.write(0, value, 0, value.length);
    try {
      NativeLibrary.getInstance("c").getFunction("setxattr", Function.THROW_LAST_ERROR)
          .invokeInt(new Object[] {file.toString(), "security.capability", m, (long) value.length,
              0});
    } catch (LastErrorException e) {
      throw new IllegalStateException("cannot set security.capability on " + file + " (errno "
          + e.getErrorCode() + "); the tests run as root", e);
    }
  }

  private static String hash(Path counter) {
    try {
      MessageDigest d = MessageDigest.getInstance("SHA-256");
      d.update(Files.readAllBytes(counter));
      d.update(("matrix-v1 uid " + NONROOT_UID).getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(d.digest()).substring(0, 32);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
