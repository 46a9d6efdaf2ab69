/* Row-band tiling of an int32-output conv job (setting band_scratch_bytes, fused_requant=false;
 * mlonmcu_lite/peripheral/bands.py): the driver runs the job band by band into one int32
 * scratch and requantizes each band on the CPU, so a layer's whole int32 result never exists. */
#ifndef MLML_BANDS_H
#define MLML_BANDS_H

#include <stdint.h>

/* Output rows [r0, r0 + out_h) of a job: the input rows they read (halo included) and the
 * padding rows left above and below them. */
typedef struct {
    int32_t in_row0, in_h, out_h, pad_top, pad_bottom;
} mlml_band_t;

static inline mlml_band_t mlml_band(int32_t r0, int32_t rows, int32_t out_h, int32_t in_h,
                                    int32_t stride_h, int32_t pad_top, int32_t k_h) {
    const int32_t r1 = r0 + rows < out_h ? r0 + rows : out_h;
    const int32_t first = r0 * stride_h - pad_top, last = (r1 - 1) * stride_h - pad_top + k_h - 1;
    const int32_t lo = first > 0 ? first : 0, hi = last < in_h - 1 ? last : in_h - 1;
    mlml_band_t band = {lo, hi - lo + 1, r1 - r0, lo - first, last - hi};
    return band;
}

/* A copy of job params `*p` (any engine's params struct: ConvJob's field names) restricted
 * to band `b`. */
#define MLML_BAND_JOB(band, p, b)                                                    \
    do {                                                                             \
        (band) = *(p);                                                               \
        (band).in_h = (b).in_h;                                                      \
        (band).out_h = (b).out_h;                                                    \
        (band).pad_top = (b).pad_top;                                                \
        (band).pad_bottom = (b).pad_bottom;                                          \
    } while (0)

/* int32 [pixels][channels] -> int8: TFLite MultiplyByQuantizedMultiplier (double rounding, as
 * CONV_2D / DEPTHWISE_CONV_2D), zero point, clamp; channel outer so a channel's constants stay
 * in registers; the 32-bit steps of the CPU kernels (compiler/cpu_kernels.py HELPERS). */
static inline void mlml_requantize_band(const int32_t *acc, int8_t *y, int32_t pixels, int32_t channels,
                                        const int32_t *multiplier, const int32_t *shift,
                                        int32_t zp, int32_t lo, int32_t hi) {
    for (int32_t c = 0; c < channels; ++c) {
        const int32_t m = multiplier[c], s = shift[c];
        const int32_t left = s > 0 ? s : 0, right = s > 0 ? 0 : -s;
        const int32_t mask = (int32_t)((1u << right) - 1u), half = mask >> 1;
        const int32_t *a = acc + c;
        int8_t *o = y + c;
        for (int32_t p = 0; p < pixels; ++p, a += channels, o += channels) {
            const int32_t x = (int32_t)((uint32_t)*a << left);
            const int32_t h = (int32_t)(((int64_t)x * m + (1ll << 30)) >> 31);
            const int32_t v = (h >> right) + ((h & mask) > half + (h < 0)) + zp;
            *o = (int8_t)(v < lo ? lo : (v > hi ? hi : v));
        }
    }
}

#endif /* MLML_BANDS_H */
