package dev.goplugin4j.container.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which live hosts use a plugin container besides the one its owner label names: a host that
 * reattaches records itself in {@code <socket dir>.hosts/<pid>-<start millis>} (the file holds
 * its {@link HostId}), and the reaper leaves a container alone while any host recorded there is
 * alive. The directory sits beside the socket directory, not in it, because the socket directory
 * is bind-mounted into the container and the plugin must not be able to forge or remove claims.
 *
 * <p>Claims of hosts that are gone are ignored (the pid and start time tell), so a host that
 * crashes leaves at most a stale file behind; {@link #removeAll} (on kill and on reap) deletes
 * the directory. All methods are best effort where noted and thread-safe.
 */
public final class HostClaims {
  private static final Logger LOG = LoggerFactory.getLogger(HostClaims.class);

  /** The suffix of the claims directory, beside the socket directory. */
  public static final String SUFFIX = ".hosts";

  private HostClaims() {}

  /** The claims directory of a socket directory. */
  public static Path dirOf(Path socketDir) {
    Path abs = socketDir.toAbsolutePath().normalize();
    return abs.resolveSibling(abs.getFileName() + SUFFIX);
  }

  /**
   * Records {@code host} as a user of the container whose socket directory is {@code socketDir}.
   *
   * @return whether the claim was written (false, logged: the reaper may then take the
   *     container for an orphan once its first host is gone)
   */
  public static boolean claim(Path socketDir, HostId host) {
    Path dir = dirOf(socketDir);
    try {
      try {
        Files.createDirectory(dir);
      } catch (FileAlreadyExistsException e) {
        // another host claimed it before
      }
      Path file = dir.resolve(fileName(host));
      Path tmp = Files.createTempFile(dir, ".claim", ".tmp");
      Files.writeString(tmp, host.toString(), StandardCharsets.UTF_8);
      Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
          java.nio.file.StandardCopyOption.ATOMIC_MOVE);
      return true;
    } catch (IOException | RuntimeException e) {
      LOG.warn("could not record this host in {} ({}): ContainerReaper may remove the reattached"
          + " container once its first host is gone", dir, e.toString());
      return false;
    }
  }

  /**
   * The live hosts recorded for the socket directory; unreadable or malformed claims are skipped.
   */
  public static List<HostId> liveClaimants(Path socketDir) {
    Path dir = dirOf(socketDir);
    List<HostId> live = new ArrayList<>();
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "[0-9]*-[0-9]*")) {
      for (Path f : files) {
        Optional<HostId> id;
        try {
          id = HostId.parse(Files.readString(f, StandardCharsets.UTF_8).strip());
        } catch (IOException | RuntimeException e) {
          continue;
        }
        if (id.isPresent() && id.get().isAlive().orElse(false)) {
          live.add(id.get());
        }
      }
    } catch (NoSuchFileException e) {
      return List.of();
    } catch (IOException | RuntimeException e) {
      LOG.debug("cannot read host claims in {}: {}", dir, e.toString());
    }
    return live;
  }

  /** Deletes the claims directory of the socket directory and everything in it; best effort. */
  public static void removeAll(Path socketDir) {
    Path dir = dirOf(socketDir);
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
      for (Path f : files) {
        Files.deleteIfExists(f);
      }
    } catch (NoSuchFileException e) {
      return;
    } catch (IOException | RuntimeException e) {
      LOG.debug("cannot clear host claims in {}: {}", dir, e.toString());
    }
    try {
      Files.deleteIfExists(dir);
    } catch (IOException | RuntimeException e) {
      LOG.debug("cannot remove {}: {}", dir, e.toString());
    }
  }

  static String fileName(HostId host) {
    return host.pid() + "-" + host.startMillis();
  }
}
