"""Op variants the integer rewrite handles, beyond `tflite_info`'s model-level checks.

`tflite_info.read_tflite` already rejects non-int8 models, unsupported ops and
activations; this adds what only the frontend knows (e.g. per-channel FULLY_CONNECTED weights,
softmax β ≠ 1, which TVM's importer would silently drop), so that the user reads
"SOFTMAX with beta=2.0 in m.tflite is not supported (...)" rather than a TVM traceback or a
wrong result.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from mlonmcu_lite.zoo.tflite_info import INDEX_OPS, OpInfo, TFLiteInfo

from .errors import FrontendError
from .lstm import lstm_variant
from .logic import cast_input, reference_dtypes

Check = Callable[[OpInfo, TFLiteInfo], "str | None"]
PLAIN_DTYPES = frozenset({"int32", "int64", "bool"})


def _weights_constant(op: OpInfo, info: TFLiteInfo) -> str | None:
    return None if info.tensors[op.inputs[1]].constant else "non-constant weights"


def _fully_connected(op: OpInfo, info: TFLiteInfo) -> str | None:
    x, w = info.tensors[op.inputs[0]], info.tensors[op.inputs[1]]
    if int(np.prod(x.shape)) % w.shape[1]:
        return f"an input {list(x.shape)} that is not rows of {w.shape[1]} values"
    return _weights_constant(op, info)


def _softmax(op: OpInfo, info: TFLiteInfo) -> str | None:
    beta = op.options.get("beta", 1.0)
    return None if beta == 1.0 else f"beta={beta}"


def _activations_per_tensor(op: OpInfo, info: TFLiteInfo) -> str | None:
    data_inputs = [i for i in op.inputs if i >= 0 and not info.tensors[i].constant]
    outputs = () if op.op in INDEX_OPS else op.outputs  # ARG_MAX / ARG_MIN: unquantized indices
    for i in (*data_inputs, *outputs):
        if info.tensors[i].dtype == "float32":  # QUANTIZE/DEQUANTIZE boundary (tflite_info admits)
            continue
        plain = PLAIN_DTYPES | ({"int8", "int16"} if op.op == "CAST" else set())  # a CAST's raw int8
        if info.tensors[i].dtype in plain and not info.tensors[i].scales:  # qlogic: ids, masks, shapes
            continue
        if len(info.tensors[i].scales) != 1:
            return f"per-channel quantized activation {info.tensors[i].name!r}"
    return None


def _clamps(act: str, out) -> bool:
    """Whether a fused activation clamps the output's range (CalculateActivationRangeQuantized)."""
    lo, hi = {"uint8": (0, 255), "int8": (-128, 127), "int16": (-32768, 32767)}.get(out.dtype, (None, None))
    if lo is None or len(out.scales) != 1:
        return True
    zp, scale = out.zero_points[0], out.scales[0]

    def q(v: float) -> int:  # zp + TfLiteRound(v / scale): half away from zero
        return zp + int(np.sign(v) * np.floor(abs(v / scale) + 0.5))
    low, high = {"RELU": (0.0, None), "RELU6": (0.0, 6.0), "RELU_N1_TO_1": (-1.0, 1.0)}.get(act, (None, None))
    act_lo = lo if low is None else q(low)
    act_hi = hi if high is None else q(high)
    if act not in ("RELU", "RELU6", "RELU_N1_TO_1"):
        return True
    return max(lo, act_lo) != lo or min(hi, act_hi) != hi


def _transpose_conv(op: OpInfo, info: TFLiteInfo) -> str | None:
    act = op.options.get("fusedActivationFunction", "NONE")
    if act != "NONE" and _clamps(act, info.tensors[op.outputs[0]]):  # TVM's importer drops it
        return f"fused activation {act} that clamps the output range"
    return None if info.tensors[op.inputs[1]].constant else "non-constant weights"


def _same_quantization(op: OpInfo, info: TFLiteInfo) -> str | None:
    """TFLite's int8/int16 CONCATENATION copies bytes: it requires one quantization (only the
    uint8 kernel rescales) and, for every type, no fused activation."""
    out = info.tensors[op.outputs[0]]
    for i in op.inputs:
        t = info.tensors[i]
        if (t.scales, t.zero_points) != (out.scales, out.zero_points) and out.dtype != "uint8":
            return f"input {t.name!r} quantized unlike the output (TFLite's {out.dtype} kernel requires equal)"
    act = op.options.get("fusedActivationFunction", "NONE")
    return None if act == "NONE" else f"fused activation {act}"


def _input_quantization(op: OpInfo, info: TFLiteInfo) -> str | None:
    """Kernels that copy or compare values and whose Prepare requires the input's quantization
    on the output (the reference refuses the model otherwise)."""
    x, out = info.tensors[op.inputs[0]], info.tensors[op.outputs[0]]
    if (x.scales, x.zero_points) != (out.scales, out.zero_points):
        return f"an output quantized unlike its input (TFLite's {op.op} requires equal)"
    return None


def _no_activation(op: OpInfo, info: TFLiteInfo) -> str | None:
    """qmath: TFLite's L2_NORMALIZATION refuses a fused activation (its Prepare requires NONE)."""
    act = op.options.get("fusedActivationFunction", "NONE")
    return None if act == "NONE" else f"fused activation {act} (TFLite's kernel requires NONE)"


_CHECKS: dict[str, list[Check]] = {
    "CONV_2D": [_weights_constant],
    "DEPTHWISE_CONV_2D": [_weights_constant],
    "FULLY_CONNECTED": [_fully_connected],
    "SOFTMAX": [_softmax],
    "TRANSPOSE_CONV": [_transpose_conv],
    "CONCATENATION": [_same_quantization],
    "L2_NORMALIZATION": [_no_activation],  # qmath
    "SUM": [lambda op, info: _input_quantization(op, info) if info.tensors[op.inputs[0]].dtype == "int16" else None],
    "UNIDIRECTIONAL_SEQUENCE_LSTM": [lstm_variant],  # seq
    **{op: [_input_quantization] for op in ("REDUCE_MAX", "REDUCE_MIN", "SPACE_TO_BATCH_ND", "BATCH_TO_SPACE_ND")},
    "CUMSUM": [reference_dtypes], "ZEROS_LIKE": [reference_dtypes], "CAST": [cast_input],  # qlogic
}


# Ops whose uint8 / int16 variants are lowered and checked bit-exact against the reference
# (a generated test model each).  An op helper adding a variant adds the op here with its
# model; everything else is rejected before compile work instead of being run unverified.
BOUNDARY_OPS = frozenset({"QUANTIZE", "DEQUANTIZE"})
_CORE = {"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "ADD", "AVERAGE_POOL_2D", "MAX_POOL_2D", "RESHAPE",
         "SOFTMAX"}  # chain_conv_avgpool_fc_softmax, chain_dw_maxpool, multi_io (_u8, _i16)
_MOVEMENT = {"PAD", "SPLIT", "MAXIMUM", "RELU6", "RESIZE_NEAREST_NEIGHBOR", "STRIDED_SLICE", "TRANSPOSE",
             "GATHER", "UNPACK", "PACK", "CONCATENATION",  # chain_movement (_u8, _i16)
             "SPLIT_V", "SLICE", "PADV2", "MINIMUM", "RELU", "SQUEEZE", "EXPAND_DIMS"}  # test_frontend_variants
_TFLM_MOVEMENT = {"DEPTH_TO_SPACE", "SPACE_TO_DEPTH", "SPACE_TO_BATCH_ND", "BATCH_TO_SPACE_ND", "BROADCAST_TO", "TILE",
                  "MIRROR_PAD", "REVERSE_V2", "GATHER_ND", "REDUCE_MAX", "REDUCE_MIN",
                  "ARG_MAX", "ARG_MIN"}  # test_frontend_tflm_ops
_NO_INT16_KERNEL = {"DEPTH_TO_SPACE", "SPACE_TO_DEPTH", "ARG_MAX", "ARG_MIN"}  # TFLite has none
_ARITH_U8 = {"MUL", "LOGISTIC", "PRELU",  # mul_u8, logistic_u8, prelu_u8
             "TANH", "MEAN", "SUB", "HARD_SWISH", "LEAKY_RELU", "GELU"}  # test_frontend_tflm_ops
_ARITH_I16 = {"MUL", "LOGISTIC", "TANH", "MEAN", "RESIZE_BILINEAR",  # mul_i16, logistic_i16, tanh_i16, ...
              "SUB", "PRELU", "LEAKY_RELU"}  # test_frontend_tflm_ops
_QMATH_U8 = {"LOG_SOFTMAX", "DIV"}  # qmath: test_frontend_qmath (TFLite has no uint8 ABS/RSQRT)
_QMATH_I16 = {"ABS", "SUM"}  # qmath: test_frontend_qmath
_LOGIC = {"SELECT", "SELECT_V2", "EMBEDDING_LOOKUP"}  # qlogic: test_frontend_logic (variants); comparisons: bool out
_VISION_U8 = {"TRANSPOSE_CONV", "RESIZE_BILINEAR"}  # vision: models/realworld/upsampler_quant (TF1 legacy uint8)
VERIFIED_OPS: dict[str, frozenset[str]] = {
    "int8": frozenset(),  # every op of tflite_info.SUPPORTED_OPS
    "uint8": frozenset(_CORE | _MOVEMENT | _TFLM_MOVEMENT | _ARITH_U8 | _QMATH_U8 | _VISION_U8 | _LOGIC),
    "int16": frozenset(_CORE | _MOVEMENT | _TFLM_MOVEMENT - _NO_INT16_KERNEL | _ARITH_I16 | _QMATH_I16 | _LOGIC
                      | {"FLOOR_DIV", "FLOOR_MOD"}),  # qlogic: raw integers (uint8's are not shift-invariant)
}


def _verified_dtype(op: OpInfo, info: TFLiteInfo) -> str | None:
    if op.op in BOUNDARY_OPS or not op.outputs:
        return None
    dtype = info.tensors[op.inputs[0] if op.op in INDEX_OPS else op.outputs[0]].dtype  # an index op: its data
    if dtype in ("int8",) or dtype not in VERIFIED_OPS or op.op in VERIFIED_OPS[dtype]:
        return None
    return f"{dtype} tensors (only its int8 variant is lowered; {dtype}: {', '.join(sorted(VERIFIED_OPS[dtype]))})"


def _describe(op: OpInfo) -> str:
    opts = ", ".join(f"{k}={v}" for k, v in op.options.items())
    return f"operator #{op.index}{': ' + opts if opts else ''}"


def check_variants(info: TFLiteInfo, model: str) -> None:
    """FrontendError naming the first op variant without an integer lowering."""
    for op in info.ops:
        for check in [_verified_dtype, _activations_per_tensor, *_CHECKS.get(op.op, [])]:
            problem = check(op, info)
            if problem:
                raise FrontendError(f"{op.op} with {problem} in {model} is not supported ({_describe(op)})")
