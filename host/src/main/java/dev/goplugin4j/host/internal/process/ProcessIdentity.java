package dev.goplugin4j.host.internal.process;

import dev.goplugin4j.protocol.NetAddress;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;

/**
 * What tells a plugin process apart from any other process that might carry its pid: its
 * executable ({@code /proc/<pid>/exe}) and the listening socket it serves on (its inode in {@code
 * /proc/net/unix} or {@code /proc/net/tcp[6]}, held by the process or one of its descendants in
 * {@code /proc/<pid>/fd}). Used before anything is killed on the strength of a reattach config or
 * an owner record that a user (or a hostile plugin) may have edited. Linux only: elsewhere every
 * answer is "unknown", and callers then refuse to kill. Stateless and thread-safe.
 */
public final class ProcessIdentity {
  private static final Path PROC = Path.of("/proc");

  private ProcessIdentity() {}

  /**
   * The executable the process runs, as {@code /proc/<pid>/exe} names it.
   *
   * @param pid a process id
   * @return the path (with the kernel's {@code " (deleted)"} suffix when the file was removed or
   *     replaced since); empty when the process is gone, is not ours to inspect, or there is no
   *     {@code /proc}
   */
  public static Optional<String> executable(long pid) {
    try {
      return Optional.of(
          Files.readSymbolicLink(PROC.resolve(Long.toString(pid)).resolve("exe")).toString());
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    }
  }

  /**
   * Whether the process, or one of its descendants, holds the listening socket at the address.
   *
   * @param pid a process id
   * @param address a {@code unix} socket path or a {@code tcp} host:port
   * @return true only when confirmed; false when not held, unknown, or there is no {@code /proc}
   */
  public static boolean holdsListener(long pid, NetAddress address) {
    return holdsAnyOf(pid, listenerInodes(address));
  }

  /**
   * Whether the process, or one of its descendants, holds a listening Unix socket directly in the
   * directory.
   *
   * @param pid a process id
   * @param dir a socket directory
   * @return true only when confirmed
   */
  public static boolean holdsListenerIn(long pid, Path dir) {
    try {
      return holdsAnyOf(pid, unixListenersIn(
          Files.readAllLines(PROC.resolve("net/unix"), StandardCharsets.UTF_8),
          dir.toAbsolutePath().normalize()));
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  /** The inodes of listening Unix sockets bound directly in the directory. */
  static Set<String> unixListenersIn(List<String> lines, Path dir) {
    Set<String> inodes = new LinkedHashSet<>();
    for (String line : lines) {
      String[] f = line.trim().split("\\s+", 8);
      if (f.length < 8 || !f[7].startsWith("/")) {
        continue;
      }
      Path parent = Path.of(f[7]).getParent();
      if (dir.equals(parent)) {
        inodes.addAll(unixListeners(List.of(line), f[7]));
      }
    }
    return inodes;
  }

  private static boolean holdsAnyOf(long pid, Set<String> inodes) {
    if (inodes.isEmpty()) {
      return false;
    }
    List<Long> pids = new ArrayList<>();
    pids.add(pid);
    ProcessHandle.of(pid).ifPresent(h -> h.descendants().forEach(d -> pids.add(d.pid())));
    for (long p : pids) {
      try (DirectoryStream<Path> fds =
          Files.newDirectoryStream(PROC.resolve(Long.toString(p)).resolve("fd"))) {
        for (Path fd : fds) {
          try {
            String target = Files.readSymbolicLink(fd).toString();
            if (target.startsWith("socket:[")
                && inodes.contains(target.substring(8, target.length() - 1))) {
              return true;
            }
          } catch (IOException | RuntimeException e) {
            // closed meanwhile
          }
        }
      } catch (IOException | RuntimeException e) {
        // gone, or not ours to inspect
      }
    }
    return false;
  }

  /** The socket inodes listening at the address, from {@code /proc/net}. */
  static Set<String> listenerInodes(NetAddress address) {
    try {
      if (NetAddress.UNIX.equals(address.network())) {
        return unixListeners(Files.readAllLines(PROC.resolve("net/unix"), StandardCharsets.UTF_8),
            Path.of(address.address()).toAbsolutePath().normalize().toString());
      }
      if (NetAddress.TCP.equals(address.network())) {
        int colon = address.address().lastIndexOf(':');
        int port = Integer.parseInt(address.address().substring(colon + 1));
        Set<String> inodes = new LinkedHashSet<>();
        for (String table : new String[] {"net/tcp", "net/tcp6"}) {
          Path file = PROC.resolve(table);
          if (Files.exists(file)) {
            inodes.addAll(tcpListeners(Files.readAllLines(file, StandardCharsets.US_ASCII), port));
          }
        }
        return inodes;
      }
    } catch (IOException | RuntimeException e) {
      return Set.of();
    }
    return Set.of();
  }

  /**
   * The inodes of listening Unix sockets bound to the path, from the lines of {@code
   * /proc/net/unix} ({@code Num RefCount Protocol Flags Type St Inode Path}; flag 0x10000 is
   * "accepting connections"). Package-private for tests.
   */
  static Set<String> unixListeners(List<String> lines, String path) {
    Set<String> inodes = new LinkedHashSet<>();
    for (String line : lines) {
      String[] f = line.trim().split("\\s+", 8);
      if (f.length < 8 || !f[7].equals(path)) {
        continue;
      }
      try {
        if ((Long.parseLong(f[3], 16) & 0x10000) != 0) {
          inodes.add(f[6]);
        }
      } catch (NumberFormatException e) {
        // the header, or a line we do not understand
      }
    }
    return inodes;
  }

  /**
   * The inodes of TCP sockets listening (state 0A) on the port, from the lines of {@code
   * /proc/net/tcp} or {@code tcp6} ({@code sl local_address rem_address st ... inode}).
   * Package-private for tests.
   */
  static Set<String> tcpListeners(List<String> lines, int port) {
    String hexPort = String.format(Locale.ROOT, "%04X", port);
    Set<String> inodes = new LinkedHashSet<>();
    for (String line : lines) {
      String[] f = line.trim().split("\\s+");
      if (f.length < 10 || !"0A".equals(f[3])) {
        continue;
      }
      if (f[1].endsWith(":" + hexPort)) {
        inodes.add(f[9]);
      }
    }
    return inodes;
  }

  /** The pids of every process, for scans; empty without {@code /proc}. */
  static Stream<Long> allPids() {
    List<Long> pids = new ArrayList<>();
    try (DirectoryStream<Path> procs = Files.newDirectoryStream(PROC, "[0-9]*")) {
      for (Path p : procs) {
        try {
          pids.add(Long.parseLong(p.getFileName().toString()));
        } catch (NumberFormatException e) {
          // not a process
        }
      }
    } catch (IOException | RuntimeException e) {
      return Stream.empty();
    }
    return pids.stream();
  }
}
