package dev.goplugin4j.container;

import java.util.List;

/**
 * The dedicated non-root test user that {@code scripts/setup-engine.sh --all} creates (default
 * {@code goplugin4j-test}, uid 1001 when free; {@code GOPLUGIN4J_TEST_USER} overrides the name): it
 * owns the rootless Docker and rootless Podman engines and is the non-root host user.
 *
 * @param name the user name
 * @param uid its uid
 * @param gid its primary gid (the group the rootless engines map to gid 0 in containers)
 */
record TestUser(String name, int uid, int gid) {
  private static volatile TestUser current;

  /**
   * Looks the user up once.
   *
   * @throws IllegalStateException naming the setup command when the user does not exist
   */
  static TestUser get() {
    TestUser u = current;
    if (u == null) {
      String name = System.getenv().getOrDefault("GOPLUGIN4J_TEST_USER", "goplugin4j-test");
      String uid;
      String gid;
      try {
        uid = TestImages.run(List.of("id", "-u", name)).strip();
        gid = TestImages.run(List.of("id", "-g", name)).strip();
      } catch (IllegalStateException e) {
        throw new IllegalStateException("test user " + name + " does not exist; run "
            + MatrixEngine.SETUP, e);
      }
      u = new TestUser(name, Integer.parseInt(uid), Integer.parseInt(gid));
      current = u;
    }
    return u;
  }
}
