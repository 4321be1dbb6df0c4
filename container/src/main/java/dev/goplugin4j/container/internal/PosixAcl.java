package dev.goplugin4j.container.internal;

import com.sun.jna.Function;
import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import com.sun.jna.NativeLibrary;
import dev.goplugin4j.container.ContainerException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;

/**
 * Writes a POSIX default ACL on a directory, so that files and sockets created in it grant a
 * given user read/write. The JDK cannot: {@code AclFileAttributeView} is absent on Linux and
 * {@code UserDefinedFileAttributeView} only writes {@code user.*} attributes, so this calls
 * {@code setxattr(2)} through JNA with the kernel's {@code system.posix_acl_default} format.
 */
public final class PosixAcl {
  private static final String XATTR = "system.posix_acl_default";
  private static final int VERSION = 2;
  private static final int USER_OBJ = 0x01;
  private static final int USER = 0x02;
  private static final int GROUP_OBJ = 0x04;
  private static final int MASK = 0x10;
  private static final int OTHER = 0x20;
  private static final int UNDEFINED_ID = -1;
  private static final int RW = 6;

  private PosixAcl() {}

  /** The effective uid of this process. */
  public static int geteuid() {
    return libc("geteuid").invokeInt(new Object[0]);
  }

  /**
   * Sets the default ACL {@code user::rw, user:<uid>:rw, group::rw, mask::rw, other::---} on
   * {@code dir}, as plugincontainer does for rootless engines.
   *
   * @throws ContainerException if the file system does not support ACLs or the call fails
   */
  public static void setDefaultUserRw(Path dir, int uid) {
    byte[] acl = encode(uid);
    Memory value = new Memory(acl.length);
    value.write(0, acl, 0, acl.length);
    try {
      libc("setxattr").invokeInt(new Object[] {dir.toString(), XATTR, value, (long) acl.length, 0});
    } catch (LastErrorException e) {
      throw new ContainerException(
          "cannot set the default ACL (user:" + uid + ":rw) on the socket directory " + dir
              + ": errno " + e.getErrorCode() + " (" + e.getMessage() + "); the file system must"
              + " support POSIX ACLs (ext4, xfs, btrfs, tmpfs do; check with `setfacl -d -m u:"
              + uid + ":rw " + dir + "`)", e);
    }
  }

  /** The {@code posix_acl_xattr} encoding: a header, then entries sorted by tag and id. */
  static byte[] encode(int uid) {
    ByteBuffer b = ByteBuffer.allocate(4 + 5 * 8).order(ByteOrder.LITTLE_ENDIAN);
    b.putInt(VERSION);
    entry(b, USER_OBJ, RW, UNDEFINED_ID);
    entry(b, USER, RW, uid);
    entry(b, GROUP_OBJ, RW, UNDEFINED_ID);
    entry(b, MASK, RW, UNDEFINED_ID);
    entry(b, OTHER, 0, UNDEFINED_ID);
    return b.array();
  }

  private static void entry(ByteBuffer b, int tag, int perm, int id) {
    b.putShort((short) tag).putShort((short) perm).putInt(id);
  }

  private static Function libc(String name) {
    return NativeLibrary.getInstance("c").getFunction(name, Function.THROW_LAST_ERROR);
  }
}
