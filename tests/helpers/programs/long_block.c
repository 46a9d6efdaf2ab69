/* A straight line of 700 dependent additions: longer than a translation block may be, so
 * the emulator splits it and a read-after-write pair straddles two blocks (a hazard the
 * block counters charge at the second block's entry).  Returns 0. */
#include "mlml_platform.h"

#define ADD1 "addi %0, %0, 1\n"
#define ADD10 ADD1 ADD1 ADD1 ADD1 ADD1 ADD1 ADD1 ADD1 ADD1 ADD1
#define ADD100 ADD10 ADD10 ADD10 ADD10 ADD10 ADD10 ADD10 ADD10 ADD10 ADD10

int main(void) {
    int x = 0;
    __asm__ volatile(ADD100 ADD100 ADD100 ADD100 ADD100 ADD100 ADD100 : "+r"(x));
    return x == 700 ? 0 : 1;
}
