/* Reset code for the mlonmcu-lite RV32 platform.
 *
 * gp and sp, FPU enable (hard-float builds), .data copy from its ROM load
 * image, .bss clear, main(0, 0), then exit(main's return value), which
 * stores the code to the exit device.  .noinit is left alone on purpose: the
 * harness writes model inputs there before the CPU starts.
 */
    .section .text.start, "ax", @progbits
    .globl _start
    .type _start, @function
_start:
    .option push
    .option norelax
    la      gp, __global_pointer$
    .option pop
    la      sp, __stack_top

#if defined(__riscv_flen)
    li      t0, 0x6000          /* mstatus.FS = dirty: FPU on */
    csrs    mstatus, t0
    csrwi   fcsr, 0
#endif

    la      a0, __data_start
    la      a1, __data_end
    la      a2, __data_load
1:  bgeu    a0, a1, 2f
    lw      t0, 0(a2)
    sw      t0, 0(a0)
    addi    a0, a0, 4
    addi    a2, a2, 4
    j       1b
2:
    la      a0, __bss_start
    la      a1, __bss_end
3:  bgeu    a0, a1, 4f
    sw      zero, 0(a0)
    addi    a0, a0, 4
    j       3b
4:
    li      a0, 0
    li      a1, 0
    call    main
    tail    exit
    .size _start, . - _start
