/* The compiler-rt builtins RV32 code may call (compiler-rt is not packaged
 * for riscv32 in Debian): 64-bit division/modulo and bit counting. */
#include <stdint.h>

static uint64_t udivmod64(uint64_t n, uint64_t d, uint64_t *rem) {
    if ((n >> 32) == 0 && (d >> 32) == 0) { /* hardware divu */
        uint32_t n32 = (uint32_t)n, d32 = (uint32_t)d;
        if (rem) *rem = n32 % d32;
        return n32 / d32;
    }
    uint64_t q = 0, r = 0;
    for (int i = 63; i >= 0; --i) {
        r = (r << 1) | ((n >> i) & 1u);
        if (r >= d) {
            r -= d;
            q |= (uint64_t)1 << i;
        }
    }
    if (rem) *rem = r;
    return q;
}

uint64_t __udivdi3(uint64_t n, uint64_t d) { return udivmod64(n, d, 0); }

uint64_t __umoddi3(uint64_t n, uint64_t d) {
    uint64_t r;
    udivmod64(n, d, &r);
    return r;
}

uint64_t __udivmoddi4(uint64_t n, uint64_t d, uint64_t *rem) { return udivmod64(n, d, rem); }

int64_t __divdi3(int64_t n, int64_t d) {
    uint64_t un = n < 0 ? 0u - (uint64_t)n : (uint64_t)n;
    uint64_t ud = d < 0 ? 0u - (uint64_t)d : (uint64_t)d;
    uint64_t q = udivmod64(un, ud, 0);
    return (int64_t)(((n < 0) != (d < 0)) ? 0u - q : q);
}

int64_t __moddi3(int64_t n, int64_t d) {
    uint64_t un = n < 0 ? 0u - (uint64_t)n : (uint64_t)n;
    uint64_t ud = d < 0 ? 0u - (uint64_t)d : (uint64_t)d;
    uint64_t r;
    udivmod64(un, ud, &r);
    return (int64_t)(n < 0 ? 0u - r : r);
}

/* Loop-free on purpose: LLVM's idiom recognizer could turn a counting loop
 * back into the very intrinsic that calls these. */
int __clzsi2(uint32_t x) {
    int n = 0;
    if (x == 0) return 32;
    if (!(x & 0xFFFF0000u)) { n += 16; x <<= 16; }
    if (!(x & 0xFF000000u)) { n += 8; x <<= 8; }
    if (!(x & 0xF0000000u)) { n += 4; x <<= 4; }
    if (!(x & 0xC0000000u)) { n += 2; x <<= 2; }
    if (!(x & 0x80000000u)) { n += 1; }
    return n;
}

int __ctzsi2(uint32_t x) {
    if (x == 0) return 32;
    return 31 - __clzsi2(x & (0u - x));
}

int __popcountsi2(uint32_t x) {
    x = x - ((x >> 1) & 0x55555555u);
    x = (x & 0x33333333u) + ((x >> 2) & 0x33333333u);
    x = (x + (x >> 4)) & 0x0F0F0F0Fu;
    return (int)((x * 0x01010101u) >> 24);
}

int __clzdi2(uint64_t x) {
    return (x >> 32) ? __clzsi2((uint32_t)(x >> 32)) : 32 + __clzsi2((uint32_t)x);
}

int __ctzdi2(uint64_t x) {
    return (uint32_t)x ? __ctzsi2((uint32_t)x) : 32 + __ctzsi2((uint32_t)(x >> 32));
}
