"""TFLite / gemmlowp fixed point: compile-time helpers and the Relax requantize emitters."""

from __future__ import annotations

import numpy as np
import pytest
import tvm
from tvm import relax

from mlonmcu_lite.frontend import fixedpoint as fp
from mlonmcu_lite.frontend import requant


def test_quantize_multiplier_known_values():
    assert fp.quantize_multiplier(0.5) == (1 << 30, 0)
    assert fp.quantize_multiplier(1.0) == (1 << 30, 1)
    assert fp.quantize_multiplier(0.75) == (3 << 29, 0)
    assert fp.quantize_multiplier(0.0) == (0, 0)
    assert fp.quantize_multiplier(2.0 ** -40) == (0, 0)  # flushed like TFLite (shift < -31)
    # q rounding to 2^31 carries into the exponent
    assert fp.quantize_multiplier(1.0 - 2.0 ** -40) == (1 << 30, 1)
    m, s = fp.quantize_multiplier(0.0123)
    assert abs(m * 2.0 ** (s - 31) - 0.0123) < 1e-11 and (1 << 30) <= m < (1 << 31)


def test_round_half_away_from_zero():
    assert [fp.round_half_away(v) for v in (0.5, 1.5, 2.5, -0.5, -2.5, 2.4)] == [1, 2, 3, -1, -3, 2]


def test_activation_ranges():
    assert fp.activation_range("NONE", 0.1, 3) == (-128, 127)
    assert fp.activation_range("RELU", 0.1, -20) == (-20, 127)
    assert fp.activation_range("RELU6", 0.05, -128) == (-128, -8)
    assert fp.activation_range("RELU6", 0.01, -128) == (-128, 127)


def test_softmax_exp_table_follows_exp():
    scale = 0.0625
    table = fp.softmax_table(scale)
    assert table.exp[0] == fp.INT32_MAX and table.exp_q12[0] == 1 << 19
    values = np.array(table.exp, dtype=np.float64) / 2.0 ** 31
    expected = np.exp(-scale * np.arange(256))
    nonzero = values > 0
    assert np.all(np.diff(values) <= 0)
    assert np.max(np.abs(values[nonzero] - expected[nonzero])) < 1e-6
    assert not nonzero[-1]  # beyond TFLite's diff_min cut-off the exp is exactly 0


def _mbqm_double(x: int, m: int, shift: int) -> int:
    """gemmlowp reference: RoundingDivideByPOT(SRDHM(x · 2^left, m), right)."""
    left, right = max(shift, 0), max(-shift, 0)
    return fp.rounding_divide_by_pot(fp.srdhm(x * (1 << left), m), right)


def _mbqm_single(x: int, m: int, shift: int) -> int:
    return (x * m + (1 << (30 - shift))) >> (31 - shift)


def _relax_rescale(x: np.ndarray, m: fp.Multipliers, rounding: requant.Rounding) -> np.ndarray:
    bb = relax.BlockBuilder()
    var = relax.Var("x", relax.TensorType(x.shape, "int64"))
    with bb.function("main", [var]):
        with bb.dataflow():
            out = bb.emit_output(requant.rescale(var, m, rounding))
        bb.emit_func_output(out)
    vm = relax.VirtualMachine(tvm.compile(bb.get(), target="llvm"), tvm.cpu())
    return vm["main"](tvm.runtime.tensor(x)).numpy()


@pytest.mark.parametrize("rounding,reference", [(requant.Rounding.DOUBLE, _mbqm_double),
                                                (requant.Rounding.SINGLE, _mbqm_single)])
def test_relax_rescale_matches_integer_reference(rounding, reference):
    """The int64 Relax emitters equal TFLite's int32 formulas, ties and extremes included."""
    rng = np.random.default_rng(7)
    reals = [0.75, 0.001234, 3.5, 2.0 ** -20, 0.5, 1.0]
    mult = fp.Multipliers.of(reals)
    rows = [rng.integers(-(1 << 24), 1 << 24, (200, len(reals))),
            np.array([[0] * 6, [1] * 6, [-1] * 6, [(1 << 20)] * 6, [-(1 << 20)] * 6]),
            (rng.integers(-64, 64, (100, len(reals))) << 10) + (1 << 9)]  # many exact ties
    x = np.concatenate(rows).astype(np.int64)
    got = _relax_rescale(x, mult, rounding)
    want = np.array([[reference(int(v), mult.multiplier[c], mult.shift[c]) for c, v in enumerate(row)]
                     for row in x])
    np.testing.assert_array_equal(got, want)


def test_double_and_single_rounding_differ():
    """The two schemes are distinguishable, so the per-op choice is a real decision."""
    m, s = fp.quantize_multiplier(0.3)
    assert any(_mbqm_double(x, m, s) != _mbqm_single(x, m, s) for x in range(-5000, 5000))


def test_srdhm_matches_gemmlowp_definition():
    """gemmlowp: (ab + nudge) / 2^31 truncated toward zero == (ab + 2^30) >> 31 (requant's form)."""
    rng = np.random.default_rng(3)
    pairs = [(5, 7), (-(1 << 31), 1 << 30), (123456789, -987654321), (-3, -(1 << 31) + 1), (-1, 1 << 30)]
    pairs += [(int(a), int(b)) for a, b in rng.integers(-(1 << 31), 1 << 31, (500, 2))]
    for a, b in pairs:
        ab = a * b
        nudge = (1 << 30) if ab >= 0 else 1 - (1 << 30)
        n = ab + nudge
        truncated = abs(n) >> 31 if n >= 0 else -(abs(n) >> 31)
        assert fp.srdhm(a, b) == truncated == (ab + (1 << 30)) >> 31


def test_activation_range_recomputed_at_rounding_ties():
    """6/scale = 0.5 exactly: TVM's importer rounds to even (0), TFLite away from zero (1)."""
    from mlonmcu_lite.frontend.patterns import tflite_activation_range

    importer_clip = (-128, -128)  # max(-128, zp + round(0/12)), min(127, zp + round(6/12))
    assert tflite_activation_range(importer_clip, 12.0, -128) == (-128, -127)
    assert tflite_activation_range((-5, 127), 0.1, -5) == (-5, 127)  # RELU
    assert tflite_activation_range((-5, 55), 0.1, -5) == (-5, 55)  # RELU6: round(60.000000000000007)
