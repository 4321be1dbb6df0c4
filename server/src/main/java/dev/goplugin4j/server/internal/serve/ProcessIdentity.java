package dev.goplugin4j.server.internal.serve;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The process's user and groups, for error messages about permissions. */
final class ProcessIdentity {
  private ProcessIdentity() {}

  /** E.g. {@code uid 1000, gid 1000, groups 1000 27}; best effort. */
  static String describe() {
    try {
      String uid = "?";
      String gid = "?";
      String groups = "";
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("Uid:")) {
          uid = line.substring(4).strip().split("\\s+")[0];
        } else if (line.startsWith("Gid:")) {
          gid = line.substring(4).strip().split("\\s+")[0];
        } else if (line.startsWith("Groups:")) {
          groups = line.substring(7).strip();
        }
      }
      return "uid " + uid + ", gid " + gid + (groups.isEmpty() ? "" : ", groups " + groups);
    } catch (IOException | RuntimeException e) {
      return "user " + System.getProperty("user.name", "?");
    }
  }
}
