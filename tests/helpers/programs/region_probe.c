/* Exact counts by construction (inline assembly):
 *  - 103 instructions strictly between the region-begin and region-end stores
 *    (li + 50 x (addi, bnez) + c.nop + nop);
 *  - accesses to a probe device at MLML_PERIPHERAL_BASE: a store, 3 instructions,
 *    a load (4 later), two stores to the same register (1 and 2 later), all in
 *    one basic block. */
#include "mlml_platform.h"

int main(void) {
    __asm__ volatile(
        "li t0, %0\n"
        "li t1, 1\n"
        "li t2, 2\n"
        "sw t1, 0(t0)\n"           /* region begin */
        "li t3, 50\n"
        "1: addi t3, t3, -1\n"
        "bnez t3, 1b\n"
        "c.nop\n"
        "nop\n"
        "sw t2, 0(t0)\n"           /* region end */
        :
        : "i"(MLML_REGION_BASE)
        : "t0", "t1", "t2", "t3", "memory");
    uint32_t value;
    __asm__ volatile(
        "li t0, %1\n"
        "sw zero, 0(t0)\n"         /* probe write A */
        "nop\n"
        "c.nop\n"
        "addi t1, zero, 7\n"
        "lw %0, 4(t0)\n"           /* probe read: A + 4 */
        "sw %0, 0(t0)\n"           /* A + 5 */
        "sw %0, 0(t0)\n"           /* A + 6 */
        : "=&r"(value)
        : "i"(MLML_PERIPHERAL_BASE)
        : "t0", "t1", "memory");
    printf("probe read %x\n", (unsigned)value);
    return value == 0x1234u ? 0 : 1;
}
