/* The `bench perf` workload: ~50M instructions of int8 matmul + requantize
 * (TinyML-like), to measure VP speed with exact counting. */
#include "mlml_platform.h"

#ifndef REPEAT
#define REPEAT 4
#endif
#define M 64
#define K 256
#define N 96

static int8_t a[M][K];
static int8_t b[K][N];
static int8_t c[M][N];

int main(void) {
    uint32_t seed = 12345u;
    for (int i = 0; i < M; ++i)
        for (int k = 0; k < K; ++k) a[i][k] = (int8_t)((seed = seed * 1103515245u + 12345u) >> 24);
    for (int k = 0; k < K; ++k)
        for (int j = 0; j < N; ++j) b[k][j] = (int8_t)((seed = seed * 1103515245u + 12345u) >> 24);
    mlml_region_begin();
    for (int r = 0; r < REPEAT; ++r) {
        for (int i = 0; i < M; ++i) {
            for (int j = 0; j < N; ++j) {
                int32_t acc = r;
                for (int k = 0; k < K; ++k) acc += (int32_t)a[i][k] * (int32_t)b[k][j];
                int32_t q = (int32_t)(((int64_t)acc * 1518500250) >> 38);
                c[i][j] = (int8_t)(q > 127 ? 127 : q < -128 ? -128 : q);
            }
        }
    }
    mlml_region_end();
    uint32_t sum = 0;
    for (int i = 0; i < M; ++i)
        for (int j = 0; j < N; ++j) sum = sum * 31u + (uint8_t)c[i][j];
    printf("checksum %08x\n", (unsigned)sum);
    return 0;
}
