/* QDepthwise driver API: int8 depthwise conv2d (channel multiplier 1) + int32 bias.
 *
 * Layouts: input int8 [in_h][in_w][C], weights int8 [C][k_h][k_w], bias int32 [C],
 * output int32 [out_h][out_w][C], with C = in_c = out_c.
 * out[.., c] = bias[c] + sum (x_pad[.., c] + input_offset) * (w[c] + weight_offset);
 * padded positions hold pad_value.  The register map is in the generated qdepthwise_regs.h.
 */
#ifndef QDEPTHWISE_H
#define QDEPTHWISE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* qdepthwise_dwconv2d_params_t (members named as mlonmcu_lite.peripheral.conv.ConvJob's fields:
 * the compiler emits designated initialisers) and qdepthwise_program_dwconv2d() are generated
 * from the declaration's binding into qdepthwise_regs.h. */
#include "qdepthwise_regs.h"

/* Driver-side rejection (nothing written to the device): in_c != out_c. */
#define QDEPTHWISE_ERR_MULTIPLIER (-2)

/* Runs one depthwise job and waits for it (blocking on WAIT, or polling STATUS when
 * built with wait_mode=poll).  Returns 0, the device's ERR_* code, or
 * QDEPTHWISE_ERR_MULTIPLIER. */
int qdepthwise_dwconv2d(const qdepthwise_dwconv2d_params_t *p, const int8_t *input,
                        const int8_t *weight, const int32_t *bias, int32_t *output);

#if QDEPTHWISE_CFG_FUSED_REQUANT
/* The same job with the fused requantization (setting fused_requant): the device writes
 * int8 output with TFLite's rounding; multiplier/shift are int32 per output channel.
 * qdepthwise_requant_params_t and qdepthwise_program_requant() are generated into qdepthwise_regs.h. */
int qdepthwise_dwconv2d_rq(const qdepthwise_dwconv2d_params_t *p, const qdepthwise_requant_params_t *rq,
                           const int8_t *input, const int8_t *weight, const int32_t *bias,
                           int8_t *output, const int32_t *multiplier, const int32_t *shift);
#endif
#if !QDEPTHWISE_CFG_FUSED_REQUANT && QDEPTHWISE_CFG_BAND_SCRATCH_BYTES
/* An int32-output job tiled into bands of `rows` output rows (setting band_scratch_bytes):
 * the device writes each band into one static int32 scratch, the CPU requantizes it into
 * `output` (mlml_bands.h); the whole int32 result never exists. */
int qdepthwise_dwconv2d_banded(const qdepthwise_dwconv2d_params_t *p,
                               const qdepthwise_requant_params_t *rq, int32_t rows,
                               const int8_t *input, const int8_t *weight, const int32_t *bias,
                               int8_t *output, const int32_t *multiplier, const int32_t *shift);
#endif

/* 1 if the device at QDEPTHWISE_BASE identifies as QDepthwise. */
int qdepthwise_probe(void);

/* The generated call sites abort on a driver error (platform libc). */
void abort(void) __attribute__((noreturn));

#ifdef __cplusplus
}
#endif

#endif /* QDEPTHWISE_H */
