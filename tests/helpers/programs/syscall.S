/* A foreign-style bare-metal program: no platform startup, linked at
 * 0x20000000 (outside the platform's ROM/RAM), its own stack symbol
 * __stack, console and exit through ecall (a7=64 write, a7=93 exit).
 * Exactly 12 instructions retire, the final ecall included. */
    .section .text
    .globl _start
_start:
    la      sp, __stack         /* auipc + addi */
    sw      zero, -4(sp)        /* the stack must be mapped */
    li      a0, 1
    la      a1, message         /* auipc + addi */
    li      a2, 14              /* strlen(message) */
    li      a7, 64
    ecall                       /* write(1, message, len) */
    addi    a0, a0, 28          /* write returned len (14): exit code 42 */
    li      a7, 93
    ecall                       /* exit(42) */
    .section .rodata
message:
    .ascii  "hi from ecall\n"
