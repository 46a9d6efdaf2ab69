/* QVanilla driver API: int8 conv2d + int32 bias on the QVanilla accelerator.
 *
 * Layouts: input int8 [in_h][in_w][in_c], weights int8 [out_c][k_h][k_w][in_c],
 * bias int32 [out_c], output int32 [out_h][out_w][out_c].
 * out = bias + sum (x_pad + input_offset) * (w + weight_offset); padded
 * positions hold pad_value.  The register map is in the generated qvanilla_regs.h.
 */
#ifndef QVANILLA_H
#define QVANILLA_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Field names match mlonmcu_lite.peripheral.conv.ConvJob (the compiler emits
 * designated initialisers with those names). */
typedef struct {
    uint16_t in_h, in_w, in_c;
    uint16_t out_h, out_w, out_c;
    uint16_t k_h, k_w, stride_h, stride_w;
    uint16_t pad_top, pad_left, pad_bottom, pad_right;
    int16_t pad_value, input_offset, weight_offset;
} qvanilla_conv2d_params_t;

/* Runs one conv job and waits for it (polling STATUS, or blocking on WAIT when
 * built with wait_mode=stall).  Returns 0, or the device's ERR_* code. */
int qvanilla_conv2d(const qvanilla_conv2d_params_t *p, const int8_t *input,
                    const int8_t *weight, const int32_t *bias, int32_t *output);

#include "qvanilla_regs.h"
#if QVANILLA_CFG_FUSED_REQUANT
/* The same job with the fused requantization (setting fused_requant): the device writes
 * int8 output with TFLite's rounding; multiplier/shift are int32 per output channel.
 * qvanilla_requant_params_t and qvanilla_program_requant() are generated into qvanilla_regs.h. */
int qvanilla_conv2d_rq(const qvanilla_conv2d_params_t *p, const qvanilla_requant_params_t *rq,
                       const int8_t *input, const int8_t *weight, const int32_t *bias,
                       int8_t *output, const int32_t *multiplier, const int32_t *shift);
#endif
#if QVANILLA_CFG_FUSED_REQUANT && QVANILLA_CFG_FUSED_RESIDUAL
/* ... and then TFLite's int8 ADD with `residual` (same shape as the output; setting
 * fused_residual): output = ADD(requantized conv, residual).  output may be residual. */
int qvanilla_conv2d_res(const qvanilla_conv2d_params_t *p, const qvanilla_requant_params_t *rq,
                        const qvanilla_residual_params_t *res, const int8_t *input,
                        const int8_t *weight, const int32_t *bias, int8_t *output,
                        const int32_t *multiplier, const int32_t *shift, const int8_t *residual);
#endif

/* 1 if the device at QVANILLA_BASE identifies as QVanilla. */
int qvanilla_probe(void);

/* The generated call sites abort on a driver error (platform libc). */
void abort(void) __attribute__((noreturn));

#ifdef __cplusplus
}
#endif

#endif /* QVANILLA_H */
