package dev.goplugin4j.host.internal.process;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Who owns a plugin socket directory: a small record beside it, {@code <dir>.owner}, written when
 * a host creates the directory (the host's pid and start), completed when a process plugin starts
 * in it (the plugin's pid, start, executable) and extended when another host reattaches. {@link
 * dev.goplugin4j.host.ProcessReaper} reads it to tell a directory whose hosts are all gone, and to
 * confirm an orphaned plugin process before it kills it.
 *
 * <p>The record sits beside the directory, not in it, because a container plugin's socket
 * directory is bind-mounted into the container, where the plugin could forge it. It is trusted
 * only as a regular file (not a link) owned by the same user as the directory, and even then it
 * only names what to check: a process is killed only when its start time, executable, owner and
 * listening socket in the directory all match.
 *
 * <p>Format: {@code key=value} lines, written whole to a temp file and renamed into place, mode
 * 0600. Every method is best effort (failures are logged at debug) and thread-safe.
 */
public final class SocketDirOwner {
  private static final Logger LOG = LoggerFactory.getLogger(SocketDirOwner.class);

  /** The suffix of the record beside the socket directory. */
  public static final String SUFFIX = ".owner";

  /** Names of the socket directories hosts make ({@code Files.createTempDirectory} digits). */
  public static final Pattern DIR_NAME = Pattern.compile("goplugin4j-\\d+");

  static final String HOSTS = "hosts";
  static final String BOOT_ID = "boot_id";
  static final String PID_NAMESPACE = "pid_namespace";
  /**
   * The time namespace: start ticks in {@code /proc} are shifted by its boot-time offset, so they
   * compare only within one (see {@link ProcessStart}); absent from records written before.
   */
  static final String TIME_NAMESPACE = "time_namespace";
  static final String RUNNER = "runner";
  static final String PLUGIN_PID = "plugin_pid";
  static final String PLUGIN_START_TICKS = "plugin_start_ticks";
  static final String PLUGIN_EXECUTABLE = "plugin_executable";

  private static final Object LOCK = new Object();

  private SocketDirOwner() {}

  /** The record of a socket directory. */
  public static Path recordOf(Path socketDir) {
    Path abs = socketDir.toAbsolutePath().normalize();
    return abs.resolveSibling(abs.getFileName() + SUFFIX);
  }

  /**
   * Records this JVM as the host of a socket directory it just created.
   *
   * @param socketDir the directory; records only for names matching {@link #DIR_NAME}
   */
  public static void recordHost(Path socketDir) {
    update(socketDir, fields -> {
      fields.put(HOSTS, thisHost());
      machine().forEach(fields::put);
    });
  }

  /** Adds this JVM to the hosts of a directory whose plugin it reattached to. */
  static void addHost(Path socketDir) {
    update(socketDir, fields -> {
      if (fields.isEmpty()) {
        return; // no record: not a directory we track
      }
      String me = thisHost();
      String hosts = fields.getOrDefault(HOSTS, "");
      if (!List.of(hosts.split(",")).contains(me)) {
        fields.put(HOSTS, hosts.isEmpty() ? me : hosts + "," + me);
      }
    });
  }

  /** Records the process plugin that runs in a directory this JVM recorded itself for. */
  static void recordPlugin(Path socketDir, long pid, long startTicks) {
    update(socketDir, fields -> {
      if (fields.isEmpty()) {
        return;
      }
      fields.put(RUNNER, "process");
      fields.put(PLUGIN_PID, Long.toString(pid));
      fields.put(PLUGIN_START_TICKS, Long.toString(startTicks));
      ProcessIdentity.executable(pid).ifPresent(exe -> fields.put(PLUGIN_EXECUTABLE, exe));
    });
  }

  /**
   * Deletes the record of a socket directory (when the directory itself is removed).
   *
   * @param socketDir the directory
   */
  public static void remove(Path socketDir) {
    // under the writers' lock: an update that read the record before cannot write it back after
    synchronized (LOCK) {
      try {
        Files.deleteIfExists(recordOf(socketDir));
      } catch (IOException | RuntimeException e) {
        LOG.debug("cannot remove {}: {}", recordOf(socketDir), e.toString());
      }
    }
  }

  /**
   * The record's fields, when the record is trusted: a regular file, not a link, owned by the
   * socket directory's owner.
   */
  static Optional<Map<String, String>> read(Path socketDir) {
    Path record = recordOf(socketDir);
    try {
      if (!Files.isRegularFile(record, LinkOption.NOFOLLOW_LINKS)
          || !uid(record).equals(uid(socketDir))) {
        return Optional.empty();
      }
      return Optional.of(parse(Files.readString(record, StandardCharsets.UTF_8)));
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    }
  }

  static Map<String, String> parse(String text) {
    Map<String, String> fields = new LinkedHashMap<>();
    for (String line : text.split("\n")) {
      int eq = line.indexOf('=');
      if (eq > 0) {
        fields.put(line.substring(0, eq).strip(), line.substring(eq + 1).strip());
      }
    }
    return fields;
  }

  /** {@code pid:start} of this JVM, the start a {@link ProcessStart} token. */
  static String thisHost() {
    return ThisJvm.HOST;
  }

  /** The boot, pid and time namespace this JVM's pids and start ticks are meaningful in; unmodifiable. */
  static Map<String, String> machine() {
    return ThisJvm.MACHINE;
  }

  /**
   * This JVM's host entry and machine fields, read once: none of them changes while the JVM runs,
   * and reading them ({@code /proc/self/stat}, {@code boot_id} and the pid namespace link) took
   * 0.2-0.3 ms of every launch before the spawn.
   */
  private static final class ThisJvm {
    static final String HOST = readThisHost();
    static final Map<String, String> MACHINE = Collections.unmodifiableMap(readMachine());

    private ThisJvm() {}
  }

  private static String readThisHost() {
    return ProcessHandle.current().pid() + ":" + ProcessStart.current();
  }

  private static Map<String, String> readMachine() {
    Map<String, String> m = new LinkedHashMap<>();
    try {
      m.put(BOOT_ID, Files.readString(Path.of("/proc/sys/kernel/random/boot_id")).strip());
    } catch (IOException | RuntimeException e) {
      // not Linux
    }
    try {
      m.put(PID_NAMESPACE, Files.readSymbolicLink(Path.of("/proc/self/ns/pid")).toString());
    } catch (IOException | RuntimeException e) {
      // not Linux
    }
    try {
      m.put(TIME_NAMESPACE, Files.readSymbolicLink(Path.of("/proc/self/ns/time")).toString());
    } catch (IOException | RuntimeException e) {
      // not Linux, or a kernel before 5.6 (no time namespaces)
    }
    return m;
  }

  /**
   * Whether a recorded {@code pid:start} host still runs here: the pid runs and is not a zombie,
   * and its start is the recorded one ({@link ProcessStart#matches}).
   */
  static boolean hostAlive(String host) {
    int colon = host.indexOf(':');
    try {
      long pid = Long.parseLong(host.substring(0, colon));
      return ProcessHandle.of(pid).filter(ProcessTrees::isRunning).isPresent()
          && ProcessStart.matches(pid, host.substring(colon + 1));
    } catch (RuntimeException e) {
      return false;
    }
  }

  /**
   * Deletes a socket directory a host made, and its record: only a real directory (not a link)
   * whose name matches {@link #DIR_NAME}; its content is deleted without following any link.
   *
   * @return whether the directory is gone
   */
  public static boolean removeDir(Path socketDir) {
    Path dir = socketDir.toAbsolutePath().normalize();
    if (!DIR_NAME.matcher(dir.getFileName().toString()).matches()) {
      LOG.warn("not removing {}: not a plugin socket directory (goplugin4j-<digits>)", dir);
      return false;
    }
    if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
      remove(dir);
      return true;
    }
    if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
      LOG.warn("not removing {}: a symbolic link or not a directory", dir);
      return false;
    }
    try {
      // walkFileTree without FOLLOW_LINKS: a link inside is deleted, never followed
      Files.walkFileTree(dir, new SimpleFileVisitor<>() {
        @Override
        public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
          Files.deleteIfExists(file);
          return FileVisitResult.CONTINUE;
        }

        @Override
        public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
          Files.deleteIfExists(d);
          return FileVisitResult.CONTINUE;
        }
      });
    } catch (NoSuchFileException e) {
      // gone meanwhile
    } catch (IOException | UncheckedIOException e) {
      LOG.warn("cannot remove plugin socket directory {}: {}", dir, e.toString());
      return false;
    }
    remove(dir);
    return true;
  }

  private interface Edit {
    void apply(Map<String, String> fields);
  }

  private static void update(Path socketDir, Edit edit) {
    if (!DIR_NAME.matcher(socketDir.getFileName().toString()).matches()) {
      return;
    }
    Path record = recordOf(socketDir);
    synchronized (LOCK) {
      try {
        Map<String, String> fields = new LinkedHashMap<>();
        if (Files.isRegularFile(record, LinkOption.NOFOLLOW_LINKS)) {
          fields.putAll(parse(Files.readString(record, StandardCharsets.UTF_8)));
        } else if (Files.exists(record, LinkOption.NOFOLLOW_LINKS)) {
          LOG.debug("not writing {}: something else is there", record);
          return;
        }
        edit.apply(fields);
        if (fields.isEmpty()) {
          return;
        }
        List<String> lines = new ArrayList<>();
        fields.forEach((k, v) -> lines.add(k + "=" + v));
        Path tmp = Files.createTempFile(record.getParent(), "." + record.getFileName(), ".tmp",
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        try {
          Files.write(tmp, lines, StandardCharsets.UTF_8);
          Files.move(tmp, record, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
          Files.deleteIfExists(tmp);
        }
      } catch (IOException | RuntimeException e) {
        LOG.debug("cannot write the owner record {}: {}", record, e.toString());
      }
    }
  }

  private static Object uid(Path p) throws IOException {
    return Files.getAttribute(p, "unix:uid", LinkOption.NOFOLLOW_LINKS);
  }
}
