"""Register-blocked int8 CPU micro-kernels, emitted as C specialised per layer geometry.

Why hand-written C and not a TIR schedule: an rv32imc MAC is a load, a `mul` and an `add`;
reaching ~3 instructions per MAC needs several accumulators in registers, operands shared
between them and one pointer bump per step, which TVM 0.27's C printer cannot produce from a
schedule (it re-derives every index).  Each kernel is a template whose shapes are C constants,
so clang folds every index into an immediate offset; layers with the same geometry share one
function (the weights and requantization tables are arguments).

Requantization is TFLite's MultiplyByQuantizedMultiplier in 32-bit arithmetic: the high word
of a 32x32 product (`mul` + `mulh`) and gemmlowp's RoundingDivideByPOT, the same integer steps
as the reference kernels (frontend/requant.py states them in int64; the identities used are
checked there and by the bit-exact tests).  When a layer's accumulators are provably small
(`fast_requant`: a bound from its weights and bias) and every channel shifts right, the same
values take 8 instructions instead of ~18: the doubling high multiply as `mulhsu` by 2M plus
the low word's top bit, and RoundingDivideByPOT with the zero point folded into one add:
`(h + 2^(r-1) + zp*2^r + (h >> 31)) >> r` (round half away from zero).

Kernels:
  * conv  (groups = 1): 2 output pixels x 4 output channels per pass; input columns are the
    input itself for a 1x1 conv, else an im2col copy of the two receptive fields (padded taps
    hold the pad value); weights repacked [OC/4][K][4] at compile time.
  * dwconv (groups = channels): one channel at a time, its taps and requantization in
    registers; the output split into interior/edge/corner rectangles, none with bounds tests.
  * fc: 16 (then 8, then 1) output units per pass over the input, weights repacked [K][16].
  * requant: int32 accumulators (e.g. from an accelerator) to int8, channel outer.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Callable

import numpy as np

HELPERS = r"""
/* TFLite MultiplyByQuantizedMultiplier, double rounding, 32-bit steps (mul + mulh). */
static inline __attribute__((unused)) int32_t mlml_srdhm(int32_t a, int32_t m) {
  /* SaturatingRoundingDoublingHighMul for m >= 0: (a*m + 2^30) >> 31. */
  return (int32_t)(((int64_t)a * m + (1ll << 30)) >> 31);
}
static inline __attribute__((unused)) int32_t mlml_rdpot(int32_t x, int32_t mask, int32_t right) {
  /* gemmlowp RoundingDivideByPOT: round half away from zero, no overflow. */
  int32_t threshold = (mask >> 1) + (x < 0);
  return (x >> right) + ((x & mask) > threshold);
}
static inline __attribute__((unused)) int32_t mlml_srdhm2(int32_t a, uint32_t m2) {
  /* The same for m2 = 2m: (a*m2 + 2^31) >> 32 as mulhsu + the low word's top bit. */
  return (int32_t)(((int64_t)a * (int64_t)(uint64_t)m2) >> 32) + (int32_t)(((uint32_t)a * m2) >> 31);
}
static inline __attribute__((unused)) int32_t mlml_mulh(int32_t a, int32_t m) {
  return (int32_t)(((int64_t)a * m) >> 32);
}
static inline __attribute__((unused)) int8_t mlml_clamp8(int32_t v, int32_t lo, int32_t hi) {
  return (int8_t)(v < lo ? lo : (v > hi ? hi : v));
}
"""

PW = 4  # output pixels per conv pass
OCB = 4  # output channels per conv pass
FC_ROWS = (16, 8, 1)  # output units per fully-connected pass, largest first


@dataclass(frozen=True)
class RequantSpec:
    """What the C needs to know at compile time about a requantization."""

    zero_point: int
    lo: int
    hi: int
    single: bool
    has_left: bool  # some channel shifts left (TFLite shift > 0)
    single_total: int = 31  # single rounding: total right shift (31 - s)
    fast: bool = False  # double rounding in the 8-instruction form (see fast_requant); single: fast_single

    @property
    def per_channel(self) -> bool:
        """Whether the kernel reads a multiplier and shift per output channel."""
        return self.fast or not self.single


def fast_requant(multiplier: np.ndarray, shift: np.ndarray, zero_point: int, acc_bound: np.ndarray) -> bool:
    """Whether the short double-rounding form is exact for every channel.

    Why it is: with M in [0, 2^31), |h| = |SRDHM(acc, M)| <= |acc| + 1; the nudged value
    h + 2^(r-1) + zp*2^r - 1 must stay inside int32, and r >= 1 (r = 0 rounds nothing, where
    the -1 for negative h would be wrong).  `acc_bound[c]` bounds |acc| of channel c.
    """
    right = -np.asarray(shift, np.int64).reshape(-1)
    if right.size == 0 or np.any(right < 1) or np.any(right > 31):
        return False
    bound, right = np.broadcast_arrays(np.asarray(acc_bound, np.int64).reshape(-1), right)  # per-tensor shift
    worst = bound + 2 + (1 << (right - 1)) + abs(int(zero_point)) * (1 << right)
    return bool(np.all(worst < (1 << 31)) and np.all(np.asarray(multiplier, np.int64) < (1 << 31)))


def fast_single(multiplier: np.ndarray, shift: np.ndarray, zero_point: int, acc_bound: np.ndarray) -> bool:
    """Whether per-channel single rounding `(acc*M + 2^(T-1)) >> T` can run as
    `(mulh(acc, M) + 2^(t-1) + zp*2^t) >> t`, t = T - 32: exact for T >= 33 (the low word
    adds less than one unit before the floor), and |mulh| <= |acc|/2 + 1 keeps it in int32."""
    t = 31 - np.asarray(shift, np.int64).reshape(-1) - 32
    if t.size == 0 or np.any(t < 1) or np.any(t > 30):
        return False
    bound, t = np.broadcast_arrays(np.asarray(acc_bound, np.int64).reshape(-1), t)  # per-tensor shift
    worst = bound // 2 + 2 + (1 << (t - 1)) + abs(int(zero_point)) * (1 << t)
    return bool(np.all(worst < (1 << 31)))


def fast_single_tables(multiplier: np.ndarray, shift: np.ndarray, zero_point: int,
                       channels: int) -> tuple[np.ndarray, np.ndarray]:
    """fast_single's per-channel tables: M, then [t] + [2^(t-1) + zp*2^t]."""
    m = np.broadcast_to(np.asarray(multiplier, np.int64).reshape(-1), (channels,))
    t = np.broadcast_to(31 - np.asarray(shift, np.int64).reshape(-1) - 32, (channels,))
    nudge = (1 << (t - 1)) + int(zero_point) * (1 << t)
    return np.ascontiguousarray(m.astype(np.int32)), np.concatenate([t, nudge]).astype(np.int32)


def fast_requant_tables(multiplier: np.ndarray, shift: np.ndarray, zero_point: int,
                        channels: int) -> tuple[np.ndarray, np.ndarray]:
    """The fast form's per-channel tables: 2M (as int32 bits), then [r] + [2^(r-1) + zp*2^r]."""
    m = np.broadcast_to(np.asarray(multiplier, np.int64).reshape(-1), (channels,))
    r = np.broadcast_to(-np.asarray(shift, np.int64).reshape(-1), (channels,))
    m2 = (2 * m).astype(np.uint32).view(np.int32)
    nudge = (1 << (r - 1)) + int(zero_point) * (1 << r)
    return np.ascontiguousarray(m2), np.concatenate([r, nudge]).astype(np.int32)


def _rq_lines(spec: RequantSpec, acc: str, out: str, m: str, s: str, indent: str,
              store: "Callable[[str, str], str] | None" = None, nudge: str | None = None) -> list[str]:
    """C statements computing int8 `out` from int32 `acc` (per-channel m, s expressions).

    `store(out, value)` returns the statement that stores the int8 `value` (default: assign).
    `nudge`: the fast form's per-channel 2^(r-1) + zp*2^r (then `m` is 2M and `s` is r).
    """
    if store is not None:
        lines = _rq_lines(spec, acc, "const int8_t q_", m, s, indent, nudge=nudge)
        lines[-1] = lines[-1][:-1] + store(out, "q_") + " }"
        return lines
    if spec.fast:
        assert nudge is not None, "the fast requantization needs its nudge table"
        if spec.single:
            return [f"{indent}{{ int32_t h_ = (mlml_mulh({acc}, {m}) + ({nudge})) >> ({s});",
                    f"{indent}  {out} = mlml_clamp8(h_, {spec.lo}, {spec.hi}); }}"]
        return [f"{indent}{{ int32_t h_ = mlml_srdhm2({acc}, (uint32_t)({m}));",
                f"{indent}  h_ = (h_ + ({nudge}) + (h_ >> 31)) >> ({s});",
                f"{indent}  {out} = mlml_clamp8(h_, {spec.lo}, {spec.hi}); }}"]
    if spec.single:
        total = spec.single_total
        if total >= 32:
            # (p + 2^(T-1)) >> T only needs the high word of p = acc*M when T >= 32 (exact:
            # the low word adds less than one unit before the floor, or its carry for T = 32).
            rounding = f"(1 << {total - 33})" if total >= 33 else f"(int32_t)(((uint32_t){acc} * (uint32_t){m}) >> 31)"
            return [f"{indent}{{ (void)({s}); int32_t v_ = (int32_t)(((int64_t){acc} * {m}) >> 32);",
                    f"{indent}  v_ = ((v_ + {rounding}) >> {total - 32}) + {spec.zero_point};",
                    f"{indent}  {out} = mlml_clamp8(v_, {spec.lo}, {spec.hi}); }}"]
        return [f"{indent}{{ (void)({s}); int64_t v_ = ((int64_t){acc} * {m} + (1ll << {total - 1})) >> {total};",
                f"{indent}  v_ += {spec.zero_point};",
                f"{indent}  {out} = (int8_t)(v_ < {spec.lo} ? {spec.lo} : (v_ > {spec.hi} ? {spec.hi} : v_)); }}"]
    lines = [f"{indent}{{ int32_t s_ = {s};"]
    if spec.has_left:
        lines += [f"{indent}  int32_t l_ = s_ > 0 ? s_ : 0, r_ = s_ > 0 ? 0 : -s_;",
                  f"{indent}  int32_t h_ = mlml_srdhm((int32_t)((uint32_t){acc} << l_), {m});"]
    else:
        lines += [f"{indent}  int32_t r_ = -s_;",
                  f"{indent}  int32_t h_ = mlml_srdhm({acc}, {m});"]
    lines += [f"{indent}  h_ = mlml_rdpot(h_, (int32_t)((1u << r_) - 1u), r_) + {spec.zero_point};",
              f"{indent}  {out} = mlml_clamp8(h_, {spec.lo}, {spec.hi}); }}"]
    return lines


def _nudge(spec: RequantSpec, expr: str) -> str | None:
    """The nudge table entry in the fast form (the shift table's second half), else None."""
    return expr if spec.fast else None


def _name(kind: str, key: tuple) -> str:
    return f"mlml_cpu_{kind}_{hashlib.sha256(repr(key).encode()).hexdigest()[:10]}"


@dataclass(frozen=True)
class ConvGeo:
    h: int
    w: int
    c: int
    oh: int
    ow: int
    oc: int
    kh: int
    kw: int
    sh: int
    sw: int
    pt: int
    pl: int
    pad_value: int


SIGNATURE = ("(const int8_t* restrict x, const int8_t* restrict w, const int32_t* restrict bias, "
             "const int32_t* restrict mult, const int32_t* restrict shift, int8_t* restrict y)")


def pack_conv_weights(w_ohwi: np.ndarray) -> np.ndarray:
    """OHWI -> [OC/4][K][4] for the full blocks, then the leftover channels' rows [K]."""
    oc = w_ohwi.shape[0]
    flat = w_ohwi.reshape(oc, -1)
    full = oc - oc % OCB
    blocks = flat[:full].reshape(full // OCB, OCB, flat.shape[1]).transpose(0, 2, 1).reshape(-1)
    return np.ascontiguousarray(np.concatenate([blocks, flat[full:].reshape(-1)])).astype(np.int8)


def _copy_lines(g: ConvGeo, indent: str) -> list[str]:
    """im2col of one receptive field into `d` (taps outside the input hold pad_value); the
    lines sit in the loop over the group's pixels (a field inside the input `continue`s it)."""
    words = g.c % 4 == 0
    if words:
        copy = [f"{indent}      const uint32_t* s = (const uint32_t*)(x + (iy * {g.w} + ix) * {g.c});",
                f"{indent}      for (int32_t j = 0; j < {g.c // 4}; ++j) ((uint32_t*)d)[j] = s[j];"]
        fill = (g.pad_value & 0xFF) * 0x01010101
        pad = [f"{indent}      for (int32_t j = 0; j < {g.c // 4}; ++j) ((uint32_t*)d)[j] = {fill}u;"]
    else:
        copy = [f"{indent}      const int8_t* s = x + (iy * {g.w} + ix) * {g.c};",
                f"{indent}      for (int32_t j = 0; j < {g.c}; ++j) d[j] = s[j];"]
        pad = [f"{indent}      for (int32_t j = 0; j < {g.c}; ++j) d[j] = {g.pad_value};"]
    row = g.kw * g.c  # a receptive field's row: consecutive input bytes
    if words:
        row_copy = [f"{indent}    for (int32_t j = 0; j < {row // 4}; ++j) "
                    "((uint32_t*)d)[j] = ((const uint32_t*)s)[j];"]
    else:
        row_copy = [f"{indent}    for (int32_t j = 0; j < {row}; ++j) d[j] = s[j];"]
    # a field inside the input (most of them): its rows copied whole, without bounds tests
    inside = [f"{indent}const int32_t iy0 = oy * {g.sh} - {g.pt}, ix0 = ox * {g.sw} - {g.pl};",
              f"{indent}if (iy0 >= 0 && iy0 <= {g.h - g.kh} && ix0 >= 0 && ix0 <= {g.w - g.kw}) {{",
              f"{indent}  const int8_t* s = x + (iy0 * {g.w} + ix0) * {g.c};",
              f"{indent}  for (int32_t ky = 0; ky < {g.kh}; ++ky, s += {g.w * g.c}, d += {row}) {{",
              *row_copy,
              f"{indent}  }}",
              f"{indent}  continue;",
              f"{indent}}}"]
    if not words and row < 8:
        inside = []  # rows of a few bytes (a 1-channel input): too little saved for the ROM it takes
    if g.h < g.kh or g.w < g.kw:
        inside = []  # no field lies inside the input (e.g. a 3x3 conv over a 1-pixel map): no fast path
    return inside + [f"{indent}for (int32_t ky = 0; ky < {g.kh}; ++ky) {{",
            f"{indent}  const int32_t iy = oy * {g.sh} - {g.pt} + ky;",
            f"{indent}  for (int32_t kx = 0; kx < {g.kw}; ++kx) {{",
            f"{indent}    const int32_t ix = ox * {g.sw} - {g.pl} + kx;",
            f"{indent}    if (iy >= 0 && iy < {g.h} && ix >= 0 && ix < {g.w}) {{",
            *copy,
            f"{indent}    }} else {{",
            *pad,
            f"{indent}    }}",
            f"{indent}    d += {g.c};",
            f"{indent}  }}",
            f"{indent}}}"]


@dataclass(frozen=True)
class Residual:
    """A TFLite ADD fused after a conv: out = ADD(conv result, r), r read where out is written.

    `conv` / `other`: (zero point, multiplier, shift) of the ADD's input taken from the conv
    and of the residual input; `left_shift`, `output`, `zero_point`, `lo`, `hi` as in AddSpec.
    """

    conv: tuple[int, int, int]
    other: tuple[int, int, int]
    left_shift: int
    output: tuple[int, int]
    zero_point: int
    lo: int
    hi: int

    def expr(self, conv_value: str, other_value: str) -> str:
        zc, mc, sc = self.conv
        zr, mr, sr = self.other
        out = _add_exprs(conv_value, other_value, (zc, zr), self.left_shift, ((mc, sc), (mr, sr)), self.output,
                         self.zero_point)
        return f"mlml_clamp8({out}, {self.lo}, {self.hi})"


RESIDUAL_SIGNATURE = ("(const int8_t* restrict x, const int8_t* restrict w, const int32_t* restrict bias, "
                      "const int32_t* restrict mult, const int32_t* restrict shift, const int8_t* r, int8_t* y)")


def _conv_group(g: ConvGeo, rq: RequantSpec, res: "Residual | None", pw: int, stride: int) -> list[str]:
    """The body for `pw` output pixels from `p0` (their input columns at `a`, `stride` bytes
    apart): every output channel, OCB at a time, then the leftover channels one at a time."""
    k = g.kh * g.kw * g.c
    full = g.oc - g.oc % OCB
    k4 = k - k % 4
    L = ["    const int8_t* wb = w;",
         f"    int8_t* yp = y + p0 * {g.oc};"]  # pixel i, channel c at yp[i * oc + c]: one pointer
    if res:
        # y overwrites r in place: each pixel is computed once, its r read before y is written
        L.append("    const int8_t* rp = r + (yp - y);")

    def store(other: str):
        return (lambda out, value: f"{out} = {res.expr(value, other)};") if res else None
    acc = [[f"s{i}{j}" for j in range(OCB)] for i in range(pw)]
    if full:
        L += [f"    for (int32_t o = 0; o < {full}; o += {OCB}) {{"]
        L += [f"      int32_t {acc[0][j]} = bias[o + {j}];" for j in range(OCB)]
        L += [f"      int32_t " + ", ".join(f"{acc[i][j]} = {acc[0][j]}" for j in range(OCB)) + ";"
              for i in range(1, pw)]
        L += ["      const int8_t* xa = a;"]

        def step(u: int, wofs: str) -> list[str]:
            lines = ["        { " + " ".join(f"const int32_t p{i} = xa[{i * stride} + {u}];" for i in range(pw))]
            for j in range(OCB):
                lines.append(f"          {{ const int32_t q = wb[{wofs}{j}]; "
                             + " ".join(f"{acc[i][j]} += p{i} * q;" for i in range(pw)) + " }")
            lines.append("        }")
            return lines

        if k4:
            L += [f"      for (int32_t kk = 0; kk < {k4}; kk += 4) {{"]
            for u in range(4):
                L += step(u, f"{4 * u} + ")
            L += ["        xa += 4; wb += 16;", "      }"]
        if k % 4:
            L += [f"      for (int32_t kk = 0; kk < {k % 4}; ++kk) {{"]
            L += step(0, "")
            L += ["        xa += 1; wb += 4;", "      }"]
        L += ["      const int32_t* mo = mult + o; const int32_t* so = shift + o;",
              "      int8_t* yo = yp + o;"]
        if res:
            L += ["      const int8_t* ro = rp + o;"]
        for j in range(OCB):
            for i in range(pw):
                at = f"[{i * g.oc + j}]"
                L += _rq_lines(rq, acc[i][j], f"yo{at}", f"mo[{j}]", f"so[{j}]", "      ", store(f"ro{at}"),
                               _nudge(rq, f"so[{j} + {g.oc}]"))
        L.append("    }")
    if g.oc % OCB:
        L += [f"    for (int32_t o = {full}; o < {g.oc}; ++o) {{",
              "      int32_t " + ", ".join(f"t{i} = bias[o]" for i in range(pw)) + ";",
              f"      for (int32_t kk = 0; kk < {k}; ++kk) {{ const int32_t q = wb[kk]; "
              + " ".join(f"t{i} += a[{i * stride} + kk] * q;" for i in range(pw)) + " }",
              f"      wb += {k};"]
        for i in range(pw):
            at = f"[{i * g.oc} + o]"
            L += _rq_lines(rq, f"t{i}", f"yp{at}", "mult[o]", "shift[o]", "      ", store(f"rp{at}"),
                           _nudge(rq, f"shift[o + {g.oc}]"))
        L.append("    }")
    return L


def conv_kernel(g: ConvGeo, rq: RequantSpec, res: Residual | None = None) -> tuple[str, str]:
    """(symbol, C definition) of a groups=1 conv with fused requantization.

    Pixels are taken PW at a time in row-major order (a group may span two rows), then the
    `pixels % PW` left over as one smaller group (no pixel computed twice: a 3x3 output is
    4 + 4 + 1, not 4 + 4 + 4).  A 1x1 stride-1 conv reads the input in place (PW pixels are
    PW*C consecutive bytes); every other conv copies the receptive fields side by side (im2col).
    """
    name = _name("conv", (g, rq, res))
    k = g.kh * g.kw * g.c
    pixels = g.oh * g.ow
    direct = (g.kh == 1 and g.kw == 1 and g.sh == 1 and g.sw == 1 and g.pt == 0 and g.pl == 0
              and g.h == g.oh and g.w == g.ow)
    stride = g.c if direct else k  # bytes between the pixels' columns
    groups = [(0, pixels - pixels % PW, PW)] if pixels >= PW else []
    if pixels % PW:
        groups.append((pixels - pixels % PW, pixels, pixels % PW))
    L = [f"void {name}{RESIDUAL_SIGNATURE if res else SIGNATURE} {{"]
    if not direct:
        L.append(f"  int8_t col[{min(PW, pixels)} * {k}] __attribute__((aligned(4)));")
    for first, end, pw in groups:
        L.append(f"  for (int32_t p0 = {first}; p0 < {end}; p0 += {pw}) {{")
        if direct:
            L += [f"    const int8_t* a = x + p0 * {g.c};"]
        else:
            L += ["    int8_t* d = col;",
                  f"    for (int32_t q = p0; q < p0 + {pw}; ++q) {{",
                  f"      const int32_t oy = q / {g.ow}, ox = q % {g.ow};",
                  *_copy_lines(g, "      "),
                  "    }",
                  "    const int8_t* a = col;"]
        L += _conv_group(g, rq, res, pw, stride)
        L.append("  }")
    L.append("}")
    return name, "\n".join(L)


def _tap_runs(out: int, stride: int, pad: int, size: int, k: int) -> list[tuple[int, int, int, int]]:
    """Output index runs with the same valid taps: (first, end, tap0, tap1), taps [tap0, tap1)."""
    runs: list[tuple[int, int, int, int]] = []
    for o in range(out):
        i0 = o * stride - pad
        taps = (max(0, -i0), max(max(0, -i0), min(k, size - i0)))
        if runs and runs[-1][1] == o and runs[-1][2:] == taps:
            runs[-1] = (runs[-1][0], o + 1, *taps)
        else:
            runs.append((o, o + 1, *taps))
    return runs


def _dw_pair_lines(g: ConvGeo, rq: RequantSpec, inside: list[tuple[int, int]], ky0: int, kx0: int,
                   ox0: int, ox1: int) -> list[str]:
    """Two neighbouring output pixels per step: the input columns they share (kw - sw of them
    per row) are loaded once, and the pointer bumps and the loop branch are paid once."""
    cols = sorted({kx for _, kx in inside})
    lines = [f"        for (int32_t ox = {ox0}; ox < {ox1}; ox += 2, xp += {2 * g.sw * g.c}, yp += {2 * g.c}) {{",
             "          int32_t a0 = bc, a1 = bc;"]
    for ky in sorted({ky for ky, _ in inside}):
        for j in range(cols[0], cols[-1] + g.sw + 1):
            users = [(0, j)] if j in cols else []
            users += [(1, j - g.sw)] if j - g.sw in cols else []
            if not users:
                continue
            lines.append(f"          {{ const int32_t v = xp[{((ky - ky0) * g.w + j - kx0) * g.c}]; "
                         + " ".join(f"a{o} += v * wt{ky * g.kw + kx};" for o, kx in users) + " }")
    for o in range(2):
        lines += _rq_lines(rq, f"a{o}", f"yp[{o * g.c}]", "m", "sh", "          ", nudge=_nudge(rq, "nd"))
    lines.append("        }")
    return lines


def dwconv_kernel(g: ConvGeo, rq: RequantSpec) -> tuple[str, str]:
    """(symbol, C definition) of a depthwise conv (multiplier 1) with fused requantization.

    Weights stay OHWI ([C][KH][KW][1]); a channel's taps stay in registers.  The output is
    split at compile time into rectangles whose pixels see the same taps inside the input
    (interior, edges, corners): each runs without bounds tests, over its own taps only, from
    a bias that adds `pad_value` times the weights of the taps outside the input.
    """
    name = _name("dw", (g, rq))
    taps = g.kh * g.kw
    rows = _tap_runs(g.oh, g.sh, g.pt, g.h, g.kh)
    cols = _tap_runs(g.ow, g.sw, g.pl, g.w, g.kw)
    L = [f"void {name}{SIGNATURE} {{",
         f"  for (int32_t c = 0; c < {g.c}; ++c) {{",
         f"    const int8_t* wc = w + c * {taps};",
         *(f"    const int32_t wt{t} = wc[{t}];" for t in range(taps)),
         "    const int32_t b = bias[c], m = mult[c], sh = shift[c];",
         *([f"    const int32_t nd = shift[c + {g.c}];"] if rq.fast else []),
         "    const int8_t* xc = x + c;",
         "    int8_t* yc = y + c;"]
    for oy0, oy1, ky0, ky1 in rows:
        for ox0, ox1, kx0, kx1 in cols:
            inside = [(ky, kx) for ky in range(ky0, ky1) for kx in range(kx0, kx1)]
            outside = [t for t in range(taps) if divmod(t, g.kw) not in inside]
            bias = "b" if not outside or g.pad_value == 0 else \
                f"b + {g.pad_value} * ({' + '.join(f'wt{t}' for t in outside)})"
            dot = " + ".join(f"xp[{((ky - ky0) * g.w + kx - kx0) * g.c}] * wt{ky * g.kw + kx}"
                             for ky, kx in inside) or "0"
            pairs = (ox1 - ox0) // 2 if inside and ox1 - ox0 >= 4 else 0
            L += ["    {",
                  f"      const int32_t bc = {bias};",
                  f"      for (int32_t oy = {oy0}; oy < {oy1}; ++oy) {{",
                  f"        const int8_t* xp = xc + ((oy * {g.sh} - {g.pt - ky0}) * {g.w} + "
                  f"{ox0 * g.sw - g.pl + kx0}) * {g.c};",
                  f"        int8_t* yp = yc + (oy * {g.ow} + {ox0}) * {g.c};"]
            if pairs:
                L += _dw_pair_lines(g, rq, inside, ky0, kx0, ox0, ox0 + 2 * pairs)
            if ox1 - ox0 - 2 * pairs:
                L += [f"        for (int32_t ox = {ox0 + 2 * pairs}; ox < {ox1}; ++ox, xp += {g.sw * g.c}, yp += {g.c}) {{",
                      f"          const int32_t acc = bc + {dot};",
                      *_rq_lines(rq, "acc", "*yp", "m", "sh", "          ", nudge=_nudge(rq, "nd")),
                      "        }"]
            L += ["      }",
                  "    }"]
    L += ["  }", "}"]
    return name, "\n".join(L)


def _fc_blocks(n: int) -> list[tuple[int, int]]:
    """(first unit, rows) of each register block: 16 rows while they fit, then 8, then 1."""
    blocks, o = [], 0
    for rows in FC_ROWS:
        while n - o >= rows:
            blocks.append((o, rows))
            o += rows
    return blocks


def pack_fc_weights(w_kn: np.ndarray) -> np.ndarray:
    """[K, N] -> per register block of R units, [K][R] (R = 16, 8 or 1)."""
    k, n = w_kn.shape
    parts = [w_kn[:, o:o + rows].reshape(-1) for o, rows in _fc_blocks(n)]
    return np.ascontiguousarray(np.concatenate(parts)).astype(np.int8)


def fc_kernel(m_rows: int, k: int, n: int, rq: RequantSpec) -> tuple[str, str]:
    """(symbol, C definition) of x[M,K] @ W[K,N] + bias with fused requantization.

    Each weight is used once (batch 1), so a MAC costs at least its weight load, `mul` and
    `add`; R accumulators per pass over x amortise the input load and the loop over R.
    """
    name = _name("fc", (m_rows, k, n, rq))
    L = [f"void {name}{SIGNATURE} {{",
         f"  for (int32_t r = 0; r < {m_rows}; ++r) {{",
         f"    const int8_t* xr = x + r * {k};",
         f"    int8_t* yr = y + r * {n};",
         "    const int8_t* wb = w;"]
    sizes = sorted({rows for _, rows in _fc_blocks(n)}, reverse=True)
    blocks = _fc_blocks(n)
    for R in sizes:
        first = min(o for o, rows in blocks if rows == R)
        last = max(o for o, rows in blocks if rows == R) + R
        unroll = next(u for u in (8, 4, 2, 1) if k % u == 0)
        L += [f"    for (int32_t o = {first}; o < {last}; o += {R}) {{",
              "      " + " ".join(f"int32_t s{j} = bias[o + {j}];" for j in range(R)),
              "      const int8_t* xk = xr;",
              f"      for (int32_t kk = 0; kk < {k}; kk += {unroll}) {{"]
        for u in range(unroll):
            L += [f"        {{ const int32_t p = xk[{u}];",
                  "          " + " ".join(f"s{j} += p * wb[{R * u + j}];" for j in range(R)),
                  "        }"]
        L += [f"        xk += {unroll}; wb += {unroll * R};", "      }"]
        L += ["      int8_t* yo = yr + o;",
              "      const int32_t* mo = mult + " + ("o;" if rq.per_channel else "0;"),
              "      const int32_t* so = shift + " + ("o;" if rq.per_channel else "0;")]
        for j in range(R):
            c = j if rq.per_channel else 0
            L += _rq_lines(rq, f"s{j}", f"yo[{j}]", f"mo[{c}]", f"so[{c}]", "      ", nudge=_nudge(rq, f"so[{j} + {n}]"))
        L.append("    }")
    L += ["  }", "}"]
    return name, "\n".join(L)


REQUANT_SIGNATURE = ("(const int32_t* restrict x, const int32_t* restrict mult, "
                     "const int32_t* restrict shift, int8_t* restrict y)")


def requant_kernel(pixels: int, channels: int, per_channel: bool, rq: RequantSpec) -> tuple[str, str]:
    """(symbol, C definition): int32 [pixels, channels] -> int8, channel outer."""
    name = _name("rq", (pixels, channels, per_channel, rq))
    idx = "c" if per_channel else "0"
    L = [f"void {name}{REQUANT_SIGNATURE} {{",
         f"  for (int32_t c = 0; c < {channels}; ++c) {{",
         f"    const int32_t m = mult[{idx}], sh = shift[{idx}];",
         "    const int32_t* xc = x + c;",
         "    int8_t* yc = y + c;",
         f"    for (int32_t p = 0; p < {pixels}; ++p, xc += {channels}, yc += {channels}) {{",
         "      const int32_t acc = *xc;"]
    L += _rq_lines(rq, "acc", "*yc", "m", "sh", "      ")
    L += ["    }", "  }", "}"]
    return name, "\n".join(L)


def _rescale_c(value: str, multiplier: int, shift: int, bound: int | None = None, zero_point: int = 0,
               tag: str = "") -> str:
    """C expression: MultiplyByQuantizedMultiplier(value, M, shift) + zero_point, constant M and
    shift; the short form (a statement expression, its temporary named h<tag>_) when
    |value| <= bound proves it exact (fast_requant)."""
    if bound is not None and fast_requant(np.array([multiplier]), np.array([shift]), zero_point, np.array([bound])):
        r = -shift
        h = f"h{tag}_"
        nudge = (1 << (r - 1)) + zero_point * (1 << r)
        return (f"({{ const int32_t {h} = mlml_srdhm2({value}, {2 * multiplier}u); "
                f"({h} + {nudge} + ({h} >> 31)) >> {r}; }})")
    left, right = max(shift, 0), max(-shift, 0)
    shifted = f"(int32_t)((uint32_t)({value}) << {left})" if left else value
    high = f"mlml_srdhm({shifted}, {multiplier})"
    out = f"mlml_rdpot({high}, {(1 << right) - 1}, {right})" if right else high
    return f"({out} + {zero_point})" if zero_point else out


def _add_exprs(a: str, b: str, zero_points: tuple[int, int], left_shift: int,
               inputs: tuple[tuple[int, int], tuple[int, int]], output: tuple[int, int], zero_point: int) -> str:
    """TFLite's int8 ADD of int8 C values `a`, `b` up to the output zero point (before the clamp).

    Bounds for the short rescales: |x - zp| <= 255, so a shifted input is at most 255 << ls and
    each rescaled input at most that + 1 (M < 2^31, a right shift)."""
    side = 255 << left_shift
    va = _rescale_c(f"((int32_t){a} - {zero_points[0]}) * {1 << left_shift}", *inputs[0], side, tag="a")
    vb = _rescale_c(f"((int32_t){b} - {zero_points[1]}) * {1 << left_shift}", *inputs[1], side, tag="b")
    rescaled = 2 * side + 2 if inputs[0][1] <= 0 and inputs[1][1] <= 0 else None  # no left shift
    return _rescale_c(f"{va} + {vb}", *output, rescaled, zero_point, tag="o")


@dataclass(frozen=True)
class AddSpec:
    """TFLite int8 ADD constants (reference_integer_ops::Add)."""

    size: int
    zero_points: tuple[int, int]
    left_shift: int
    inputs: tuple[tuple[int, int], tuple[int, int]]
    output: tuple[int, int]
    zero_point: int
    lo: int
    hi: int


ADD_SIGNATURE = "(const int8_t* a, const int8_t* b, int8_t* y)"


def add_kernel(spec: AddSpec) -> tuple[str, str]:
    """(symbol, C definition) of an elementwise int8 ADD; `y` may be `a` or `b` (in place)."""
    name = _name("add", spec)
    out = _add_exprs("a[i]", "b[i]", spec.zero_points, spec.left_shift, spec.inputs, spec.output,
                     spec.zero_point)
    L = [f"void {name}{ADD_SIGNATURE} {{",
         f"  for (int32_t i = 0; i < {spec.size}; ++i) {{",
         f"    const int32_t out = {out};",
         f"    y[i] = mlml_clamp8(out, {spec.lo}, {spec.hi});",
         "  }", "}"]
    return name, "\n".join(L)


@dataclass(frozen=True)
class MulSpec:
    """TFLite int8 MUL (reference_integer_ops::Mul) of `a` [pixels, channels] by `b` [channels]
    (b broadcast over the pixels: squeeze-excite's gate; pixels = 1 when the shapes are equal)."""

    pixels: int
    channels: int
    zero_points: tuple[int, int]
    output: tuple[int, int]
    zero_point: int
    lo: int
    hi: int


MUL_SIGNATURE = ADD_SIGNATURE  # the same operands: two int8 inputs, one int8 output


def mul_kernel(spec: MulSpec) -> tuple[str, str]:
    """(symbol, C definition) of an int8 MUL, channel outer: b's centred value stays in a
    register across the pixels; `y` may be `a` (in place: each element is read, then written).
    |(a - za)(b - zb)| <= 255^2 bounds the product for the short rescale."""
    name = _name("mul", spec)
    za, zb = spec.zero_points
    out = _rescale_c("v", *spec.output, 255 * 255, spec.zero_point)
    C = spec.channels
    L = [f"void {name}{MUL_SIGNATURE} {{",
         f"  for (int32_t c = 0; c < {C}; ++c) {{",
         f"    const int32_t bc = (int32_t)b[c] - {zb};",
         "    const int8_t* ac = a + c;",
         "    int8_t* yc = y + c;",
         f"    for (int32_t p = 0; p < {spec.pixels}; ++p, ac += {C}, yc += {C}) {{",
         f"      const int32_t v = ((int32_t)*ac - {za}) * bc;",
         f"      *yc = mlml_clamp8({out}, {spec.lo}, {spec.hi});",
         "    }", "  }", "}"]
    return name, "\n".join(L)
