package dev.goplugin4j.cli;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HexFormat;

/**
 * The doctor's probe: a static x86-64 Linux executable that binds a Unix socket in the
 * container's socket directory the way a go-plugin plugin does (including the socket group's
 * {@code chown}/{@code chmod 0660}), prints {@code ready}, and answers one connection with {@code
 * ok}. A failing step writes {@code probe: <step> failed} on stderr and exits with the errno.
 *
 * <p>Why not a real plugin or a shell: the user has no plugin image yet, there is no registry to
 * pull one from, busybox cannot bind a Unix stream socket, and building Go or C needs a toolchain
 * the CLI cannot assume. The code is assembled from {@code cli/src/main/probe/probe.S} (a unit
 * test re-assembles it with GNU as and compares the bytes) and wrapped here in a one-segment ELF
 * header: nothing opaque is shipped.
 */
final class ProbeBinary {
  /** Where the code is loaded. */
  private static final long BASE = 0x400000L;

  private static final int ELF_HEADER = 64;
  private static final int PROGRAM_HEADER = 56;

  /** The code: {@code as probe.S -o probe.o && objcopy -O binary -j .text probe.o probe.bin}. */
  static final String CODE_HEX =
      "488b1c24488d74dc1049c7c4ffffffff488b3e4885ff744e4883c608488d156b010000b919000000"
          + "8a023a0775e248ffc248ffc7ffc975f031c04531c00fb61783ea3083fa09770f486bc00a4801d048"
          + "ffc749ffc0ebe64d85c074b4803f0075af4989c4ebaab829000000bf01000000be0100000031d20f"
          + "054c8d2d560100004885c00f88e00000004989c64c89f7488d3511010000ba26000000b831000000"
          + "0f054c8d2d430100004885c00f88b70000004983fcff7445488d3dea000000beffffffff4c89e2b8"
          + "5c0000000f054c8d2d2b0100004885c00f888b000000488d3dc4000000beb0010000b85a0000000f"
          + "054c8d2d1d0100004885c0786c4c89f7be04000000b8320000000f054c8d2d170100004885c07851"
          + "bf01000000488d35a9000000ba06000000b8010000000f054c89f731f631d2b82b0000000f054c8d"
          + "2dfb0000004885c0781f4889c7488d357f000000ba03000000b8010000000f0531ffb83c0000000f"
          + "0548f7d84989c7410fb65500498d7501bf02000000b8010000000f054c89ffb83c0000000f05504c"
          + "5547494e5f554e49585f534f434b45545f47524f55503d01002f746d702f676f2d706c7567696e2d"
          + "636f6e7461696e65722f70726f62652e736f636b0072656164790a6f6b0a1570726f62653a20736f"
          + "636b6574206661696c65640a1370726f62653a2062696e64206661696c65640a1470726f62653a20"
          + "63686f776e206661696c65640a1470726f62653a2063686d6f64206661696c65640a1570726f6265"
          + "3a206c697374656e206661696c65640a1570726f62653a20616363657074206661696c65640a";

  private ProbeBinary() {}

  /** The machine code of probe.S. */
  static byte[] code() {
    return HexFormat.of().parseHex(CODE_HEX);
  }

  /** The whole executable: ELF header, one PT_LOAD program header, the code. */
  static byte[] elf() {
    byte[] code = code();
    int size = ELF_HEADER + PROGRAM_HEADER + code.length;
    ByteBuffer b = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
    // e_ident: magic, 64-bit, little-endian, version 1, System V ABI, padding
    b.put(new byte[] {0x7f, 'E', 'L', 'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0});
    b.putShort((short) 2); // e_type: ET_EXEC
    b.putShort((short) 0x3e); // e_machine: EM_X86_64
    b.putInt(1); // e_version
    b.putLong(BASE + ELF_HEADER + PROGRAM_HEADER); // e_entry: the first code byte
    b.putLong(ELF_HEADER); // e_phoff
    b.putLong(0); // e_shoff: no section headers
    b.putInt(0); // e_flags
    b.putShort((short) ELF_HEADER); // e_ehsize
    b.putShort((short) PROGRAM_HEADER); // e_phentsize
    b.putShort((short) 1); // e_phnum
    b.putShort((short) 64); // e_shentsize
    b.putShort((short) 0); // e_shnum
    b.putShort((short) 0); // e_shstrndx
    // the one segment: the whole file, read + execute (the code only reads its constants)
    b.putInt(1); // p_type: PT_LOAD
    b.putInt(5); // p_flags: PF_R | PF_X
    b.putLong(0); // p_offset
    b.putLong(BASE); // p_vaddr
    b.putLong(BASE); // p_paddr
    b.putLong(size); // p_filesz
    b.putLong(size); // p_memsz
    b.putLong(0x1000); // p_align
    b.put(code);
    return b.array();
  }
}
