/* Program termination: the exit device ends the simulation with a code. */
#include "mlml_platform.h"

void exit(int code) {
    MLML_MMIO32(MLML_EXIT_BASE) = (uint32_t)code;
    for (;;) {
    }
}

void abort(void) {
    puts("abort()");
    exit(134);
}
