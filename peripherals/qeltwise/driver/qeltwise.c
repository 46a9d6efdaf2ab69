/* QEltwise driver: operand addresses, the generated qeltwise_program_<job>(), start, wait. */
#include "qeltwise.h"

#define QE_ADDR(p) ((uint32_t)(uintptr_t)(p))
/* Orders the CPU's buffer accesses around the device's: no reordering by the compiler. */
#define QE_BARRIER() __asm__ volatile("" ::: "memory")

int qeltwise_probe(void) {
    return QELTWISE_GET(QELTWISE_ID_MAGIC, QELTWISE_ID) == QELTWISE_GET(QELTWISE_ID_MAGIC, QELTWISE_ID_RESET);
}

static int qeltwise_run(void) {
    QE_BARRIER();
    QELTWISE_CTRL = QELTWISE_CTRL_START_MASK;
#if defined(QELTWISE_CFG_WAIT_MODE_STALL)
    uint32_t status = QELTWISE_WAIT;
#else
    uint32_t status;
    do {
        status = QELTWISE_STATUS;
    } while (status & QELTWISE_STATUS_BUSY_MASK);
#endif
    QE_BARRIER();
    if (status & QELTWISE_STATUS_ERROR_MASK) {
        uint32_t code = QELTWISE_GET(QELTWISE_STATUS_ERR_CODE, status);
        QELTWISE_CTRL = QELTWISE_CTRL_CLEAR_MASK;
        return code ? (int)code : -1;
    }
    return 0;
}

int qeltwise_eltwise(const qeltwise_eltwise_params_t *p, const int8_t *a, const int8_t *b, int8_t *out) {
    QELTWISE_A_ADDR = QE_ADDR(a);
    QELTWISE_B_ADDR = QE_ADDR(b);
    QELTWISE_OUTPUT_ADDR = QE_ADDR(out);
    qeltwise_program_eltwise(p);
    return qeltwise_run();
}

int qeltwise_pool(const qeltwise_pool_params_t *p, const int8_t *x, int8_t *out) {
    QELTWISE_A_ADDR = QE_ADDR(x);
    QELTWISE_OUTPUT_ADDR = QE_ADDR(out);
    qeltwise_program_pool(p);
    return qeltwise_run();
}
