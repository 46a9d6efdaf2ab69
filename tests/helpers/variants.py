"""uint8 / int16 variants of generated int8 op models (same graph, other activation type).

Used where the generator has no dtype of its own for a model: every int8 activation (and
int8 constant operand, e.g. PADV2's value) becomes uint8 (value and zero point + 128, the
legacy quantization) or int16 (zero point 0, as TFLite's int16 kernels require).
"""

from __future__ import annotations

from pathlib import Path

import flatbuffers
import numpy as np
from ai_edge_litert import schema_py_generated as S

from mlonmcu_lite.compiler.host_externs import load_host_externs
from mlonmcu_lite.zoo import resolve_model


def _retype(model: S.ModelT, t: S.TensorT, dtype: str) -> None:
    buf = model.buffers[t.buffer] if t.buffer else None
    data = np.asarray(buf.data).astype(np.uint8).view(np.int8) if buf is not None and buf.data is not None \
        and len(buf.data) else None
    if dtype == "uint8":
        t.type = S.TensorType.UINT8
        t.quantization.zeroPoint = [int(z) + 128 for z in t.quantization.zeroPoint]
        if data is not None:
            buf.data = (data.astype(np.int16) + 128).astype(np.uint8)
    else:
        t.type = S.TensorType.INT16
        t.quantization.zeroPoint = [0 for _ in t.quantization.zeroPoint]
        if data is not None:
            buf.data = np.frombuffer(data.astype(np.int16).tobytes(), np.uint8)


def variant(name: str, dtype: str, out: Path, edit=None) -> Path:
    """Write op model `name` (or a .tflite path) with `dtype` activations to `out/<name>_<dtype>.tflite`."""
    model = S.ModelT.InitFromPackedBuf(resolve_model(str(name)).path.read_bytes(), 0)
    name = Path(name).stem
    for t in model.subgraphs[0].tensors:
        if t.type == S.TensorType.INT8:
            _retype(model, t, dtype)
    if edit is not None:
        edit(model)
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    path = Path(out) / f"{name}_{dtype}.tflite"
    path.write_bytes(bytes(builder.Output()))
    return path


def edit_in_place(path: Path, edit) -> Path:
    """Rewrite the .tflite at `path` after `edit(model)` changed its object tree."""
    model = S.ModelT.InitFromPackedBuf(Path(path).read_bytes(), 0)
    edit(model)
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    Path(path).write_bytes(bytes(builder.Output()))
    return Path(path)


def output_scale(scale: float):
    """An `edit` giving the first graph output another scale (a kernel's fixed output quantization broken)."""
    def edit(model: S.ModelT) -> None:
        sub = model.subgraphs[0]
        sub.tensors[sub.outputs[0]].quantization.scale = [scale]
    return edit


def rescaled_concat_inputs(model: S.ModelT) -> None:
    """uint8 CONCATENATION whose inputs are quantized unlike its output (ConcatenationWithScaling)."""
    sub = model.subgraphs[0]
    a, b = (sub.tensors[i] for i in sub.inputs)
    a.quantization.scale, a.quantization.zeroPoint = [0.05], [100]
    b.quantization.scale, b.quantization.zeroPoint = [0.0123], [7]


def random_inputs(path: Path, count: int, seed: int) -> list[list[np.ndarray]]:
    """Inputs over the full range of each input's type."""
    rng = np.random.default_rng(seed)
    specs = resolve_model(path).inputs
    return [[rng.integers(np.iinfo(t.dtype).min, np.iinfo(t.dtype).max + 1, t.shape).astype(t.dtype)
             for t in specs] for _ in range(count)]


def generated(spec, out: Path) -> Path:
    """Write a tflgen ModelSpec's model (not committed: generated at test time) to `out/<name>.tflite`."""
    from tflgen.pipeline import generate  # models/ on sys.path, as in the test files that import tflgen

    path = Path(out) / f"{spec.name}.tflite"
    path.write_bytes(generate(spec).tflite)
    return path


def assert_bit_exact_on_host(path: Path, count: int = 3, samples: list[list[np.ndarray]] | None = None) -> None:
    """The imported integer module (TVM, host llvm) equals BUILTIN_REF on full-range random inputs
    (or on the given `samples`)."""
    import tvm
    from tvm import relax

    from mlonmcu_lite.frontend import import_tflite
    from mlonmcu_lite.zoo.reference import reference_outputs_many

    im = import_tflite(path)
    load_host_externs()  # the kernels' C helpers (float-I/O QUANTIZE)
    vm = relax.VirtualMachine(tvm.compile(im.mod, target="llvm"), tvm.cpu())
    samples = samples if samples is not None else random_inputs(path, count, seed=len(path.name))
    for inputs, want in zip(samples, reference_outputs_many(path, samples), strict=True):
        got = vm["main"](*[tvm.runtime.tensor(x) for x in inputs])
        got = [got.numpy()] if hasattr(got, "numpy") else [g.numpy() for g in got]
        assert len(got) == len(want)
        for g, w in zip(got, want):
            assert g.dtype == w.dtype and g.shape == w.shape
            np.testing.assert_array_equal(g, w)
