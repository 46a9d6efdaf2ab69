/* QVanilla driver: programs the registers (addresses from the generated
 * qvanilla_regs.h only), starts the job and waits for it as a real driver does. */
#include "qvanilla.h"
#include "qvanilla_regs.h"

#define QV_SET(reg_field, v) QVANILLA_FIELD(QVANILLA_##reg_field, (uint32_t)(v))
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
    QVANILLA_INPUT_SHAPE = QV_SET(INPUT_SHAPE_HEIGHT, p->in_h) | QV_SET(INPUT_SHAPE_WIDTH, p->in_w);
    QVANILLA_OUTPUT_SHAPE =
        QV_SET(OUTPUT_SHAPE_HEIGHT, p->out_h) | QV_SET(OUTPUT_SHAPE_WIDTH, p->out_w);
    QVANILLA_CHANNELS = QV_SET(CHANNELS_IN, p->in_c) | QV_SET(CHANNELS_OUT, p->out_c);
    QVANILLA_KERNEL = QV_SET(KERNEL_HEIGHT, p->k_h) | QV_SET(KERNEL_WIDTH, p->k_w) |
                      QV_SET(KERNEL_STRIDE_H, p->stride_h) | QV_SET(KERNEL_STRIDE_W, p->stride_w);
    QVANILLA_PADDING = QV_SET(PADDING_TOP, p->pad_top) | QV_SET(PADDING_LEFT, p->pad_left) |
                       QV_SET(PADDING_BOTTOM, p->pad_bottom) | QV_SET(PADDING_RIGHT, p->pad_right);
    QVANILLA_OFFSETS =
        QV_SET(OFFSETS_INPUT, p->input_offset) | QV_SET(OFFSETS_WEIGHT, p->weight_offset);
    QVANILLA_PAD_VALUE = QV_SET(PAD_VALUE_VALUE, p->pad_value);
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
