/* printf through the UART, a loop, libc calls; returns 7. */
#include "mlml_platform.h"

static int table[64];

int main(void) {
    int sum = 0;
    for (int i = 0; i < 64; ++i) table[i] = i * i;
    for (int i = 0; i < 64; ++i) sum += table[i];
    printf("hello %d %u %x %s %c %lld\n", -42, 42u, 0xbeefu, "vp", '!', -1234567890123ll);
    return sum == 85344 ? 7 : 1;
}
