package dev.goplugin4j.host;

import java.nio.file.Path;
import java.util.Objects;

/**
 * The SHA-256 checksum of a plugin executable differs from the one the host was configured with,
 * so the host refused to run it. The file was rebuilt, replaced or tampered with since the checksum
 * was recorded: reinstall the expected build, or update the configured checksum if the new build is
 * trusted. The message names the executable and both checksums in lowercase hex.
 *
 * <p>Instances are immutable and thread-safe.
 */
public class ChecksumMismatchException extends PluginStartException {
  private static final long serialVersionUID = 1L;

  // A String rather than a Path: Path is not serializable.
  private final String executable;
  private final String expectedSha256;
  private final String actualSha256;

  /**
   * Creates the exception.
   *
   * @param executable the plugin executable that was hashed; not null
   * @param expectedSha256 the configured SHA-256, lowercase hex; not null
   * @param actualSha256 the SHA-256 of the file as found, lowercase hex; not null
   */
  public ChecksumMismatchException(Path executable, String expectedSha256, String actualSha256) {
    super(
        "checksum mismatch for plugin executable "
            + Objects.requireNonNull(executable, "executable")
            + ": expected SHA-256 "
            + Objects.requireNonNull(expectedSha256, "expectedSha256")
            + " but the file has "
            + Objects.requireNonNull(actualSha256, "actualSha256")
            + "; the file was changed or replaced since the checksum was configured: install the"
            + " expected build, or update the configured checksum if the new file is trusted");
    this.executable = executable.toString();
    this.expectedSha256 = expectedSha256;
    this.actualSha256 = actualSha256;
  }

  /**
   * The executable whose checksum did not match.
   *
   * @return the path as configured; not null
   */
  public Path executable() {
    return Path.of(executable);
  }

  /**
   * The configured checksum.
   *
   * @return 64 lowercase hex digits
   */
  public String expectedSha256() {
    return expectedSha256;
  }

  /**
   * The checksum of the file as found.
   *
   * @return 64 lowercase hex digits
   */
  public String actualSha256() {
    return actualSha256;
  }
}
