package dev.goplugin4j.container.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which live hosts use a plugin container besides the one its owner label names: a host that
 * reattaches records itself in {@code <socket dir>.hosts/<pid>-<start>} (the file holds
 * its {@link HostId}), and the reaper leaves a container alone while any host recorded there is
 * alive. The directory sits beside the socket directory, not in it, because the socket directory
 * is bind-mounted into the container and the plugin must not be able to forge or remove claims.
 *
 * <p>Claims of hosts that are gone are ignored (the pid and start time tell), so a host that
 * crashes leaves at most a stale file behind; {@link #removeAll} (on kill and on reap) deletes
 * the directory. All methods are best effort where noted and thread-safe.
 *
 * <p>The directory usually sits in a shared temp dir, where another local user could plant it
 * first: it is used only when it is a real directory (not a symbolic link) owned by this
 * process's user or by the socket directory's owner, and clean-up deletes only claim files in it,
 * never follows a link.
 */
public final class HostClaims {
  private static final Logger LOG = LoggerFactory.getLogger(HostClaims.class);

  /** The suffix of the claims directory, beside the socket directory. */
  public static final String SUFFIX = ".hosts";

  /** A claim file's name: {@code <pid>-<start>}, the start a {@link HostId}'s. */
  private static final Pattern CLAIM_NAME = Pattern.compile("\\d+-t?\\d+");

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
        // another host claimed it before, or someone planted it: check below
      }
      if (!trusted(dir, socketDir)) {
        LOG.warn("not recording this host in {}: it is a symbolic link, not a directory, or owned"
            + " by another user than this host's or the socket directory's; ContainerReaper may"
            + " remove the reattached container once its first host is gone", dir);
        return false;
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
    if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
      return live;
    }
    if (!trusted(dir, socketDir)) {
      LOG.debug("ignoring host claims in {}: not a directory owned by this user or the socket"
          + " directory's owner", dir);
      return live;
    }
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir,
        f -> isClaim(f) && Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS))) {
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

  /**
   * Deletes the claim files (and leftover temp files of {@link #claim}) in the claims directory
   * of the socket directory, then the directory if that left it empty; best effort. A claims
   * path that is not a trusted directory (see the class comment) is left untouched.
   */
  public static void removeAll(Path socketDir) {
    Path dir = dirOf(socketDir);
    if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS) || !trusted(dir, socketDir)) {
      return;
    }
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir,
        f -> (isClaim(f) || isTemp(f)) && Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS))) {
      for (Path f : files) {
        Files.deleteIfExists(f);
      }
    } catch (NoSuchFileException e) {
      return;
    } catch (IOException | RuntimeException e) {
      LOG.debug("cannot clear host claims in {}: {}", dir, e.toString());
    }
    try {
      Files.deleteIfExists(dir); // fails, and is logged, if something else is in it
    } catch (IOException | RuntimeException e) {
      LOG.debug("cannot remove {}: {}", dir, e.toString());
    }
  }

  private static boolean isClaim(Path f) {
    return CLAIM_NAME.matcher(f.getFileName().toString()).matches();
  }

  /** A temp file {@link #claim} left behind when it failed between writing and renaming. */
  private static boolean isTemp(Path f) {
    String n = f.getFileName().toString();
    return n.startsWith(".claim") && n.endsWith(".tmp");
  }

  /**
   * A real directory, not a link, owned by this process's user or the socket directory's owner.
   */
  static boolean trusted(Path dir, Path socketDir) {
    try {
      if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
        return false;
      }
      Object owner = Files.getAttribute(dir, "unix:uid", LinkOption.NOFOLLOW_LINKS);
      Object self = Files.getAttribute(Path.of("/proc/self"), "unix:uid");
      if (owner.equals(self)) {
        return true;
      }
      return Files.exists(socketDir, LinkOption.NOFOLLOW_LINKS)
          && owner.equals(Files.getAttribute(socketDir, "unix:uid", LinkOption.NOFOLLOW_LINKS));
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  static String fileName(HostId host) {
    return host.pid() + "-" + host.start();
  }
}
