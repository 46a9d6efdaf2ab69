/* QDense driver: operand addresses, then the generated qdense_program_fc(), start, wait. */
#include "qdense.h"

#define QF_ADDR(p) ((uint32_t)(uintptr_t)(p))
/* Orders the CPU's buffer accesses around the device's: no reordering by the compiler. */
#define QF_BARRIER() __asm__ volatile("" ::: "memory")

int qdense_probe(void) {
    return QDENSE_GET(QDENSE_ID_MAGIC, QDENSE_ID) == QDENSE_GET(QDENSE_ID_MAGIC, QDENSE_ID_RESET);
}

static uint32_t qdense_wait_done(void) {
#if defined(QDENSE_CFG_WAIT_MODE_STALL)
    return QDENSE_WAIT;
#else
    uint32_t status;
    do {
        status = QDENSE_STATUS;
    } while (status & QDENSE_STATUS_BUSY_MASK);
    return status;
#endif
}

int qdense_fc(const qdense_fc_params_t *p, const int8_t *input, const int8_t *weight,
              const int32_t *bias, void *output, const int32_t *multiplier, const int32_t *shift) {
    QDENSE_INPUT_ADDR = QF_ADDR(input);
    QDENSE_WEIGHT_ADDR = QF_ADDR(weight);
    QDENSE_BIAS_ADDR = QF_ADDR(bias);
    QDENSE_OUTPUT_ADDR = QF_ADDR(output);
    if (p->rq_enable) {
        QDENSE_MULT_ADDR = QF_ADDR(multiplier);
        QDENSE_SHIFT_ADDR = QF_ADDR(shift);
    }
    qdense_program_fc(p);
    QF_BARRIER();
    QDENSE_CTRL = QDENSE_CTRL_START_MASK;
    uint32_t status = qdense_wait_done();
    QF_BARRIER();
    if (status & QDENSE_STATUS_ERROR_MASK) {
        uint32_t code = QDENSE_GET(QDENSE_STATUS_ERR_CODE, status);
        QDENSE_CTRL = QDENSE_CTRL_CLEAR_MASK;
        return code ? (int)code : -1;
    }
    return 0;
}
