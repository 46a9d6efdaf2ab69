"""Read quantization parameters and constant data out of matched Relax expressions."""

from __future__ import annotations

import numpy as np
from tvm import relax
from tvm.ir.expr import GenericConst


def value(expr: relax.Expr) -> np.ndarray:
    """numpy value of a Relax constant."""
    if not isinstance(expr, GenericConst):
        raise TypeError(f"expected a constant, got {type(expr).__name__}")
    return expr.value.numpy()


def scalar_float(expr: relax.Expr) -> float:
    return float(value(expr).reshape(-1)[0])


def scalar_int(expr: relax.Expr) -> int:
    v = value(expr).reshape(-1)
    if v.size != 1 and not (v == v[0]).all():
        raise ValueError("per-channel zero points of an activation")
    return int(v[0])


def floats(expr: relax.Expr) -> list[float]:
    return [float(v) for v in value(expr).reshape(-1)]


def shape_of(expr: relax.Expr) -> tuple[int, ...]:
    return tuple(int(d) for d in expr.ty.shape)


def prim_int(v) -> int:
    """An int from a clip bound (FloatImm / IntImm)."""
    return int(round(float(v.value if hasattr(v, "value") else v)))


def tensor_scale_zp(t) -> tuple[float, int]:
    """Per-tensor (scale, zero point) of a TVM importer TensorWrapper (its `qnn_params`)."""
    q = t.qnn_params
    return float(q["scale"].value.numpy().reshape(-1)[0]), int(q["zero_point"].value.numpy().reshape(-1)[0])


def file_scale_zp(tensor) -> tuple[float, int]:
    """Per-tensor (scale, zero point) straight from the flatbuffer (float32 scale)."""
    q = tensor.tensor.Quantization()
    zps = q.ZeroPointAsNumpy()
    return float(q.ScaleAsNumpy()[0]), int(zps[0]) if isinstance(zps, np.ndarray) and zps.size else 0
