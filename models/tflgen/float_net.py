"""A direct float32 TFLite writer for ops that exist only as float kernels (floatops).

The int8 generator (graph.py -> calibrate -> quantize -> writer) needs a float64 reference and
a quantization rule per op; a float-only op needs neither.  `FloatNet` writes operators with
their schema options as given; the output shapes come from TFLite itself (the model is
written once with unknown shapes, ai-edge-litert's interpreter prepares it, and the shapes it
computed are written into the final file), so no shape rule is duplicated here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import flatbuffers
import numpy as np
from ai_edge_litert import schema_py_generated as S

from .writer import operator_codes

DESCRIPTION = "mlonmcu-lite float-op generator"
_DTYPES = {np.dtype(np.float32): "FLOAT32", np.dtype(np.int32): "INT32", np.dtype(np.float16): "FLOAT16",
           np.dtype(np.int8): "INT8", np.dtype(np.bool_): "BOOL", np.dtype(np.int64): "INT64"}


def options(name: str, **fields) -> tuple[int, object]:
    """(`BuiltinOptions` tag, `<name>T` object) with camelCase schema fields set, e.g.
    `options("CumsumOptions", exclusive=True)`."""
    obj = getattr(S, f"{name}T")()
    for key, value in fields.items():
        if not hasattr(obj, key):
            raise AttributeError(f"{name} has no field {key!r}")
        setattr(obj, key, value)
    return getattr(S.BuiltinOptions, name), obj


@dataclass
class FloatNet:
    """Builds one subgraph op by op; every builder returns tensor indices."""

    tensors: list[S.TensorT] = field(default_factory=list)
    buffers: list[np.ndarray | None] = field(default_factory=lambda: [None])
    operators: list[tuple[str, int, list[int], list[int], tuple[int, object] | None]] = field(default_factory=list)
    inputs: list[int] = field(default_factory=list)
    outputs: list[int] = field(default_factory=list)

    def _tensor(self, name: str, shape: tuple[int, ...] | None, dtype: str, data: np.ndarray | None = None,
                quant: S.QuantizationParametersT | None = None) -> int:
        t = S.TensorT()
        t.name, t.type = name.encode(), getattr(S.TensorType, dtype)
        t.shape = list(shape) if shape is not None else None
        t.buffer = 0
        if data is not None:
            self.buffers.append(np.ascontiguousarray(data))
            t.buffer = len(self.buffers) - 1
        t.quantization = quant
        self.tensors.append(t)
        return len(self.tensors) - 1

    def input(self, name: str, shape: tuple[int, ...], dtype: str = "FLOAT32") -> int:
        self.inputs.append(self._tensor(name, shape, dtype))
        return self.inputs[-1]

    def const(self, name: str, data: np.ndarray, quant: S.QuantizationParametersT | None = None) -> int:
        data = np.asarray(data)
        return self._tensor(name, data.shape, _DTYPES[data.dtype], data, quant)

    def variable(self, name: str, shape: tuple[int, ...]) -> int:
        """A state tensor (SVDF / LSTM): zero at the start of every inference."""
        index = self._tensor(name, shape, "FLOAT32")
        self.tensors[index].isVariable = True
        return index

    def op(self, op: str, inputs: list[int], name: str, dtype: str = "FLOAT32", version: int = 1,
           opts: tuple[int, object] | None = None, outputs: int = 1) -> int | list[int]:
        """Append operator `op` reading `inputs` (-1: optional input left out); its outputs get shapes later."""
        outs = [self._tensor(name if outputs == 1 else f"{name}_{k}", None, dtype) for k in range(outputs)]
        self.operators.append((op, version, list(inputs), outs, opts))
        return outs[0] if outputs == 1 else outs

    def quantize_weights(self, positions: dict[str, tuple[int, ...]]) -> None:
        """The converter's dynamic-range quantization: the float32 constants at `positions` of each op
        become int8, symmetric per tensor (scale max|w| / 127)."""
        for op, _, ins, _, _ in self.operators:
            for pos in positions.get(op, ()):
                t = self.tensors[ins[pos]] if pos < len(ins) and ins[pos] >= 0 else None
                if t is None or t.type != S.TensorType.FLOAT32 or not t.buffer:
                    continue
                w = self.buffers[t.buffer]
                scale = float(np.abs(w).max()) / 127.0 or 1.0
                self.buffers[t.buffer] = np.clip(np.round(w / scale), -127, 127).astype(np.int8)
                t.type = S.TensorType.INT8
                t.quantization = S.QuantizationParametersT()
                t.quantization.scale, t.quantization.zeroPoint = [scale], [0]

    def output(self, *indices: int) -> None:
        self.outputs.extend(indices)

    def tflite(self) -> bytes:
        """The model bytes with every computed tensor's shape as TFLite's Prepare sets it."""
        from ai_edge_litert.interpreter import Interpreter, OpResolverType

        draft = self._pack()
        interp = Interpreter(model_content=draft,
                             experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
        interp.allocate_tensors()
        shapes = {d["index"]: tuple(int(x) for x in d["shape"]) for d in interp.get_tensor_details()}
        for index, t in enumerate(self.tensors):
            if t.shape is None:
                t.shape = list(shapes[index])
        return self._pack()

    def _pack(self) -> bytes:
        model = S.ModelT()
        model.version, model.description = 3, DESCRIPTION.encode()
        codes: dict[str, int] = {}
        versions: dict[str, int] = {}
        for op, version, *_ in self.operators:
            codes.setdefault(op, len(codes))
            versions[op] = max(versions.get(op, 1), version)
        model.operatorCodes = operator_codes({op: versions[op] for op in codes})
        sub = S.SubGraphT()
        sub.tensors, sub.inputs, sub.outputs, sub.name = self.tensors, self.inputs, self.outputs, b"main"
        sub.operators = []
        for op, _, ins, outs, opts in self.operators:
            o = S.OperatorT()
            o.opcodeIndex, o.inputs, o.outputs = codes[op], ins, outs
            if opts is not None:
                o.builtinOptionsType, o.builtinOptions = opts
            sub.operators.append(o)
        model.subgraphs = [sub]
        model.buffers = []
        for data in self.buffers:
            b = S.BufferT()
            b.data = None if data is None else np.frombuffer(data.tobytes(), np.uint8)
            model.buffers.append(b)
        builder = flatbuffers.Builder(1 << 16)
        builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
        return bytes(builder.Output())
