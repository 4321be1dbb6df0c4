package dev.goplugin4j.host.internal.process;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Locale;

/**
 * Facts about a plugin executable that explain most failures to start it: mode, owner, and the
 * binary's format and architecture against ours (go-plugin's {@code additionalNotesAboutCommand}).
 * Stateless and thread-safe.
 */
final class ExecutableNotes {
  private ExecutableNotes() {}

  /** The notes, one fact per indented line; empty when the file cannot be inspected. */
  static String describe(Path executable) {
    StringBuilder notes = new StringBuilder();
    try {
      PosixFileAttributes attrs =
          Files.readAttributes(executable, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
      if (attrs.isSymbolicLink()) {
        notes.append("  Path: ").append(executable).append(" -> ")
            .append(executable.toRealPath()).append('\n');
        attrs = Files.readAttributes(executable, PosixFileAttributes.class);
      } else {
        notes.append("  Path: ").append(executable).append('\n');
      }
      notes.append("  Mode: ").append(PosixFilePermissions.toString(attrs.permissions()))
          .append(attrs.isDirectory() ? " (directory)" : "").append('\n');
      notes.append("  Owner: ").append(attrs.owner().getName()).append(':')
          .append(attrs.group().getName()).append(" (current user: ")
          .append(System.getProperty("user.name")).append(")\n");
    } catch (IOException | UnsupportedOperationException | SecurityException e) {
      return "";
    }
    String format = format(executable);
    if (!format.isEmpty()) {
      notes.append("  Format: ").append(format).append('\n');
    }
    return "Additional notes about plugin:\n" + notes;
  }

  /** The binary format and, for ELF, the architecture against the JVM's. */
  static String format(Path executable) {
    byte[] head = new byte[20];
    int n;
    try (InputStream in = Files.newInputStream(executable)) {
      n = in.readNBytes(head, 0, head.length);
    } catch (IOException | SecurityException e) {
      return "";
    }
    String ours = System.getProperty("os.arch");
    if (n >= 20 && head[0] == 0x7f && head[1] == 'E' && head[2] == 'L' && head[3] == 'F') {
      boolean little = head[5] == 1;
      int machine =
          little
              ? (head[18] & 0xff) | (head[19] & 0xff) << 8
              : (head[19] & 0xff) | (head[18] & 0xff) << 8;
      return "ELF, architecture " + elfMachine(machine) + " (current architecture: " + ours + ")";
    }
    if (n >= 2 && head[0] == '#' && head[1] == '!') {
      try (InputStream in = Files.newInputStream(executable)) {
        String first = new String(in.readNBytes(256), StandardCharsets.UTF_8).lines()
            .findFirst().orElse("");
        return "script, " + first;
      } catch (IOException | SecurityException e) {
        return "script";
      }
    }
    if (n >= 4) {
      int magic = (head[0] & 0xff) << 24 | (head[1] & 0xff) << 16 | (head[2] & 0xff) << 8
          | (head[3] & 0xff);
      if (magic == 0xfeedfacf || magic == 0xcffaedfe || magic == 0xfeedface
          || magic == 0xcefaedfe) {
        return "Mach-O (a macOS binary; current OS: " + System.getProperty("os.name") + ")";
      }
    }
    if (n >= 2 && head[0] == 'M' && head[1] == 'Z') {
      return "PE (a Windows binary; current OS: " + System.getProperty("os.name") + ")";
    }
    return n == 0 ? "empty file" : "unknown (no ELF header and no #! line)";
  }

  private static String elfMachine(int machine) {
    switch (machine) {
      case 0x03:
        return "386";
      case 0x28:
        return "arm";
      case 0x3e:
        return "amd64";
      case 0xb7:
        return "arm64";
      case 0xf3:
        return "riscv64";
      case 0x15:
        return "ppc64";
      case 0x16:
        return "s390x";
      case 0x102:
        return "loong64";
      default:
        return String.format(Locale.ROOT, "unknown (e_machine 0x%x)", machine);
    }
  }
}
