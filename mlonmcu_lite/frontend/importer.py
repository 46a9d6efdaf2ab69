"""import_tflite: int8 TFLite file → IntegerModel (TVM import, integer rewrite, checks)."""

from __future__ import annotations

from pathlib import Path

from tvm.relax.frontend.tflite import from_tflite

from .errors import FrontendError
from .model import IntegerModel, TensorSpec
from .rewrite import check_integer, integer_rewrite
from .support import check_supported
from .tflite_ops import Tensor, read_graph


def _spec(t: Tensor) -> TensorSpec:
    return TensorSpec(t.name, t.shape, t.dtype.lower(), t.scales[0], t.zero_points[0])


def import_tflite(path: str | Path) -> IntegerModel:
    """Import an int8 TFLite model as integer-only Relax, bit-exact with TFLite's kernels.

    Raises FrontendError (never a TVM traceback first) for a missing or malformed file, a
    float model, or an unsupported op or op variant, naming the op, options and model.
    """
    path = Path(path)
    if not path.is_file():
        raise FrontendError(f"model file {path} does not exist")
    name = path.name
    graph = read_graph(path.read_bytes(), name)
    check_supported(graph, name)
    try:
        qdq = from_tflite(graph.model)
    except Exception as err:  # TVM's importer: keep its message, lead with ours
        raise FrontendError(f"TVM's TFLite importer rejected {name}: {err}") from err
    try:
        mod = integer_rewrite(qdq)
    except FrontendError as err:
        raise FrontendError(f"{name}: {err}") from err
    check_integer(mod, name)
    return IntegerModel(name=path.stem, mod=mod, inputs=[_spec(t) for t in graph.inputs],
                        outputs=[_spec(t) for t in graph.outputs], ops=[op.name for op in graph.ops])
