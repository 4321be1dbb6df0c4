package dev.goplugin4j.cli;

import dev.goplugin4j.protocol.PluginException;

/**
 * {@code goplugin4j image} failed at one {@link Step}; the message says what happened, where,
 * and how to fix it (for a failed training run or dump, with the tail of the plugin's output).
 * Everything the build made so far has been removed when this is thrown.
 */
final class ImageBuildException extends PluginException {
  private static final long serialVersionUID = 1L;

  /** Where the build failed. */
  enum Step {
    /** The jars, the main class or the image name. */
    INPUTS,
    /** The JDK: no jlink, no jmods, too old. */
    JDK,
    /** jdeps or jlink failed. */
    RUNTIME,
    /** The C libraries could not be found ({@code ldd}). */
    LIBRARIES,
    /** The engine refused a build, a container or a copy. */
    ENGINE,
    /** The plugin's training run failed. */
    TRAINING,
    /** The AppCDS dump failed or its archive does not map. */
    ARCHIVE
  }

  private final Step step;

  ImageBuildException(Step step, String message) {
    super(message);
    this.step = step;
  }

  ImageBuildException(Step step, String message, Throwable cause) {
    super(message, cause);
    this.step = step;
  }

  /** The step that failed. */
  Step step() {
    return step;
  }
}
