/* QDense driver API: int8 fully connected + int32 bias, optionally requantized to int8.
 *
 * Layouts: input int8 [rows][depth], weights int8 [units][depth], bias int32 [units],
 * output int32 [rows][units], or int8 when p->rq_enable (multiplier/shift: int32 [units]).
 * The register map, qdense_fc_params_t and qdense_program_fc() are generated from the
 * declaration into qdense_regs.h.
 */
#ifndef QDENSE_H
#define QDENSE_H

#include <stdint.h>
#include "qdense_regs.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Runs one job and waits for it.  Returns 0 or the device's ERR_* code. */
int qdense_fc(const qdense_fc_params_t *p, const int8_t *input, const int8_t *weight,
              const int32_t *bias, void *output, const int32_t *multiplier, const int32_t *shift);

/* 1 if the device at QDENSE_BASE identifies as QDense. */
int qdense_probe(void);

/* The generated call sites abort on a driver error (platform libc). */
void abort(void) __attribute__((noreturn));

#ifdef __cplusplus
}
#endif

#endif /* QDENSE_H */
