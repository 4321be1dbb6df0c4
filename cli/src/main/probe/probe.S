# goplugin4j-probe: the doctor's socket probe, x86-64 Linux, no libc, position-independent.
#
# Does what a go-plugin plugin does with its socket, and nothing else:
#   1. socket(AF_UNIX, SOCK_STREAM) and bind it at /tmp/go-plugin-container/probe.sock
#   2. if PLUGIN_UNIX_SOCKET_GROUP is a number G: chown(path, -1, G), chmod(path, 0660)
#      (go-plugin's setGroupWritable; it aborts the plugin when either fails)
#   3. listen, print "ready\n" on stdout, accept one connection, write "ok\n" to it, exit 0.
# A failing step writes "probe: <step> failed\n" on stderr and exits with the errno.
#
# Assemble: as probe.S -o probe.o && objcopy -O binary -j .text probe.o probe.bin
# ProbeBinary.java holds these bytes (a unit test re-assembles this file and compares) and wraps
# them in a one-segment static ELF executable.

        .intel_syntax noprefix
        .text
        .globl _start
_start:
        mov     rbx, [rsp]                  # argc
        lea     rsi, [rsp + rbx*8 + 16]     # envp = rsp + 8 + 8*argc + 8
        mov     r12, -1                     # socket group: none
env_loop:
        mov     rdi, [rsi]
        test    rdi, rdi
        jz      env_done
        add     rsi, 8
        lea     rdx, [rip + group_var]
        mov     ecx, OFFSET group_var_len
cmp_loop:
        mov     al, [rdx]
        cmp     al, [rdi]
        jne     env_loop
        inc     rdx
        inc     rdi
        dec     ecx
        jnz     cmp_loop
        xor     eax, eax                    # parse decimal digits
        xor     r8d, r8d
parse:
        movzx   edx, byte ptr [rdi]
        sub     edx, '0'
        cmp     edx, 9
        ja      parse_end
        imul    rax, rax, 10
        add     rax, rdx
        inc     rdi
        inc     r8
        jmp     parse
parse_end:
        test    r8, r8
        jz      env_loop                    # not a number: no group
        cmp     byte ptr [rdi], 0
        jne     env_loop
        mov     r12, rax
        jmp     env_loop
env_done:
        mov     eax, 41                     # socket(AF_UNIX, SOCK_STREAM, 0)
        mov     edi, 1
        mov     esi, 1
        xor     edx, edx
        syscall
        lea     r13, [rip + msg_socket]
        test    rax, rax
        js      fail
        mov     r14, rax
        mov     rdi, r14                    # bind(fd, &addr, addr_len)
        lea     rsi, [rip + addr]
        mov     edx, OFFSET addr_len
        mov     eax, 49
        syscall
        lea     r13, [rip + msg_bind]
        test    rax, rax
        js      fail
        cmp     r12, -1
        je      no_group
        lea     rdi, [rip + path]           # chown(path, -1, group)
        mov     esi, -1
        mov     rdx, r12
        mov     eax, 92
        syscall
        lea     r13, [rip + msg_chown]
        test    rax, rax
        js      fail
        lea     rdi, [rip + path]           # chmod(path, 0660)
        mov     esi, 0660
        mov     eax, 90
        syscall
        lea     r13, [rip + msg_chmod]
        test    rax, rax
        js      fail
no_group:
        mov     rdi, r14                    # listen(fd, 4)
        mov     esi, 4
        mov     eax, 50
        syscall
        lea     r13, [rip + msg_listen]
        test    rax, rax
        js      fail
        mov     edi, 1                      # write(1, "ready\n", 6)
        lea     rsi, [rip + msg_ready]
        mov     edx, 6
        mov     eax, 1
        syscall
        mov     rdi, r14                    # accept(fd, NULL, NULL)
        xor     esi, esi
        xor     edx, edx
        mov     eax, 43
        syscall
        lea     r13, [rip + msg_accept]
        test    rax, rax
        js      fail
        mov     rdi, rax                    # write(conn, "ok\n", 3)
        lea     rsi, [rip + msg_ok]
        mov     edx, 3
        mov     eax, 1
        syscall
        xor     edi, edi                    # exit(0)
        mov     eax, 60
        syscall
fail:                                       # r13: message (length byte, then text); rax: -errno
        neg     rax
        mov     r15, rax
        movzx   edx, byte ptr [r13]         # write(2, message, length)
        lea     rsi, [r13 + 1]
        mov     edi, 2
        mov     eax, 1
        syscall
        mov     rdi, r15                    # exit(errno)
        mov     eax, 60
        syscall

group_var:      .ascii "PLUGIN_UNIX_SOCKET_GROUP="
        .set group_var_len, . - group_var
addr:           .short 1                    # sockaddr_un: AF_UNIX, then the path
path:           .asciz "/tmp/go-plugin-container/probe.sock"
        .set addr_len, . - addr
msg_ready:      .ascii "ready\n"
msg_ok:         .ascii "ok\n"
msg_socket: .byte msg_socket_end - msg_socket - 1
                .ascii "probe: socket failed\n"
msg_socket_end:
msg_bind: .byte msg_bind_end - msg_bind - 1
                .ascii "probe: bind failed\n"
msg_bind_end:
msg_chown: .byte msg_chown_end - msg_chown - 1
                .ascii "probe: chown failed\n"
msg_chown_end:
msg_chmod: .byte msg_chmod_end - msg_chmod - 1
                .ascii "probe: chmod failed\n"
msg_chmod_end:
msg_listen: .byte msg_listen_end - msg_listen - 1
                .ascii "probe: listen failed\n"
msg_listen_end:
msg_accept: .byte msg_accept_end - msg_accept - 1
                .ascii "probe: accept failed\n"
msg_accept_end:
