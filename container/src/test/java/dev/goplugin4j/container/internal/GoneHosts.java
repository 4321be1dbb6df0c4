package dev.goplugin4j.container.internal;

/** Test support: host ids of processes on this machine that are gone. */
public final class GoneHosts {
  private GoneHosts() {}

  /** A host on this machine that is gone: the pid of a process that has exited. */
  public static HostId one() throws Exception {
    Process gone = new ProcessBuilder("true").start();
    gone.waitFor();
    HostId me = HostId.current();
    return new HostId(me.hostname(), gone.pid(), "t1");
  }
}
