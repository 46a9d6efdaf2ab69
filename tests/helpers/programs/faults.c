/* One fault per build: -DFAULT_<KIND>.  main's return value is never reached. */
#include "mlml_platform.h"

volatile uint32_t sink;

#if defined(FAULT_STACK)
__attribute__((noinline)) static uint32_t recurse(uint32_t n) {
    volatile uint32_t frame[8];
    frame[n & 7] = n;
    return n == 0 ? 0 : recurse(n + 1) + frame[(n + 3) & 7];
}
#endif

int main(void) {
    printf("before the fault\n");
#if defined(FAULT_UNMAPPED)
    sink = *(volatile uint32_t *)0x20000000u;
#elif defined(FAULT_UNMAPPED_WRITE)
    *(volatile uint32_t *)0x30000010u = 1;
#elif defined(FAULT_ILLEGAL)
    __asm__ volatile(".4byte 0xffffffff");
#elif defined(FAULT_MISALIGNED)
    sink = *(volatile uint32_t *)(MLML_UART_BASE + 2u);
#elif defined(FAULT_STACK)
    sink = recurse(1);
#elif defined(FAULT_ROM_WRITE)
    *(volatile uint32_t *)(MLML_ROM_BASE + 0x100u) = 0;
#elif defined(FAULT_LOOP)
    for (;;) sink++;
#elif defined(FAULT_AMO) /* rv32gc: atomics must be naturally aligned */
    static uint32_t word[2];
    uint32_t old;
    __asm__ volatile("amoadd.w %0, %1, (%2)" : "=r"(old) : "r"(1), "r"((char *)word + 2) : "memory");
    sink = old;
#elif defined(FAULT_JUMP)
    ((void (*)(void))0x30000000u)();
#else
#error "define one FAULT_<KIND>"
#endif
    return 0;
}
