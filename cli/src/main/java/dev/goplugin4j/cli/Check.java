package dev.goplugin4j.cli;

import java.util.Objects;

/**
 * One row of the doctor's report.
 *
 * @param area what part of the set-up the row is about ({@code engine}, {@code runtime}, ...)
 * @param name what was checked
 * @param status the verdict
 * @param detail what was found
 * @param fix how to fix it; empty when nothing needs fixing
 */
record Check(String area, String name, Status status, String detail, String fix) {
  Check {
    Objects.requireNonNull(area, "area");
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(status, "status");
    Objects.requireNonNull(detail, "detail");
    Objects.requireNonNull(fix, "fix");
  }

  static Check ok(String area, String name, String detail) {
    return new Check(area, name, Status.OK, detail, "");
  }

  static Check info(String area, String name, String detail) {
    return new Check(area, name, Status.INFO, detail, "");
  }

  static Check warn(String area, String name, String detail, String fix) {
    return new Check(area, name, Status.WARN, detail, fix);
  }

  static Check fail(String area, String name, String detail, String fix) {
    return new Check(area, name, Status.FAIL, detail, fix);
  }

  static Check skip(String area, String name, String detail) {
    return new Check(area, name, Status.SKIP, detail, "");
  }

  /** A doctor verdict. Only {@link #FAIL} makes the doctor exit 1. */
  enum Status {
    /** Checked and fine. */
    OK,
    /** Informational: nothing to judge (an alternative that was not chosen, a value). */
    INFO,
    /** Works, with a limitation the user should know about. */
    WARN,
    /** Broken: the container runner (or the named feature) will not work until fixed. */
    FAIL,
    /** Not checked, because something it depends on failed or was not asked for. */
    SKIP
  }
}
