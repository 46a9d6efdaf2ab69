"""Float64 numpy reference of the graph ops, used only to calibrate ranges.

Float64 keeps the calibration (and so the written bytes) stable across BLAS
builds; padding follows TFLite (SAME puts the odd pixel after).
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .graph import Graph, Node, same_pads


def _pad(x: np.ndarray, kernel: tuple[int, int], stride: tuple[int, int], padding: str,
         value: float) -> np.ndarray:
    if padding != "SAME":
        return x
    (t, b), (l, r) = (same_pads(x.shape[1], kernel[0], stride[0]), same_pads(x.shape[2], kernel[1], stride[1]))
    return np.pad(x, ((0, 0), (t, b), (l, r), (0, 0)), constant_values=value)


def _windows(x: np.ndarray, kernel: tuple[int, int], stride: tuple[int, int], padding: str,
             value: float = 0.0) -> np.ndarray:
    """[N, Ho, Wo, C, kh, kw] view of the (padded) input."""
    xp = _pad(x, kernel, stride, padding, value)
    return sliding_window_view(xp, kernel, axis=(1, 2))[:, ::stride[0], ::stride[1]]


def activate(z: np.ndarray, act: str) -> np.ndarray:
    if act == "RELU":
        return np.maximum(z, 0.0)
    if act == "RELU6":
        return np.clip(z, 0.0, 6.0)
    return z


def linear(node: Node, x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pre-activation output of CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED."""
    if node.op == "FULLY_CONNECTED":
        return x @ w.T + b
    kernel = w.shape[1:3]
    win = _windows(x, kernel, node.attrs["stride"], node.attrs["padding"])
    if node.op == "CONV_2D":
        return np.einsum("nhwcij,oijc->nhwo", win, w, optimize=True) + b
    m = node.attrs["multiplier"]
    wd = w.reshape(kernel[0], kernel[1], -1, m)
    out = np.einsum("nhwcij,ijcm->nhwcm", win, wd, optimize=True)
    return out.reshape(out.shape[:3] + (-1,)) + b


def pool(node: Node, x: np.ndarray) -> np.ndarray:
    size, stride, padding = node.attrs["size"], node.attrs["stride"], node.attrs["padding"]
    if node.op == "MAX_POOL_2D":
        return _windows(x, size, stride, padding, -np.inf).max(axis=(4, 5))
    total = _windows(x, size, stride, padding).sum(axis=(4, 5))
    count = _windows(np.ones_like(x[:1, ..., :1]), size, stride, padding).sum(axis=(4, 5))
    return total / count  # TFLite averages over the valid (unpadded) pixels only


def softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def run_node(graph: Graph, node: Node, env: dict[str, np.ndarray]) -> np.ndarray:
    """Evaluate one node on a batch (`env` maps tensor name to value)."""
    x = env[node.inputs[0]]
    if node.op in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"):
        w, b = (graph.tensors[n].data for n in node.inputs[1:])
        return activate(linear(node, x, w, b), node.attrs["act"])
    if node.op in ("AVERAGE_POOL_2D", "MAX_POOL_2D"):
        return activate(pool(node, x), node.attrs["act"])
    if node.op == "ADD":
        return activate(x + env[node.inputs[1]], node.attrs["act"])
    if node.op == "RESHAPE":
        return x.reshape((x.shape[0],) + tuple(node.attrs["new_shape"][1:]))
    if node.op == "SOFTMAX":
        return softmax(x)
    raise NotImplementedError(node.op)
