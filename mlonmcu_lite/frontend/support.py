"""Which TFLite ops and op variants have an integer lowering; reject the rest up front.

Runs on the flatbuffer before TVM's importer, so the user reads e.g.
"CONV_2D with dilation 2x2 in model.tflite is not supported (op #3: ...)" instead of a
TVM traceback.
"""

from __future__ import annotations

from typing import Callable

from .errors import FrontendError
from .tflite_ops import Op, Tensor, TFLiteGraph

SUPPORTED_OPS = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "ADD", "AVERAGE_POOL_2D",
                 "MAX_POOL_2D", "RESHAPE", "SOFTMAX")
ACTIVATIONS = ("NONE", "RELU", "RELU6", "RELU_N1_TO_1")


def _conv(op: Op) -> str | None:
    o = op.options
    if (o.get("dilation_h", 1), o.get("dilation_w", 1)) != (1, 1):
        return f"dilation {o['dilation_h']}x{o['dilation_w']}"
    if len(op.inputs) < 2 or op.inputs[1] is None or not op.inputs[1].is_const:
        return "non-constant weights"
    return None


def _fully_connected(op: Op) -> str | None:
    o = op.options
    if o.get("keep_num_dims"):
        return "keep_num_dims=True"
    if o.get("weights_format", 0) != 0:
        return f"weights_format {o['weights_format']} (shuffled weights)"
    if len(op.inputs[0].shape) != 2:
        return f"a {len(op.inputs[0].shape)}-D input {list(op.inputs[0].shape)} (add a RESHAPE to 2-D)"
    if not op.inputs[1].is_const:
        return "non-constant weights"
    if len(set(op.inputs[1].scales)) > 1:
        return "per-channel weight scales"
    return None


def _softmax(op: Op) -> str | None:
    beta = op.options.get("beta", 1.0)
    return None if beta == 1.0 else f"beta {beta}"


_VARIANT_CHECKS: dict[str, Callable[[Op], str | None]] = {
    "CONV_2D": _conv,
    "DEPTHWISE_CONV_2D": _conv,
    "FULLY_CONNECTED": _fully_connected,
    "SOFTMAX": _softmax,
}


def _activation_tensor_problem(t: Tensor) -> str | None:
    if t.dtype != "INT8":
        return f"{t.dtype} tensor '{t.name}'"
    if not t.scales:
        return f"unquantized tensor '{t.name}'"
    if len(t.scales) > 1:
        return f"per-channel quantized activation '{t.name}'"
    return None


def _variant_problem(op: Op) -> str | None:
    act = op.options.get("activation", "NONE")
    if act not in ACTIVATIONS:
        return f"fused activation {act}"
    for t in [op.inputs[0], *op.outputs] + ([op.inputs[1]] if op.name == "ADD" else []):
        problem = _activation_tensor_problem(t)
        if problem:
            return problem
    check = _VARIANT_CHECKS.get(op.name)
    return check(op) if check else None


def check_supported(graph: TFLiteGraph, model: str) -> None:
    """FrontendError naming the first unsupported op / variant / graph I/O of `model`."""
    for t in graph.inputs + graph.outputs:
        problem = _activation_tensor_problem(t)
        if problem:
            raise FrontendError(f"{model}: graph input/output {problem}: only int8 models "
                                f"(int8 inputs and outputs) are supported")
    for op in graph.ops:
        if op.name not in SUPPORTED_OPS:
            raise FrontendError(f"{op.describe()} in {model} is not supported "
                                f"(supported: {', '.join(SUPPORTED_OPS)})")
        problem = _variant_problem(op)
        if problem:
            raise FrontendError(f"{op.name} with {problem} in {model} is not supported "
                                f"({op.describe()})")
