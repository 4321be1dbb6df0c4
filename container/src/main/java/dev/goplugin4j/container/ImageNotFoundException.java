package dev.goplugin4j.container;

/**
 * The image to run is not present in the engine's local image store. The runner never pulls:
 * build, load or pull the image first ({@code docker build}, {@code docker load}, {@code docker
 * pull}).
 *
 * <p>Instances are immutable and thread-safe.
 */
public class ImageNotFoundException extends ContainerException {
  private static final long serialVersionUID = 1L;

  private final String imageRef;

  /**
   * Creates the exception.
   *
   * @param message what was looked for and how to fix it; not null
   * @param imageRef the reference that was not found; not null
   * @param cause the engine's error; may be null
   */
  public ImageNotFoundException(String message, String imageRef, Throwable cause) {
    super(message, cause);
    this.imageRef = imageRef;
  }

  /**
   * The reference that was not found, such as {@code go-plugin-counter:latest}.
   *
   * @return the reference
   */
  public String imageRef() {
    return imageRef;
  }
}
