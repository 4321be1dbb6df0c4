package dev.goplugin4j.container.internal;

/** The runner's own container labels. */
public final class Labels {
  /** Marks every container the runner created: value {@code true}. */
  public static final String MANAGED = "dev.goplugin4j.managed";

  /** The host that owns the container: {@link HostId}. */
  public static final String OWNER = "dev.goplugin4j.owner";

  /** The plugin name. */
  public static final String PLUGIN = "dev.goplugin4j.plugin";

  private Labels() {}
}
