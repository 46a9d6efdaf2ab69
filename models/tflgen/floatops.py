"""Float64 numpy reference of the graph ops, used only to calibrate ranges.

Float64 keeps the calibration (and so the written bytes) stable across BLAS
builds; padding follows TFLite (SAME puts the odd pixel after).
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from . import seq_models
from .graph import Graph, Node, dilated, same_pads


def _pad(x: np.ndarray, kernel: tuple[int, int], stride: tuple[int, int], padding: str,
         value: float) -> np.ndarray:
    if padding != "SAME":
        return x
    (t, b), (l, r) = (same_pads(x.shape[1], kernel[0], stride[0]), same_pads(x.shape[2], kernel[1], stride[1]))
    return np.pad(x, ((0, 0), (t, b), (l, r), (0, 0)), constant_values=value)


def _windows(x: np.ndarray, kernel: tuple[int, int], stride: tuple[int, int], padding: str,
             value: float = 0.0, dilation: tuple[int, int] = (1, 1)) -> np.ndarray:
    """[N, Ho, Wo, C, kh, kw] view of the (padded) input."""
    extent = (dilated(kernel[0], dilation[0]), dilated(kernel[1], dilation[1]))
    xp = _pad(x, extent, stride, padding, value)
    win = sliding_window_view(xp, extent, axis=(1, 2))[:, ::stride[0], ::stride[1]]
    return win[..., ::dilation[0], ::dilation[1]]


def activate(z: np.ndarray, act: str) -> np.ndarray:
    if act == "RELU":
        return np.maximum(z, 0.0)
    if act == "RELU6":
        return np.clip(z, 0.0, 6.0)
    return z


def linear(node: Node, x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pre-activation output of CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED."""
    if node.op == "FULLY_CONNECTED":
        rows = x.reshape(-1, w.shape[1]) @ w.T + b  # TFLite reads an N-D input as rows of K values
        return rows.reshape(*x.shape[:-1], -1) if node.attrs.get("keep_num_dims") else rows
    kernel = w.shape[1:3]
    win = _windows(x, kernel, node.attrs["stride"], node.attrs["padding"], dilation=node.attrs.get("dilation", (1, 1)))
    if node.op == "CONV_2D":
        groups = x.shape[-1] // w.shape[-1]  # grouped conv: each filter group reads its input channels
        if groups > 1:
            g_in, g_out = w.shape[-1], w.shape[0] // groups
            return np.concatenate([np.einsum("nhwcij,oijc->nhwo", win[..., k * g_in:(k + 1) * g_in, :, :],
                                             w[k * g_out:(k + 1) * g_out], optimize=True) for k in range(groups)],
                                  axis=-1) + b
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


def _source_coords(size_in: int, size_out: int, align_corners: bool, half_pixel: bool) -> np.ndarray:
    scale = (size_in - 1) / (size_out - 1) if align_corners and size_out > 1 else size_in / size_out
    pos = (np.arange(size_out) + 0.5) * scale - 0.5 if half_pixel else np.arange(size_out) * scale
    return np.clip(pos, 0.0, size_in - 1)


def resize_bilinear(node: Node, x: np.ndarray) -> np.ndarray:
    """Bilinear interpolation with TFLite's coordinate conventions (align_corners / half pixel)."""
    a = node.attrs
    ys = _source_coords(x.shape[1], a["size"][0], a["align_corners"], a["half_pixel_centers"])
    xs = _source_coords(x.shape[2], a["size"][1], a["align_corners"], a["half_pixel_centers"])
    y0, x0 = np.floor(ys).astype(int), np.floor(xs).astype(int)
    y1, x1 = np.minimum(y0 + 1, x.shape[1] - 1), np.minimum(x0 + 1, x.shape[2] - 1)
    fy, fx = (ys - y0)[None, :, None, None], (xs - x0)[None, None, :, None]
    top = x[:, y0][:, :, x0] * (1 - fx) + x[:, y0][:, :, x1] * fx
    bottom = x[:, y1][:, :, x0] * (1 - fx) + x[:, y1][:, :, x1] * fx
    return top * (1 - fy) + bottom * fy


def transpose_conv(node: Node, x: np.ndarray, w: np.ndarray, b: np.ndarray, out_shape: tuple[int, ...]) -> np.ndarray:
    """out[y·s + i − pad] += x[y]·w[o, i]: the adjoint of a strided conv (TFLite's padding)."""
    s = node.attrs["stride"][0]
    _, kh, kw, _ = w.shape
    oh, ow = out_shape[1:3]
    pt = same_pads(oh, kh, s)[0] if node.attrs["padding"] == "SAME" else 0
    pl = same_pads(ow, kw, s)[0] if node.attrs["padding"] == "SAME" else 0
    n, h, wd, _ = x.shape
    full = np.zeros((n, (h - 1) * s + kh, (wd - 1) * s + kw, w.shape[0]))
    for i in range(kh):
        for j in range(kw):
            full[:, i:i + (h - 1) * s + 1:s, j:j + (wd - 1) * s + 1:s] += np.einsum("nhwc,oc->nhwo", x, w[:, i, j])
    return full[:, pt:pt + oh, pl:pl + ow] + b


def svdf(graph: Graph, node: Node, env: dict[str, np.ndarray]) -> np.ndarray:
    """One SVDF step from the initial (zero) state: only the newest memory slot is non-zero.

    The new state column (the feature projection) is recorded in `env` under the state
    tensor's name, so calibration gives the int16 state its range.
    """
    x = env[node.inputs[0]]
    wf, wt, b = (graph.tensors[n].data for n in node.inputs[1:4])
    feat = x @ wf.T
    env[node.inputs[4]] = feat
    time = feat * wt[:, -1]
    return activate(time.reshape(x.shape[0], -1, node.attrs["rank"]).sum(axis=-1) + b, node.attrs["act"])


def gelu(x: np.ndarray) -> np.ndarray:
    """The tanh approximation (TFLite's GELU option approximate=true; exact erf is close)."""
    return 0.5 * x * (1.0 + np.tanh(np.sqrt(2.0 / np.pi) * (x + 0.044715 * x ** 3)))


def hard_swish(x: np.ndarray) -> np.ndarray:
    return x * np.clip(x + 3.0, 0.0, 6.0) / 6.0


def _batched(index: tuple) -> tuple:
    """A model-shape index applied to a batch: axis 0 (size 1 in the model) keeps every sample."""
    return (slice(None), *index[1:]) if index and index[0] is not Ellipsis else index


def resize_nearest(x: np.ndarray, size: tuple[int, int], align_corners: bool, half_pixel: bool) -> np.ndarray:
    """TFLite's nearest-neighbour source index per output row/column (float math as the kernel)."""
    def source(out: int, inp: int) -> np.ndarray:
        scale = (inp - 1) / (out - 1) if align_corners and out > 1 else inp / out
        pos = (np.arange(out) + (0.5 if half_pixel else 0.0)) * scale
        idx = np.floor(pos + 0.5 if align_corners else pos).astype(int)  # TfLiteRound: half away from 0
        return np.minimum(idx, inp - 1)
    return x[:, source(size[0], x.shape[1])][:, :, source(size[1], x.shape[2])]


def _data_movement(node: Node, x: np.ndarray, env: dict[str, np.ndarray]):
    a = node.attrs
    if node.op == "CONCATENATION":
        return np.concatenate([env[i] for i in node.inputs], axis=a["axis"])
    if node.op == "SPLIT":
        return np.split(env[node.inputs[1]], a["num"], axis=a["axis"])
    if node.op == "SPLIT_V":
        return np.split(x, np.cumsum(a["sizes"])[:-1], axis=a["axis"])
    if node.op == "PACK":
        return np.stack([env[i] for i in node.inputs], axis=a["axis"])
    if node.op == "UNPACK":
        return [np.take(x, i, axis=a["axis"]) for i in range(a["num"])]
    if node.op == "SLICE":
        index = tuple(slice(b, None if s < 0 else b + s) for b, s in zip(a["begin"], a["size"]))
        return x[_batched(index)]
    if node.op == "STRIDED_SLICE":
        return x[_batched(a["index"])]
    if node.op in ("PAD", "PADV2"):
        return np.pad(x, ((0, 0), *a["paddings"][1:]), constant_values=a["value"])
    if node.op == "TRANSPOSE":
        return x.transpose(a["perm"])
    if node.op == "SQUEEZE":
        return np.squeeze(x, axis=a["dims"])
    if node.op == "EXPAND_DIMS":
        return np.expand_dims(x, a["axis"])
    if node.op == "GATHER":
        return np.take(x, a["indices"], axis=a["axis"])
    return _more_movement(node, x)


def _more_movement(node: Node, x: np.ndarray):
    """DEPTH_TO_SPACE, SPACE_TO_DEPTH, *_ND, BROADCAST_TO, TILE, MIRROR_PAD, REVERSE_V2, GATHER_ND."""
    a, op = node.attrs, node.op
    if op in ("DEPTH_TO_SPACE", "SPACE_TO_DEPTH"):
        n, h, w, c = x.shape
        b = a["block"]
        if op == "DEPTH_TO_SPACE":
            return x.reshape(n, h, w, b, b, c // (b * b)).transpose(0, 1, 3, 2, 4, 5).reshape(n, h * b, w * b, -1)
        return x.reshape(n, h // b, b, w // b, b, c).transpose(0, 1, 3, 2, 4, 5).reshape(n, h // b, w // b, -1)
    if op == "SPACE_TO_BATCH_ND":  # batch-major: out batch = (i·bw + j)·N + n
        (bh, bw), (pt, pb), (pl, pr) = a["block"], *a["paddings"]
        xp = np.pad(x, ((0, 0), (pt, pb), (pl, pr), (0, 0)))
        n, h, w, c = xp.shape
        return xp.reshape(n, h // bh, bh, w // bw, bw, c).transpose(2, 4, 0, 1, 3, 5).reshape(-1, h // bh, w // bw, c)
    if op == "BATCH_TO_SPACE_ND":
        (bh, bw), (ct, cb), (cl, cr) = a["block"], *a["crops"]
        nb, h, w, c = x.shape
        n = nb // (bh * bw)
        full = x.reshape(bh, bw, n, h, w, c).transpose(2, 3, 0, 4, 1, 5).reshape(n, h * bh, w * bw, c)
        return full[:, ct:h * bh - cb, cl:w * bw - cr]
    if op == "BROADCAST_TO":
        return np.broadcast_to(x, (x.shape[0], *node_shape(node, x)[1:]))
    if op == "TILE":
        return np.tile(x, (1, *a["multiples"][1:]))
    if op == "MIRROR_PAD":
        mode = "reflect" if a["mode"] == "REFLECT" else "symmetric"
        return np.pad(x, ((0, 0), *a["paddings"][1:]), mode=mode)
    if op == "REVERSE_V2":
        return np.flip(x, axis=a["axes"])
    if op == "GATHER_ND":  # indices address the model's axes; the batch axis is 1 in the model
        idx = a["indices"]
        return np.stack([x[(k, *tuple(idx[..., i] for i in range(idx.shape[-1]))[1:])] for k in range(x.shape[0])])
    return None


def node_shape(node: Node, x: np.ndarray) -> tuple[int, ...]:
    return tuple(node.attrs.get("target", x.shape))


def bind(node: Node, result) -> dict[str, np.ndarray]:
    """`run_node`'s result by output tensor name."""
    return dict(zip(node.outputs, result)) if len(node.outputs) > 1 else {node.output: result}


def run_node(graph: Graph, node: Node, env: dict[str, np.ndarray]):
    """Evaluate one node on a batch (`env` maps tensor name to value); a list for several outputs."""
    x = env.get(node.inputs[0])  # SPLIT's first operand is its (constant) axis
    if node.op == "RESIZE_NEAREST_NEIGHBOR":
        size = tuple(graph.shape(node.output)[1:3])
        return resize_nearest(x, size, node.attrs["align_corners"], node.attrs["half_pixel_centers"])
    moved = _data_movement(node, x, env)
    if moved is not None:
        return moved
    if node.op == "MAXIMUM":
        return np.maximum(x, env[node.inputs[1]])
    if node.op == "MINIMUM":
        return np.minimum(x, env[node.inputs[1]])
    if node.op in ("RELU", "RELU6"):
        return activate(x, node.op)
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
    if node.op in ("MUL", "SUB", "SQUARED_DIFFERENCE", "DIV"):
        y = env[node.inputs[1]]
        value = {"MUL": lambda: x * y, "SUB": lambda: x - y, "SQUARED_DIFFERENCE": lambda: (x - y) ** 2,
                 "DIV": lambda: x / y}[node.op]()
        return activate(value, node.attrs.get("act", "NONE"))
    reducers = {"MEAN": np.mean, "SUM": np.sum, "REDUCE_MAX": np.max, "REDUCE_MIN": np.min}
    if node.op in reducers:
        return reducers[node.op](x, axis=tuple(node.attrs["axes"]), keepdims=node.attrs["keep_dims"])
    if node.op in ("ARG_MAX", "ARG_MIN"):
        return (np.argmax if node.op == "ARG_MAX" else np.argmin)(x, axis=node.attrs["axis"]).astype(np.float64)
    if node.op == "L2_NORMALIZATION":
        return x / np.sqrt(np.maximum((x * x).sum(axis=-1, keepdims=True), 1e-6))
    if node.op == "LOG_SOFTMAX":
        return np.log(softmax(x))
    unary = {"LOGISTIC": lambda v: 1.0 / (1.0 + np.exp(-v)), "TANH": np.tanh, "HARD_SWISH": hard_swish,
             "LEAKY_RELU": lambda v: np.where(v > 0, v, v * node.attrs.get("alpha", 0.0)),
             "QUANTIZE": lambda v: v, "EXP": np.exp, "ELU": lambda v: np.where(v < 0, np.expm1(v), v),
             "GELU": gelu, "LOG": lambda v: np.log(np.maximum(v, 1e-3)), "RSQRT": lambda v: 1.0 / np.sqrt(np.abs(v) + 0.05),
             "ABS": np.abs, "NEG": np.negative}
    if node.op in unary:
        return unary[node.op](x)
    if node.op == "PRELU":
        alpha = graph.tensors[node.inputs[1]].data
        return np.where(x >= 0, x, x * alpha)
    if node.op == "RESIZE_BILINEAR":
        return resize_bilinear(node, x)
    if node.op == "SVDF":
        return svdf(graph, node, env)
    if node.op == seq_models.LSTM:  # seq: float LSTM for calibration
        return seq_models.lstm_forward(graph, node, env)
    if node.op == "TRANSPOSE_CONV":
        w, b = (graph.tensors[n].data for n in node.inputs[1:4:2])
        return transpose_conv(node, env[node.inputs[2]], w, b, graph.shape(node.output))
    raise NotImplementedError(node.op)
