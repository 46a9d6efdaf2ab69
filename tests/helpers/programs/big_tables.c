/* 100 KiB of read-only table (ROM) and 40 KiB of scratch (RAM): over a 64 KiB / 16 KiB map.
 * volatile: the reads stay real loads (the compiler must not fold the table away). */
#include "mlml_platform.h"

const volatile unsigned char table[100 * 1024] = {1, 2, 3};
unsigned char scratch[40 * 1024];

int main(void) {
    unsigned sum = 0;
    mlml_region_begin();
    for (unsigned i = 0; i < sizeof table; i += 1024) {
        scratch[i % sizeof scratch] = table[i];
        sum += scratch[i % sizeof scratch];
    }
    mlml_region_end();
    return (int)sum;  /* table[0] = 1, the other sampled bytes are 0 */
}
