"""Op variants the integer rewrite handles, beyond `tflite_info`'s model-level checks.

`tflite_info.read_tflite` already rejects non-int8 models, unsupported ops, activations
and dilation; this adds what only the frontend knows (e.g. a 4-D FULLY_CONNECTED input,
softmax β ≠ 1, which TVM's importer would silently drop), so that the user reads
"FULLY_CONNECTED with keepNumDims=True in m.tflite is not supported (...)" rather than a
TVM traceback or a wrong result.
"""

from __future__ import annotations

from typing import Callable

from mlonmcu_lite.zoo.tflite_info import OpInfo, TFLiteInfo

from .errors import FrontendError

Check = Callable[[OpInfo, TFLiteInfo], "str | None"]


def _weights_constant(op: OpInfo, info: TFLiteInfo) -> str | None:
    return None if info.tensors[op.inputs[1]].constant else "non-constant weights"


def _fully_connected(op: OpInfo, info: TFLiteInfo) -> str | None:
    if op.options.get("keepNumDims"):
        return "keepNumDims=True"
    x, w = info.tensors[op.inputs[0]], info.tensors[op.inputs[1]]
    if len(x.shape) != 2:
        return f"a {len(x.shape)}-D input {list(x.shape)} (needs a RESHAPE to 2-D first)"
    if len(set(w.scales)) > 1:
        return "per-channel weight scales"
    return _weights_constant(op, info)


def _softmax(op: OpInfo, info: TFLiteInfo) -> str | None:
    beta = op.options.get("beta", 1.0)
    return None if beta == 1.0 else f"beta={beta}"


def _activations_per_tensor(op: OpInfo, info: TFLiteInfo) -> str | None:
    data_inputs = {"ADD": op.inputs[:2], "SUB": op.inputs[:2], "MUL": op.inputs[:2],
                   "TRANSPOSE_CONV": op.inputs[2:3]}.get(op.op, op.inputs[:1])
    for i in (*data_inputs, *op.outputs):
        if info.tensors[i].dtype == "float32":  # QUANTIZE/DEQUANTIZE boundary (tflite_info admits)
            continue
        if len(info.tensors[i].scales) != 1:
            return f"per-channel quantized activation {info.tensors[i].name!r}"
    return None


def _transpose_conv(op: OpInfo, info: TFLiteInfo) -> str | None:
    act = op.options.get("fusedActivationFunction", "NONE")
    if act != "NONE":  # TVM's importer drops it
        return f"fused activation {act}"
    return None if info.tensors[op.inputs[1]].constant else "non-constant weights"


_CHECKS: dict[str, list[Check]] = {
    "CONV_2D": [_weights_constant],
    "DEPTHWISE_CONV_2D": [_weights_constant],
    "FULLY_CONNECTED": [_fully_connected],
    "SOFTMAX": [_softmax],
    "TRANSPOSE_CONV": [_transpose_conv],
}


def _describe(op: OpInfo) -> str:
    opts = ", ".join(f"{k}={v}" for k, v in op.options.items())
    return f"operator #{op.index}{': ' + opts if opts else ''}"


def check_variants(info: TFLiteInfo, model: str) -> None:
    """FrontendError naming the first op variant without an integer lowering."""
    for op in info.ops:
        for check in [_activations_per_tensor, *_CHECKS.get(op.op, [])]:
            problem = check(op, info)
            if problem:
                raise FrontendError(f"{op.op} with {problem} in {model} is not supported ({_describe(op)})")
