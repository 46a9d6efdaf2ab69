/* QDepthwise driver: programs the registers (addresses from the generated
 * qdepthwise_regs.h only), starts the job and waits for it as a real driver does. */
#include "qdepthwise.h"
#include "qdepthwise_regs.h"

#define QD_ADDR(p) ((uint32_t)(uintptr_t)(p))
/* Orders the CPU's buffer accesses around the device's: no reordering by the compiler. */
#define QD_BARRIER() __asm__ volatile("" ::: "memory")

int qdepthwise_probe(void) {
    return QDEPTHWISE_GET(QDEPTHWISE_ID_MAGIC, QDEPTHWISE_ID) ==
           QDEPTHWISE_GET(QDEPTHWISE_ID_MAGIC, QDEPTHWISE_ID_RESET);
}

static uint32_t qdepthwise_wait_done(void) {
#if defined(QDEPTHWISE_CFG_WAIT_MODE_STALL)
    return QDEPTHWISE_WAIT;
#else
    uint32_t status;
    do {
        status = QDEPTHWISE_STATUS;
    } while (status & QDEPTHWISE_STATUS_BUSY_MASK);
    return status;
#endif
}

int qdepthwise_dwconv2d(const qdepthwise_dwconv2d_params_t *p, const int8_t *input,
                        const int8_t *weight, const int32_t *bias, int32_t *output) {
    if (p->in_c != p->out_c) return QDEPTHWISE_ERR_MULTIPLIER;
    QDEPTHWISE_INPUT_ADDR = QD_ADDR(input);
    QDEPTHWISE_WEIGHT_ADDR = QD_ADDR(weight);
    QDEPTHWISE_BIAS_ADDR = QD_ADDR(bias);
    QDEPTHWISE_OUTPUT_ADDR = QD_ADDR(output);
    qdepthwise_program_dwconv2d(p); /* generated from the declaration's binding */
    QD_BARRIER();
    QDEPTHWISE_CTRL = QDEPTHWISE_CTRL_START_MASK;
    uint32_t status = qdepthwise_wait_done();
    QD_BARRIER();
    if (status & QDEPTHWISE_STATUS_ERROR_MASK) {
        uint32_t code = QDEPTHWISE_GET(QDEPTHWISE_STATUS_ERR_CODE, status);
        QDEPTHWISE_CTRL = QDEPTHWISE_CTRL_CLEAR_MASK;
        return code ? (int)code : -1;
    }
    return 0;
}

#if QDEPTHWISE_CFG_FUSED_REQUANT
int qdepthwise_dwconv2d_rq(const qdepthwise_dwconv2d_params_t *p,
                           const qdepthwise_requant_params_t *rq, const int8_t *input,
                           const int8_t *weight, const int32_t *bias, int8_t *output,
                           const int32_t *multiplier, const int32_t *shift) {
    QDEPTHWISE_MULT_ADDR = QD_ADDR(multiplier);
    QDEPTHWISE_SHIFT_ADDR = QD_ADDR(shift);
    qdepthwise_program_requant(rq);
    int result = qdepthwise_dwconv2d(p, input, weight, bias, (int32_t *)output);
    QDEPTHWISE_REQUANT = 0; /* the next plain job writes int32 again */
    return result;
}
#endif

#if !QDEPTHWISE_CFG_FUSED_REQUANT && QDEPTHWISE_CFG_BAND_SCRATCH_BYTES
#include "mlml_bands.h"

/* The one int32 band buffer every banded job shares (setting band_scratch_bytes). */
static int32_t qdepthwise_band[QDEPTHWISE_CFG_BAND_SCRATCH_BYTES / 4];

int qdepthwise_dwconv2d_banded(const qdepthwise_dwconv2d_params_t *p,
                               const qdepthwise_requant_params_t *rq, int32_t rows,
                               const int8_t *input, const int8_t *weight, const int32_t *bias,
                               int8_t *output, const int32_t *multiplier, const int32_t *shift) {
    for (int32_t r0 = 0; r0 < (int32_t)p->out_h; r0 += rows) {
        const mlml_band_t b = mlml_band(r0, rows, p->out_h, p->in_h, p->stride_h, p->pad_top, p->k_h);
        qdepthwise_dwconv2d_params_t band;
        MLML_BAND_JOB(band, p, b);
        int result = qdepthwise_dwconv2d(&band, input + b.in_row0 * p->in_w * p->in_c, weight, bias,
                                         qdepthwise_band);
        if (result != 0)
            return result;
        mlml_requantize_band(qdepthwise_band, output + r0 * p->out_w * p->out_c, b.out_h * p->out_w,
                             p->out_c, multiplier, shift, rq->rq_zero_point, rq->rq_lo, rq->rq_hi);
    }
    return 0;
}
#endif
