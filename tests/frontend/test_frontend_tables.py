"""The compile-time lookup tables of the int8 unary ops equal ai-edge-litert's BUILTIN_REF
kernels on all 256 inputs, for several input ranges (saturating and not)."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from mlonmcu_lite.frontend import tables
from mlonmcu_lite.zoo.reference import reference_outputs
from mlonmcu_lite.zoo.tflite_info import read_tflite
from mlonmcu_lite.workspace import default_workspace

sys.path.insert(0, str(default_workspace().models_dir))
from tflgen.graph import Graph  # noqa: E402
from tflgen.pipeline import generate  # noqa: E402
from tflgen.spec import ModelSpec  # noqa: E402

TABLES = {
    "LOGISTIC": lambda q, attrs: tables.logistic_table(*q),
    "TANH": lambda q, attrs: tables.tanh_table(*q),
    "HARD_SWISH": lambda q, attrs: tables.hard_swish_table(*q),
    "LEAKY_RELU": lambda q, attrs: tables.leaky_relu_table(*q, attrs["alpha"]),
}
CASES = [("LOGISTIC", {}), ("TANH", {}), ("HARD_SWISH", {}), ("LEAKY_RELU", {"alpha": 0.2}),
         ("LEAKY_RELU", {"alpha": -0.7}), ("LEAKY_RELU", {"alpha": 1.6})]


def _model(tmp_path, op: str, attrs: dict, gain: float):
    def build() -> Graph:
        g = Graph("unary", seed=7)
        g.output(g.unary(op, g.input("input", (1, 256)), "out", **attrs))
        return g

    path = tmp_path / f"{op}_{gain}.tflite"
    path.write_bytes(generate(ModelSpec("unary", "", build, seed=3, input_gains=(gain,))).tflite)
    return path


@pytest.mark.parametrize("op,attrs", CASES)
@pytest.mark.parametrize("gain", [0.3, 2.0, 9.0])
def test_table_equals_reference_kernel(op, attrs, gain, tmp_path):
    path = _model(tmp_path, op, attrs, gain)
    info = read_tflite(path)
    x, y = info.inputs[0], info.outputs[0]
    table = TABLES[op]((x.scale, x.zero_point, y.scale, y.zero_point), attrs)
    inputs = np.arange(-128, 128, dtype=np.int8).reshape(1, 256)
    (want,) = reference_outputs(path, [inputs])
    np.testing.assert_array_equal(table, want.reshape(-1))
    assert len(np.unique(want)) > 8  # the table is not trivially constant


def test_int16_sigmoid_knots_are_the_reference_kernels(tmp_path):
    """Re-measure the 256 knots from BUILTIN_REF's int16 TANH: at an input landing exactly on
    knot k (no fraction) the output is knot − 32768; the last knot from a near-full fraction."""
    import flatbuffers
    from ai_edge_litert import schema_py_generated as S

    from tflgen.dtype_models import DTYPE_OPS

    scale = float(np.float32(1.0 / 6144.0))  # not a power of two: the general multiplier path
    model = S.ModelT.InitFromPackedBuf(generate(DTYPE_OPS["tanh_i16"]).tflite, 0)
    sub = model.subgraphs[0]
    sub.tensors[sub.inputs[0]].quantization.scale = [scale]
    sub.tensors[sub.inputs[0]].shape = sub.tensors[sub.outputs[0]].shape = [1, 256]
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    path = tmp_path / "tanh_probe.tflite"
    path.write_bytes(bytes(builder.Output()))

    multiplier, shift = tables.int16_sigmoid_params(scale, tanh=True)
    xs = np.arange(-32768, 32768, dtype=np.int64)
    scaled = (xs * multiplier + ((1 << shift) >> 1)) >> shift
    targets = [256 * k for k in range(255)] + [256 * 254 + 254]
    probe = np.array([xs[np.nonzero(scaled == t)[0][0]] for t in targets], np.int16).reshape(1, 256)
    (out,) = reference_outputs(path, [probe])
    out = out.astype(np.int64).reshape(-1)
    knots = out[:255] + 32768
    last = knots[254] + out[255] - out[254]  # fraction 254/256 of a step of at most 64
    np.testing.assert_array_equal(np.append(knots, last), tables.SIGMOID_KNOTS_UINT16)


@pytest.mark.parametrize("dtype", ["int8", "uint8"])
def test_hard_swish_imports_as_one_table_lookup(dtype, tmp_path):
    """8-bit HARD_SWISH is one `take` from its compile-time table (unary.py), not TVM's float
    x·relu6(x + 3)/6 between dequantize and quantize."""
    from tvm import relax

    from mlonmcu_lite.frontend import import_tflite
    from tests.helpers.variants import variant

    path = default_workspace().models_dir / "ops" / "hard_swish.tflite"
    model = import_tflite(path if dtype == "int8" else variant(path, dtype, tmp_path))
    ops: list[str] = []
    relax.analysis.post_order_visit(
        model.mod["main"], lambda e: ops.append(e.op.name) if isinstance(e, relax.Call) and hasattr(e.op, "name") else None)
    assert ops.count("relax.take") == 1 and "float" not in model.mod.script()
    if dtype == "int8":  # (uint8 adds only normalize.py's integer shifts of the graph's input and output)
        assert ops == ["relax.take"]
