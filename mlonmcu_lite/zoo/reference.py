"""Reference outputs from ai-edge-litert's reference kernels (`BUILTIN_REF`).

The reference (not the default XNNPACK/optimized) kernels are what an integer
MCU engine can match bit for bit. FULLY_CONNECTED there rounds once (unlike
TFLite-Micro), so these goldens name ai-edge-litert's arithmetic.

A float model whose op BUILTIN_REF lacks (ai-edge-litert 2.3 registers no reference CEIL, ROUND,
ELU) takes TFLite's builtin float kernels without delegates (no XNNPACK) instead: float results
are checked within tolerance, never bit for bit, so the reference kernel's rounding is not at stake.
A quantized model falls back only where its reference kernel is broken or missing
(`BROKEN_REFERENCE`: ai-edge-litert 2.3's int8 SUM instantiates the uint8 kernel on int8 data, its
int16 SUM returns garbage; there is no reference ELU); its golden then names the builtin kernels (`golden_note`), and the
frontend computes what they compute (qmath.py).

Every inference starts from the model's initial state (variable tensors such as an SVDF
state reset to zero), as every emulation on the VP does.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .tflite_info import ModelError, read_tflite

# floatops: float kernels missing from ai-edge-litert 2.3's BUILTIN_REF resolver.
NO_REFERENCE_FLOAT_KERNEL = frozenset({"CEIL", "ROUND", "ELU"})


# qmath: quantized ops (per input dtype) whose BUILTIN_REF kernel is broken or missing, with what is wrong;
# their models take the builtin kernels.
BROKEN_REFERENCE: dict[str, dict[str, str]] = {
    "SUM": {"int8": "BUILTIN_REF's int8 SUM reads int8 data as uint8",
            "int16": "BUILTIN_REF's int16 SUM returns garbage (the builtin one adds the raw values, saturating)"},
    "ELU": {"int8": "BUILTIN_REF has no ELU kernel; the builtin one is registered as version 1 only, "
                    "so the model's ELU is read as version 1"}}
_BUILTIN_MAX_VERSION = {"ELU": 1}  # TFLite writes int8 ELU as version 2, which ai-edge-litert 2.3 does not register


def golden_note(path: str | Path) -> str | None:
    """Why a quantized model's golden comes from the builtin kernels instead of BUILTIN_REF (None: it does not)."""
    try:
        info = read_tflite(Path(path))
    except ModelError:
        return None
    broken = sorted({BROKEN_REFERENCE[op.op][info.tensors[op.inputs[0]].dtype] for op in info.ops
                     if info.tensors[op.inputs[0]].dtype in BROKEN_REFERENCE.get(op.op, {})})
    if info.numerics != "quantized" or not broken:
        return None
    return f"golden from ai-edge-litert's builtin kernels ({'; '.join(broken)})"


def _interpreter(path: Path):
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    resolver, content = OpResolverType.BUILTIN_REF, None
    if _needs_builtin_float_kernels(path) or golden_note(path):
        resolver = OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
        content = _builtin_versions(path) if golden_note(path) else None
    try:
        source = {"model_content": content} if content else {"model_path": str(path)}
        interp = Interpreter(**source, num_threads=1, experimental_op_resolver_type=resolver)
        interp.allocate_tensors()
    except (ValueError, RuntimeError) as exc:
        raise ModelError(f"{path}: ai-edge-litert cannot load the model: {exc}") from exc
    return interp


def _builtin_versions(path: Path) -> bytes | None:
    """The model's bytes with op versions lowered to what the builtin resolver registers (None: no change)."""
    import flatbuffers
    from ai_edge_litert import schema_py_generated as S

    model = S.ModelT.InitFromPackedBuf(path.read_bytes(), 0)
    names = {getattr(S.BuiltinOperator, op): op for op in _BUILTIN_MAX_VERSION}
    codes = [c for c in model.operatorCodes if max(c.builtinCode, c.deprecatedBuiltinCode) in names
             and c.version > _BUILTIN_MAX_VERSION[names[max(c.builtinCode, c.deprecatedBuiltinCode)]]]
    if not codes:
        return None
    for code in codes:
        code.version = _BUILTIN_MAX_VERSION[names[max(code.builtinCode, code.deprecatedBuiltinCode)]]
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def _needs_builtin_float_kernels(path: Path) -> bool:
    try:
        info = read_tflite(path)
    except ModelError:
        return False  # the reference interpreter names what is wrong
    return info.numerics != "quantized" and bool(NO_REFERENCE_FLOAT_KERNEL & set(info.op_names))


def _run(interp, path: Path, inputs: list[np.ndarray]) -> list[np.ndarray]:
    details = interp.get_input_details()
    if len(inputs) != len(details):
        raise ModelError(f"{path}: model has {len(details)} input(s), got {len(inputs)}")
    for d, x in zip(details, inputs):
        x = np.asarray(x)
        if x.dtype != d["dtype"] or tuple(x.shape) != tuple(d["shape"]):
            want = f"{np.dtype(d['dtype']).name}{d['shape'].tolist()}"
            raise ModelError(f"{path}: input {d['name']!r} wants {want}, got {x.dtype.name}{list(x.shape)}")
        interp.set_tensor(d["index"], x)
    interp.reset_all_variables()
    interp.invoke()
    return [interp.get_tensor(d["index"]).copy() for d in interp.get_output_details()]


def reference_outputs(path: str | Path, inputs: list[np.ndarray]) -> list[np.ndarray]:
    """Outputs of one inference (one array per model input, in subgraph order)."""
    path = Path(path)
    return _run(_interpreter(path), path, inputs)


def reference_outputs_many(path: str | Path, samples: list[list[np.ndarray]]) -> list[list[np.ndarray]]:
    """`reference_outputs` for several samples, loading the model once."""
    path = Path(path)
    interp = _interpreter(path)
    return [_run(interp, path, inputs) for inputs in samples]
