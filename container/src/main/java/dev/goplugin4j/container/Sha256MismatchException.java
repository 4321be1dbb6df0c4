package dev.goplugin4j.container;

import java.util.List;

/**
 * An image named {@code image[:tag]} exists locally, but none of its IDs is the pinned SHA256 ID.
 * Either the image was rebuilt or replaced (check {@code docker images --no-trunc}), or the pin is
 * wrong. The counterpart of plugincontainer's {@code ErrSHA256Mismatch}.
 *
 * <p>Instances are immutable and thread-safe.
 */
public class Sha256MismatchException extends ContainerException {
  private static final long serialVersionUID = 1L;

  private final String image;
  private final String tag;
  private final String sha256;
  private final List<String> foundIds;

  /**
   * Creates the exception.
   *
   * @param image the image name, without tag; not null
   * @param tag the tag, or empty; not null
   * @param sha256 the pinned ID, plain hex; not null
   * @param foundIds the IDs of the images named {@code image[:tag]} that exist; not null
   */
  public Sha256MismatchException(String image, String tag, String sha256, List<String> foundIds) {
    super(
        "SHA256 mismatch: no locally available image named "
            + image
            + (tag.isEmpty() ? "" : ":" + tag)
            + " has the pinned ID sha256:"
            + sha256
            + " (found: "
            + (foundIds.isEmpty() ? "none" : String.join(", ", foundIds))
            + "); the image was rebuilt or replaced, or the pin is wrong: compare with"
            + " `docker images --no-trunc "
            + image
            + "`");
    this.image = image;
    this.tag = tag;
    this.sha256 = sha256;
    this.foundIds = List.copyOf(foundIds);
  }

  /**
   * The image name, without tag.
   *
   * @return the name
   */
  public String image() {
    return image;
  }

  /**
   * The tag, or empty when none was configured.
   *
   * @return the tag
   */
  public String tag() {
    return tag;
  }

  /**
   * The pinned ID, plain lower-case hex without {@code sha256:}.
   *
   * @return the hash
   */
  public String sha256() {
    return sha256;
  }

  /**
   * The IDs of the images named {@code image[:tag]} that do exist.
   *
   * @return an immutable list, possibly empty
   */
  public List<String> foundIds() {
    return foundIds;
  }
}
