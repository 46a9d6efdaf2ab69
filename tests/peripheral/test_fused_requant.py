"""Fused requantization: the region's requant tail is read back from the frontend's chain,
the devices compute TFLite's rescale exactly (against gemmlowp's integer definitions), and
whole models stay bit-exact on both ISAs with the conv and dense engines writing int8."""

from __future__ import annotations

import numpy as np
import pytest
from tvm import relax

from mlonmcu_lite.compiler.region_kinds import requant_of
from mlonmcu_lite.frontend.fixedpoint import Multipliers
from mlonmcu_lite.frontend.requant import Rounding, requantize as frontend_requantize
from mlonmcu_lite.peripheral.requant import RequantJob, requantize
from tests.helpers.e2e import run_one


def _trunc_div(n: int, d: int) -> int:
    q = abs(n) // d
    return q if n >= 0 else -q


def _srdhm(a: int, b: int) -> int:  # gemmlowp SaturatingRoundingDoublingHighMul (int32)
    if a == b == -(1 << 31):
        return (1 << 31) - 1
    ab = a * b
    return _trunc_div(ab + ((1 << 30) if ab >= 0 else 1 - (1 << 30)), 1 << 31)


def _rdbpot(x: int, exponent: int) -> int:  # gemmlowp RoundingDivideByPOT
    mask = (1 << exponent) - 1
    threshold = (mask >> 1) + (1 if x < 0 else 0)
    return (x >> exponent) + (1 if (x & mask) > threshold else 0)


def _tflite(x: int, mult: int, shift: int, single: bool) -> int:
    if single:
        total = 31 - shift
        return (x * mult + (1 << (total - 1))) >> total
    return _rdbpot(_srdhm(x * (1 << max(shift, 0)), mult), max(-shift, 0))


@pytest.mark.parametrize("single", [False, True])
def test_device_rescale_is_tflites(single):
    rng = np.random.default_rng(7)
    channels = 16
    mult = rng.integers(1 << 30, 1 << 31, channels)
    shift = rng.integers(-14, 1 if single else 3, channels)
    acc = rng.integers(-(1 << 20), 1 << 20, (40, channels))
    acc[0] = [(1 << 31) - 1 if s <= 0 else 1 << 20 for s in shift]  # extremes where no left shift
    acc[1] = [-(1 << 31) if s <= 0 else -(1 << 20) for s in shift]
    acc[2] = 0
    job = RequantJob(1, int(single), -5, -128, 100)
    got = requantize(acc.astype(np.int32), mult.astype(np.int32), shift.astype(np.int32), job)
    for (r, c), x in np.ndenumerate(acc):
        want = min(max(_tflite(int(x), int(mult[c]), int(shift[c]), single) - 5, -128), 100)
        assert got[r, c] == want, (x, mult[c], shift[c])


@pytest.mark.parametrize("rounding, mult, shift", [
    (Rounding.DOUBLE, (1518500250, 1932735283, 1073741824), (-7, 1, 0)),  # right and left shifts
    (Rounding.DOUBLE, (1395864371,), (-9,)),
    (Rounding.SINGLE, (1932735283,), (-9,)),
])
def test_requant_tail_read_back_from_the_frontends_chain(rounding, mult, shift):
    acc = relax.Var("acc", relax.TensorType((1, 4, 3), "int32"))
    bb = relax.BlockBuilder()
    with bb.function("main", [acc]):
        with bb.dataflow():
            out = bb.emit_output(frontend_requantize(acc, Multipliers(mult, shift), -3, (-128, 90), rounding))
        bb.emit_func_output(out)
    func = bb.get()["main"]
    var2val = relax.analysis.get_var2val(func)
    users = relax.analysis.udchain(func.body.blocks[0])
    uses = lambda var: len(users.get(var, []))  # noqa: E731
    root = func.body.blocks[0].bindings[-1].var
    rq = requant_of(root, acc, var2val, uses)
    assert rq is not None
    assert rq.per_channel(3) == ((mult * 3)[:3] if len(mult) == 1 else mult, (shift * 3)[:3] if len(shift) == 1 else shift)
    assert (rq.zero_point, rq.lo, rq.hi, rq.rounding) == (-3, -128, 90, rounding.value)
    other = relax.Var("other", relax.TensorType((1, 4, 3), "int32"))
    assert requant_of(root, other, var2val, uses) is None  # the tail must requantize exactly `acc`


# fused_requant is the engines' default; an explicit peripheral must take a layer
@pytest.mark.parametrize("arch", ["rv32imc", "rv32gc"])
@pytest.mark.parametrize("model, peripherals, offloaded", [
    ("conv_relu6", ("qvanilla",), 1), ("dwconv_s2_same_relu6", ("qdepthwise",), 1), ("fc_relu", ("qdense",), 1),
    ("chain_conv_avgpool_fc_softmax", ("qvanilla", "qdense"), 2), ("chain_dw_pw", ("qvanilla", "qdepthwise"), 2)])
def test_fused_engines_bit_exact(model, peripherals, offloaded, arch, tmp_path):
    row = run_one(model, tmp_path, arch=arch, peripherals=peripherals, check_peripherals=True)
    assert row["validation"] == "exact" and row["validated_samples"] >= 1, row["reason"]
    assert row["layers_offloaded"] == row["acc_jobs"] == offloaded


def test_fused_requant_drops_the_int32_results_from_ram(tmp_path):
    fused = run_one("conv_s1_same", tmp_path / "f", peripherals=("qvanilla",))
    plain = run_one("conv_s1_same", tmp_path / "p", peripherals=("qvanilla:fused_requant=false",))
    cpu = run_one("conv_s1_same", tmp_path / "c")
    for row in (fused, plain, cpu):
        assert row["validation"] == "exact", row["reason"]
    assert fused["ram_bytes"] <= cpu["ram_bytes"] < plain["ram_bytes"]
    assert fused["run_instructions"] < plain["run_instructions"]  # no CPU requantization left
