/* Model-style I/O: the harness writes `mlml_input_0` (in .noinit, which the
 * startup neither loads nor clears) before the CPU starts; the program
 * writes mlml_output_0[i] = 3 * input[i] + 1 inside the measured region. */
#include "mlml_platform.h"

MLML_NOINIT int8_t mlml_input_0[64];
MLML_NOINIT int16_t mlml_output_0[64];
int32_t initialised = 5;  /* .data: copied from ROM by the startup */
int32_t zeroed[4];        /* .bss: cleared by the startup */

void mlml_model_run(void) {
    for (int i = 0; i < 64; ++i) mlml_output_0[i] = (int16_t)(3 * mlml_input_0[i] + initialised - 4 + zeroed[i & 3]);
}
