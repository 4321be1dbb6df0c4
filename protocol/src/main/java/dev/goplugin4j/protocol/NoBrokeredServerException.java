package dev.goplugin4j.protocol;

/**
 * A {@link GrpcBroker#dial(int)} over the multiplexed broker was refused: the other side has no
 * brokered server for the id (it never called {@link GrpcBroker#acceptAndServe}, or it already
 * closed that server). With the classic (non-multiplexed) broker the same mistake shows up as a
 * timeout instead, because nothing is announced.
 *
 * <p>With multiplexing, {@code dial} returns a channel at once and the knock runs when the channel
 * first connects, so this exception arrives as the cause of the RPC's {@code UNAVAILABLE} status.
 *
 * <p>Immutable and thread-safe.
 */
public final class NoBrokeredServerException extends PluginException {
  private static final long serialVersionUID = 1L;

  /** The id that has no server. */
  private final int id;

  /**
   * Creates the exception.
   *
   * @param id the refused broker id
   * @param peerError the other side's error text (go-plugin sends "no listener for id N")
   */
  public NoBrokeredServerException(int id, String peerError) {
    super("failed to knock for id " + id + ": " + peerError
        + " (the other side has no brokered server for this id: it must call acceptAndServe("
        + id + ") before sending the id, and keep that server open while this side dials it)");
    this.id = id;
  }

  /**
   * The broker id the other side does not serve.
   *
   * @return the id
   */
  public int id() {
    return id;
  }
}
