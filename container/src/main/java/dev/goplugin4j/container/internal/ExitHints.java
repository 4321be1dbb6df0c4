package dev.goplugin4j.container.internal;

/** What a plugin container's exit code usually means. */
final class ExitHints {
  private ExitHints() {}

  static String describe(long code, boolean oomKilled) {
    String line = "Plugin exited with exit code " + code;
    if (oomKilled) {
      return line + "; it was killed for exceeding its memory limit (raise memory)";
    }
    switch ((int) code) {
      case 1:
        return line + "; this may be an error internal to the plugin";
      case 2:
        return line + "; this may be due to a malformed command, or can also happen when a cgo"
            + " binary is run without libc bindings available (build with CGO_ENABLED=0)";
      case 125:
        return line + "; the engine itself failed to run the container (see the engine's log)";
      case 126:
        return line + "; the entrypoint could not be invoked (not executable, or permission"
            + " denied)";
      case 127:
        return line + "; the entrypoint was not found in the image (check entrypoint/args and"
            + " the image's file system)";
      case 137:
        return line + "; it was killed with SIGKILL (kill(), out of memory, or the engine)";
      case 143:
        return line + "; it was stopped with SIGTERM";
      default:
        return line;
    }
  }
}
