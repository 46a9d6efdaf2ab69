/* QVanilla driver: programs the registers (addresses from the generated
 * qvanilla_regs.h only), starts the job and waits for it as a real driver does. */
#include "qvanilla.h"
#include "qvanilla_regs.h"

#define QV_ADDR(p) ((uint32_t)(uintptr_t)(p))
/* Orders the CPU's buffer accesses around the device's: no reordering by the compiler. */
#define QV_BARRIER() __asm__ volatile("" ::: "memory")

int qvanilla_probe(void) {
    return QVANILLA_GET(QVANILLA_ID_MAGIC, QVANILLA_ID) ==
           QVANILLA_GET(QVANILLA_ID_MAGIC, QVANILLA_ID_RESET);
}

static uint32_t qvanilla_wait_done(void) {
#if defined(QVANILLA_CFG_WAIT_MODE_STALL)
    return QVANILLA_WAIT;
#else
    uint32_t status;
    do {
        status = QVANILLA_STATUS;
    } while (status & QVANILLA_STATUS_BUSY_MASK);
    return status;
#endif
}

int qvanilla_conv2d(const qvanilla_conv2d_params_t *p, const int8_t *input,
                    const int8_t *weight, const int32_t *bias, int32_t *output) {
    QVANILLA_INPUT_ADDR = QV_ADDR(input);
    QVANILLA_WEIGHT_ADDR = QV_ADDR(weight);
    QVANILLA_BIAS_ADDR = QV_ADDR(bias);
    QVANILLA_OUTPUT_ADDR = QV_ADDR(output);
    qvanilla_program_conv2d(p); /* generated from the declaration's binding */
    QV_BARRIER();
    QVANILLA_CTRL = QVANILLA_CTRL_START_MASK;
    uint32_t status = qvanilla_wait_done();
    QV_BARRIER();
    if (status & QVANILLA_STATUS_ERROR_MASK) {
        uint32_t code = QVANILLA_GET(QVANILLA_STATUS_ERR_CODE, status);
        QVANILLA_CTRL = QVANILLA_CTRL_CLEAR_MASK;
        return code ? (int)code : -1;
    }
    return 0;
}

#if QVANILLA_CFG_FUSED_REQUANT
int qvanilla_conv2d_rq(const qvanilla_conv2d_params_t *p, const qvanilla_requant_params_t *rq,
                       const int8_t *input, const int8_t *weight, const int32_t *bias,
                       int8_t *output, const int32_t *multiplier, const int32_t *shift) {
    QVANILLA_MULT_ADDR = QV_ADDR(multiplier);
    QVANILLA_SHIFT_ADDR = QV_ADDR(shift);
    qvanilla_program_requant(rq);
    int result = qvanilla_conv2d(p, input, weight, bias, (int32_t *)output);
    QVANILLA_REQUANT = 0; /* the next plain job writes int32 again */
    return result;
}
#endif

#if QVANILLA_CFG_FUSED_REQUANT && QVANILLA_CFG_FUSED_RESIDUAL
int qvanilla_conv2d_res(const qvanilla_conv2d_params_t *p, const qvanilla_requant_params_t *rq,
                        const qvanilla_residual_params_t *res, const int8_t *input,
                        const int8_t *weight, const int32_t *bias, int8_t *output,
                        const int32_t *multiplier, const int32_t *shift, const int8_t *residual) {
    QVANILLA_RES_ADDR = QV_ADDR(residual);
    qvanilla_program_residual(res);
    int result = qvanilla_conv2d_rq(p, rq, input, weight, bias, output, multiplier, shift);
    QVANILLA_RESIDUAL = 0; /* the next job writes its output alone */
    return result;
}
#endif

#if !QVANILLA_CFG_FUSED_REQUANT && QVANILLA_CFG_BAND_SCRATCH_BYTES
#include "mlml_bands.h"

/* The one int32 band buffer every banded job shares (setting band_scratch_bytes). */
static int32_t qvanilla_band[QVANILLA_CFG_BAND_SCRATCH_BYTES / 4];

int qvanilla_conv2d_banded(const qvanilla_conv2d_params_t *p, const qvanilla_requant_params_t *rq,
                           int32_t rows, const int8_t *input, const int8_t *weight,
                           const int32_t *bias, int8_t *output, const int32_t *multiplier,
                           const int32_t *shift) {
    for (int32_t r0 = 0; r0 < (int32_t)p->out_h; r0 += rows) {
        const mlml_band_t b = mlml_band(r0, rows, p->out_h, p->in_h, p->stride_h, p->pad_top, p->k_h);
        qvanilla_conv2d_params_t band;
        MLML_BAND_JOB(band, p, b);
        int result = qvanilla_conv2d(&band, input + b.in_row0 * p->in_w * p->in_c, weight, bias, qvanilla_band);
        if (result != 0)
            return result;
        mlml_requantize_band(qvanilla_band, output + r0 * p->out_w * p->out_c, b.out_h * p->out_w, p->out_c,
                             multiplier, shift, rq->rq_zero_point, rq->rq_lo, rq->rq_hi);
    }
    return 0;
}
#endif
