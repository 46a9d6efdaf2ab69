"""The generator: byte-for-byte reproducible, TFLite quantization conventions,
and quantized models that track their float graphs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mlonmcu_lite.zoo.tflite_info import INDEX_OPS, read_tflite
from mlonmcu_lite.workspace import default_workspace
from mlonmcu_lite.zoo import list_models, resolve_model

MODELS_DIR = default_workspace().models_dir

sys.path.insert(0, str(MODELS_DIR))
from tflgen import floatops  # noqa: E402
from tflgen.calibrate import calibrate  # noqa: E402
from tflgen.op_models import OPS  # noqa: E402

GENERATED = ("tflite", "json", "samples.npz")


def test_generator_reproduces_committed_files(tmp_path):
    subprocess.run([sys.executable, str(MODELS_DIR / "generate.py"), "--out", str(tmp_path), "--no-goldens"],
                   check=True, capture_output=True, timeout=300)
    for family in ("zoo", "ops"):
        committed = sorted(p.name for p in (MODELS_DIR / family).iterdir() if not p.name.endswith(".golden.npz"))
        fresh = sorted(p.name for p in (tmp_path / family).iterdir())
        assert fresh == committed
        for name in fresh:
            assert (tmp_path / family / name).read_bytes() == (MODELS_DIR / family / name).read_bytes(), name


ALL = [(f, n) for f in ("zoo", "ops") for n in list_models(f)]


# Per scheme: activation dtype, weight dtype, bias dtype, softmax output (scale, zero point),
# per-channel conv weights, zero point of a RELU output.
SCHEMES = {
    "int8": ("int8", "int8", "int32", (1 / 256, -128), True, -128),
    "uint8": ("uint8", "uint8", "int32", (1 / 256, 0), False, 0),
    "int16": ("int16", "int8", "int64", (1 / 32768, 0), True, 0),
}


def _plain(t) -> bool:
    return t.dtype != "float32" and t.scales == ()  # raw integers: masks, ids, shapes, a CAST's int8


def _scheme(info) -> str:
    def wrapper(op) -> bool:  # QUANTIZE/DEQUANTIZE at the I/O, not an int -> int requantize; ARG_MAX's indices
        return (op.op in ("QUANTIZE", "DEQUANTIZE") and info.tensors[op.inputs[0]].dtype
                != info.tensors[op.outputs[0]].dtype) or op.op in INDEX_OPS or _plain(info.tensors[op.outputs[0]])

    dtypes = {info.tensors[op.outputs[0]].dtype for op in info.ops if not wrapper(op)} or {info.inputs[0].dtype}
    assert len(dtypes) == 1, dtypes
    return dtypes.pop()


@pytest.mark.parametrize("family,name", ALL)
def test_quantization_conventions(family, name):
    info = read_tflite(MODELS_DIR / family / f"{name}.tflite")
    t = info.tensors
    act, weight, bias, softmax_q, per_channel_conv, relu_zp = SCHEMES[_scheme(info)]
    for op in info.ops:
        out = t[op.outputs[0]]
        if op.op == "QUANTIZE" and t[op.inputs[0]].dtype != act:  # I/O wrappers (not a requantize)
            assert t[op.inputs[0]].dtype in ("float32", "uint8") and out.dtype == act
            continue
        if op.op == "DEQUANTIZE":
            assert t[op.inputs[0]].dtype == act and out.dtype == "float32"
            continue
        if op.op in INDEX_OPS:  # int32 indices of quantized data, no quantization
            assert t[op.inputs[0]].dtype == act and out.dtype == "int32" and out.scales == ()
            continue
        if _plain(out):  # a mask, ids or a shape (qlogic's models): unquantized
            continue
        assert out.dtype == act and len(out.scales) == 1
        if act == "int16":
            assert out.zero_points == (0,)  # 16x8: symmetric activations
        if op.op in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"):
            x, w, b = (t[i] for i in op.inputs)
            channels = w.shape[0] if op.op != "DEPTHWISE_CONV_2D" else w.shape[3]
            # FC weights per tensor, except the models of TF >= 2.15's per-channel Dense
            per_channel = per_channel_conv and (op.op != "FULLY_CONNECTED" or name.startswith("fc_per_channel"))
            assert w.dtype == weight and (weight == "uint8" or set(w.zero_points) == {0})
            assert len(w.scales) == (channels if per_channel else 1)
            assert w.quantized_dimension == (3 if op.op == "DEPTHWISE_CONV_2D" and per_channel else 0)
            assert b.dtype == bias and set(b.zero_points) == {0} and len(b.scales) == len(w.scales)
            np.testing.assert_allclose(b.scales, np.float32(x.scales[0] * np.array(w.scales)), rtol=1e-6)
        if op.op == "SOFTMAX":
            assert (out.scales[0], out.zero_points[0]) == softmax_q
        if op.op in ("AVERAGE_POOL_2D", "MAX_POOL_2D", "RESHAPE"):
            src = t[op.inputs[0]]
            assert (out.scales, out.zero_points) == (src.scales, src.zero_points)
        if op.options.get("fusedActivationFunction") in ("RELU", "RELU6"):
            assert out.zero_points == (relu_zp,)


@pytest.mark.parametrize("name", list_models("zoo"))
def test_zoo_activations_are_not_degenerate(name):
    """Every intermediate activation of the BUILTIN_REF run spans many int8 levels."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    info = resolve_model(name)
    interp = Interpreter(model_path=str(info.path), experimental_op_resolver_type=OpResolverType.BUILTIN_REF,
                         experimental_preserve_all_tensors=True)
    interp.allocate_tensors()
    interp.set_tensor(interp.get_input_details()[0]["index"], info.samples[0][0])
    interp.invoke()
    meta = read_tflite(info.path)
    for op in meta.ops:
        if op.op in ("RESHAPE", "SOFTMAX") or op.outputs[0] in [d["index"] for d in interp.get_output_details()]:
            continue
        q = interp.get_tensor(op.outputs[0])
        levels = len(np.unique(q))
        saturated = np.mean(q == 127)
        assert levels >= min(16, q.size // 2), (op.index, op.op, levels)
        assert saturated < 0.05, (op.index, op.op, saturated)
    out = [np.stack([g[0] for g in info.goldens])]
    assert len(np.unique(out[0])) > 2


def _clip(x: np.ndarray, scale: float, zp: int, dtype: str = "int8") -> np.ndarray:
    lo, hi = np.iinfo(dtype).min, np.iinfo(dtype).max
    return np.clip(x, (lo - zp) * scale, (hi - zp) * scale)


@pytest.mark.parametrize("name", list(OPS))
def test_op_model_tracks_its_float_graph(name):
    """The int8 golden, dequantized, matches the float graph within a few LSB:
    checks weight/bias/activation quantization as written in the file."""
    spec, info = OPS[name], resolve_model(name)
    graph = spec.build()
    calibrate(graph, spec.batch(graph, spec.calibration_size, spec.seed), spec.seed)
    env = {}
    for i, t in enumerate(info.inputs):
        q = np.stack([s[i] for s in info.samples]).reshape((-1,) + t.shape[1:])
        env[graph.inputs[i]] = (q.astype(np.float64) - t.zero_point) * t.scale
    for node in graph.nodes:
        env.update(floatops.bind(node, floatops.run_node(graph, node, env)))
    t = info.outputs[0]
    gold = np.stack([g[0] for g in info.goldens]).reshape((-1,) + t.shape[1:])
    deq = (gold.astype(np.float64) - t.zero_point) * t.scale
    err = np.abs(deq - _clip(env[graph.outputs[0]], t.scale, t.zero_point, t.dtype)).max() / t.scale
    lsb = 256 if t.dtype == "int16" else 1  # int16 variants: held to the same real accuracy as int8
    assert err <= (8.0 if len(graph.nodes) > 2 else 2.5) * lsb, err
