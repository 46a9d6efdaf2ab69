"""import_tflite: int8 TFLite file → IntegerModel (TVM import, integer rewrite, checks)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import tflite
import tvm
from tvm import relax
from tvm.relax.frontend.tflite import from_tflite

from mlonmcu_lite.zoo.static_shapes import folded_bytes
from mlonmcu_lite.zoo.tflite_info import ModelError, TensorSpec, read_tflite

from . import boundary, resize
from .converter import Converter
from .errors import FrontendError, gist
from .floatmodel import dequantize_weights
from .normalize import legacy_uint8, normalize
from .rewrite import check_integer, integer_rewrite, with_main
from .support import check_variants


@dataclass
class IntegerModel:
    """`mod["main"]` takes the int8 inputs and returns the int8 output, integer ops only.

    Layouts: activations NHWC, conv weights OHWI (depthwise: O = C·multiplier, I = 1,
    groups = C), FC weights [K, N] for `matmul(x, W)`.  `ops` lists the TFLite operators in
    execution order; `inputs`/`outputs` carry each tensor's TFLite quantization.
    """

    name: str
    mod: tvm.IRModule
    inputs: list[TensorSpec]
    outputs: list[TensorSpec]
    ops: list[str]
    op_infos: list = field(default_factory=list)  # tflite_info.OpInfo per op (tensors, MACs)
    numerics: str = "quantized"  # float32 / hybrid models keep float arithmetic (floatmodel.py)


def import_tflite(path: str | Path) -> IntegerModel:
    """Import an int8 TFLite model as integer-only Relax, bit-exact with TFLite's kernels.

    Raises FrontendError (never a TVM traceback first) for a missing or malformed file, a
    float model, or an unsupported op or op variant, naming the op, options and model.
    """
    path = Path(path)
    try:
        info = read_tflite(path)
    except ModelError as err:
        raise FrontendError(str(err)) from err
    if info.numerics != "quantized":
        return _import_float(path, info)
    check_variants(info, path.name)
    try:
        norm = normalize(folded_bytes(path.read_bytes()))  # the graph read_tflite checked (static_shapes.py)
        uint8_kernels = norm.legacy_uint8
    except ValueError as err:
        raise FrontendError(f"{path.name}: {err}") from None
    try:
        qdq = from_tflite(tflite.Model.GetRootAsModel(norm.buffer, 0), op_converter=Converter)
    except Exception as err:  # noqa: BLE001 - TVM's importer: the gist of its message, never its traceback
        raise _rejected(path, err) from None
    token = legacy_uint8.set(uint8_kernels)
    try:
        mod = integer_rewrite(qdq)
    except FrontendError as err:
        raise FrontendError(f"{path.name}: {err}") from None
    finally:
        legacy_uint8.reset(token)
    check_integer(mod, path.name, frozenset(boundary.float_boundary_nodes(mod["main"])
                                            | resize.float_island_nodes(mod["main"])))  # vision: uint8 resize
    mod = boundary.search_quantize(mod, _uint8_quantized_inputs(info))  # vision: float input QUANTIZE
    func = boundary.lower_float_io(mod["main"])
    func = boundary.restore_uint8_io(func, norm.uint8_inputs, norm.uint8_outputs)
    mod = relax.transform.Normalize()(with_main(mod, func))
    return IntegerModel(name=path.stem, mod=mod, inputs=list(info.inputs), outputs=list(info.outputs),
                        ops=info.op_names, op_infos=list(info.ops))


def _uint8_quantized_inputs(info) -> tuple[bool, ...]:
    """Per graph input: a float32 input that the file QUANTIZEs into a uint8 tensor."""
    index = {t.name: k for k, t in enumerate(info.tensors)}
    return tuple(any(op.op == "QUANTIZE" and op.inputs[0] == index.get(spec.name)
                     and info.tensors[op.outputs[0]].dtype == "uint8" for op in info.ops)
                 for spec in info.inputs)


def _rejected(path: Path, err: Exception) -> FrontendError:
    """A failed TVM import naming the model (the converter already named the operator)."""
    if isinstance(err, FrontendError):
        return FrontendError(f"{path.name}: {err}")
    return FrontendError(f"TVM's TFLite importer rejected {path.name}: {gist(err)}")


def _import_float(path: Path, info) -> IntegerModel:
    """A float32 or hybrid model as float Relax (see floatmodel.py); no integer rewrite."""
    for op in info.ops:
        if op.op == "SOFTMAX" and op.options.get("beta", 1.0) != 1.0:  # TVM's importer drops beta
            raise FrontendError(f"SOFTMAX with beta={op.options['beta']} in {path.name} is not supported "
                                f"(operator #{op.index})")
    raw = folded_bytes(path.read_bytes())
    if info.numerics == "hybrid":
        raw = dequantize_weights(raw)
    try:
        imported = from_tflite(tflite.Model.GetRootAsModel(raw, 0), op_converter=Converter)
    except Exception as err:  # noqa: BLE001 - TVM's importer: the gist of its message, never its traceback
        raise _rejected(path, err) from None
    main = imported.get_global_var("main")
    imported.update_func(main, imported[main].without_attr("params"))  # keeps TE kernels (frontend/floatops.py)
    mod = relax.transform.Normalize()(imported)
    return IntegerModel(name=path.stem, mod=mod, inputs=list(info.inputs), outputs=list(info.outputs),
                        ops=info.op_names, op_infos=list(info.ops), numerics=info.numerics)
