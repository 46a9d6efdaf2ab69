"""Float32-input QUANTIZE by threshold search (frontend/float_quantize.py): exact for every float.

Exhaustive over 2^32 floats is too slow; the result is a step function of the float's key, so
the keys that decide it are every threshold ±1, the ends of the defined range, the specials
(NaN, ±inf, ±0, overflow) and random keys in between.
"""

from __future__ import annotations

import numpy as np
import pytest
from ai_edge_litert.interpreter import Interpreter, OpResolverType

from mlonmcu_lite.frontend.float_quantize import INT32_MAX, INT32_MIN, QuantizeTable, floats_of, keys_of, \
    reference_quantize
from mlonmcu_lite.workspace import default_workspace
from mlonmcu_lite.zoo import resolve_model
from tests.helpers.e2e import run_one

OPS_DIR = default_workspace().ops_dir
SPECIALS = np.array([np.nan, -np.nan, np.inf, -np.inf, 0.0, -0.0, 1e30, -1e30, 3e9, -3e9,
                     np.finfo(np.float32).tiny, -np.finfo(np.float32).tiny, 1e-45, -1e-45], np.float32)


def _deciding_keys(table: QuantizeTable, rng, n_random: int) -> np.ndarray:
    t = table.thresholds[1:].astype(np.int64)
    keys = np.concatenate([t - 1, t, t + 1, [table.lo - 1, table.lo, table.hi - 1, table.hi, INT32_MIN, INT32_MAX],
                           rng.integers(INT32_MIN, INT32_MAX, n_random, endpoint=True), keys_of(SPECIALS)])
    return keys[(keys >= INT32_MIN) & (keys <= INT32_MAX)]


@pytest.mark.parametrize("scale, zero_point, dtype", [
    (0.030530039221048355, 0, "int8"), (0.014695842750370502, -2, "int8"), (0.0078125, 5, "int8"),
    (1 / 255, 0, "uint8"), (0.5, 128, "uint8"), (1e-30, 3, "int8"), (1e30, -7, "int8"), (3.4e38, -128, "int8")])
def test_threshold_search_equals_tflites_formula(scale, zero_point, dtype):
    qmin, qmax = int(np.iinfo(dtype).min), int(np.iinfo(dtype).max)
    table = QuantizeTable.build(scale, zero_point, qmin, qmax)
    assert np.all(np.diff(table.thresholds[1:].astype(np.int64)) >= 0)  # the search needs them sorted
    keys = _deciding_keys(table, np.random.default_rng(3), 200_000)
    assert np.array_equal(floats_of(keys).view(np.int32), np.asarray(floats_of(keys), np.float32).view(np.int32))
    expected = reference_quantize(floats_of(keys), scale, zero_point, qmin, qmax)
    assert np.array_equal(table.evaluate(keys), expected)
    assert np.array_equal(table.evaluate(keys, divide=True), expected)  # rv32gc's path
    assert len(np.unique(expected)) > 2  # the keys cross levels, not one saturated end


def test_keys_order_floats():
    x = np.sort(np.random.default_rng(0).normal(0, 1e3, 10_000).astype(np.float32))
    assert np.all(np.diff(keys_of(x).astype(np.int64)) >= 0)
    assert np.array_equal(floats_of(keys_of(x)), x)


@pytest.mark.parametrize("model", ["chain_conv_avgpool_fc_softmax_f32io", "multi_io_f32io"])
def test_formula_matches_builtin_ref_including_nan_inf_and_overflow(model):
    """The x86 reference: NaN, ±inf and |x/scale| ≥ 2^31 give clamp(INT_MIN + zp) (zp < 0 wraps)."""
    it = Interpreter(model_path=str(OPS_DIR / f"{model}.tflite"), experimental_preserve_all_tensors=True,
                     experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    it.allocate_tensors()
    inp = it.get_input_details()[0]
    quantize = next(op for op in it._get_ops_details() if op["op_name"] == "QUANTIZE" and op["inputs"][0] == inp["index"])
    out = it.get_tensor_details()[quantize["outputs"][0]]
    scale, zp = out["quantization"]
    table = QuantizeTable.build(scale, zp, -128, 127)
    x = floats_of(_deciding_keys(table, np.random.default_rng(5), 0))
    size = int(np.prod(inp["shape"]))
    for start in range(0, len(x), size):
        chunk = np.resize(x[start:start + size], size)
        it.set_tensor(inp["index"], chunk.reshape(inp["shape"]))
        it.invoke()
        expected = reference_quantize(chunk, scale, zp, -128, 127)
        assert np.array_equal(it.get_tensor(out["index"]).ravel().astype(np.int64), expected)
    assert reference_quantize(np.float32(np.inf), scale, zp, -128, 127) == (127 if zp < 0 else -128)


@pytest.mark.parametrize("arch", ["rv32imc", "rv32gc"])
def test_target_quantize_is_exact_at_thresholds_and_specials(arch, tmp_path):
    """On the target: thresholds ±1 ulp and the specials, exact vs BUILTIN_REF; ~50 instructions
    per value on rv32imc (search, no soft-float division), fewer on rv32gc (fdiv.s)."""
    model = "multi_io_f32io"
    specs = resolve_model(model).inputs
    rng = np.random.default_rng(11)
    inputs = []
    for spec in specs:
        table = QuantizeTable.build(spec.scale, spec.zero_point, -128, 127)
        x = floats_of(_deciding_keys(table, rng, 0))
        inputs.append(rng.permutation(np.resize(x, int(np.prod(spec.shape)))).reshape(spec.shape).astype(np.float32))
    np.savez(tmp_path / "input.npz", *inputs)
    row = run_one(model, tmp_path, arch=arch, input_path=str(tmp_path / "input.npz"))
    assert not row["failing"], row["reason"]
    assert row["validation"] == "exact"
    values = sum(int(np.prod(s.shape)) for s in specs)
    quantize = [layer["instructions"] for layer in row["layers"] if "_quantize" in layer["kernel"]]
    assert len(quantize) == len(specs) and sum(quantize) < (64 if arch == "rv32imc" else 32) * values
