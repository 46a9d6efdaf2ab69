/* QEltwise driver API: int8 element-wise ADD/MUL and average/max pooling.
 *
 * Element-wise: a, b and out int8 [count] (out may be a or b), TFLite's ADD / MUL arithmetic
 * with the parameters in qeltwise_eltwise_params_t.  Pooling: x int8 [in_h][in_w][channels],
 * out int8 [out_h][out_w][channels].  The register map, both params structs and their
 * qeltwise_program_*() functions are generated from the declaration into qeltwise_regs.h.
 */
#ifndef QELTWISE_H
#define QELTWISE_H

#include <stdint.h>
#include "qeltwise_regs.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Run one job and wait for it.  Return 0 or the device's ERR_* code. */
int qeltwise_eltwise(const qeltwise_eltwise_params_t *p, const int8_t *a, const int8_t *b, int8_t *out);
int qeltwise_pool(const qeltwise_pool_params_t *p, const int8_t *x, int8_t *out);

/* 1 if the device at QELTWISE_BASE identifies as QEltwise. */
int qeltwise_probe(void);

/* The generated call sites abort on a driver error (platform libc). */
void abort(void) __attribute__((noreturn));

#ifdef __cplusplus
}
#endif

#endif /* QELTWISE_H */
