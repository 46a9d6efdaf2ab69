"""float32 and dynamic-range ("hybrid") models: TVM's float path, no integer rewrite.

A float32 model imports as float Relax and is compiled as is: float32 arithmetic in the C
kernels (the FPU on rv32gc, libgcc's soft-float routines on rv32imc), softmax / logistic /
tanh through the toolchain's libm (`expf`, `tanhf`).

A hybrid model keeps int8 CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED (and LSTM / SVDF)
weights with float32 activations.  TVM's importer refuses those ops ("dynamic range quantization"), so the weights
are dequantized here, in the flatbuffer, exactly as TFLite's DEQUANTIZE does (`(q - zp) * scale`
in float32, per channel), and the model then runs the float path.  TFLite's reference hybrid
kernels instead quantize each activation row to int8 at run time; the two differ by that
activation quantization, which the float validation's hybrid tolerance covers (settings).
"""

from __future__ import annotations

import flatbuffers
import numpy as np
from ai_edge_litert import schema_py_generated as S

from mlonmcu_lite.zoo.tflite_info import HYBRID_WEIGHT_INPUTS, OP_NAMES

_FLOAT32, _INT8 = S.TensorType.FLOAT32, S.TensorType.INT8


def dequantized_weight(data: np.ndarray, shape: tuple[int, ...], q: S.QuantizationParametersT) -> np.ndarray:
    """TFLite's DEQUANTIZE of a constant: float32((q - zero_point) * scale), per channel."""
    values = np.asarray(data, np.uint8).view(np.int8).astype(np.int32).reshape(shape)
    scale = np.asarray(q.scale, np.float32)
    zps = np.asarray(q.zeroPoint if q.zeroPoint is not None and len(q.zeroPoint) else [0], np.int32)
    view = [1] * len(shape)
    if scale.size > 1:
        view[int(q.quantizedDimension)] = -1
    centred = (values - zps.reshape(view if zps.size > 1 else [1] * len(shape))).astype(np.float32)
    return (centred * scale.reshape(view)).astype(np.float32)


def dequantize_weights(raw: bytes) -> bytes:
    """The model with every int8 weight of a conv / FC / LSTM / SVDF turned into float32 (other bytes kept)."""
    model = S.ModelT.InitFromPackedBuf(raw, 0)
    sub = model.subgraphs[0]
    done: set[int] = set()
    for op in sub.operators or []:
        code = model.operatorCodes[op.opcodeIndex]
        name = OP_NAMES.get(max(code.builtinCode, code.deprecatedBuiltinCode))
        if name == "DEQUANTIZE":  # a DEQUANTIZE of int8 weights stays TFLite's op
            continue
        for pos in HYBRID_WEIGHT_INPUTS.get(name, ()):
            index = int(op.inputs[pos]) if pos < len(op.inputs) else -1
            t = sub.tensors[index] if index >= 0 else None
            if t is None or t.type != _INT8 or index in done:
                continue
            buf = model.buffers[t.buffer]
            weight = dequantized_weight(buf.data, tuple(int(d) for d in t.shape), t.quantization)
            new = S.BufferT()
            new.data = weight.reshape(-1).view(np.uint8)
            model.buffers.append(new)
            t.buffer, t.type, t.quantization = len(model.buffers) - 1, _FLOAT32, None
            done.add(index)
    builder = flatbuffers.Builder(max(1024, 4 * len(raw)))
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())
