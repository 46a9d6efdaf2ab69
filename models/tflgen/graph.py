"""A tiny float graph IR with TFLite's op vocabulary (NHWC, OHWI weights).

Builders generate He-style float weights from a seeded generator; shapes are
inferred with TFLite's padding rules so the written model matches the graph.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

ACTIVATIONS = ("NONE", "RELU", "RELU6")


@dataclass
class TensorDef:
    """A tensor of the graph. `data` is set for constants (float64 weights/bias, int32 shapes)."""

    name: str
    shape: tuple[int, ...]
    kind: str = "act"  # act | weight | weight16 | bias | shape | alpha | state
    data: np.ndarray | None = None
    quant_axis: int | None = None  # per-channel axis of a weight (None: per-tensor)


@dataclass
class Node:
    op: str
    inputs: list[str]
    output: str
    attrs: dict = field(default_factory=dict)
    more_outputs: list[str] = field(default_factory=list)  # SPLIT / UNPACK: outputs after the first

    @property
    def outputs(self) -> list[str]:
        return [self.output, *self.more_outputs]


def out_size(size: int, kernel: int, stride: int, padding: str) -> int:
    if padding == "SAME":
        return -(-size // stride)
    return (size - kernel) // stride + 1


def dilated(kernel: int, dilation: int) -> int:
    """Extent of a dilated kernel."""
    return (kernel - 1) * dilation + 1


def strided_slice_index(shape: tuple[int, ...], begin: list[int], end: list[int], strides: list[int],
                        begin_mask: int = 0, end_mask: int = 0, ellipsis_mask: int = 0,
                        shrink_axis_mask: int = 0) -> tuple:
    """The numpy index that TFLite's STRIDED_SLICE (no new_axis_mask) selects."""
    index: list = []
    for i, (b, e, s) in enumerate(zip(begin, end, strides)):
        bit = 1 << i
        if ellipsis_mask & bit:
            index.append(Ellipsis)
        elif shrink_axis_mask & bit:
            index.append(b)
        else:
            index.append(slice(None if begin_mask & bit else b, None if end_mask & bit else e, s))
    return tuple(index)


def same_pads(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TFLite SAME padding: the extra pixel (odd total) goes after."""
    total = max((out_size(size, kernel, stride, "SAME") - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


@dataclass
class Graph:
    """Builds a model layer by layer; each builder returns its output tensor name."""

    name: str
    seed: int
    tensors: dict[str, TensorDef] = field(default_factory=dict)
    nodes: list[Node] = field(default_factory=list)
    inputs: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.rng = np.random.default_rng(self.seed)

    # -- helpers -------------------------------------------------------------
    def shape(self, name: str) -> tuple[int, ...]:
        return self.tensors[name].shape

    def _add(self, tensor: TensorDef) -> str:
        if tensor.name in self.tensors:
            raise ValueError(f"duplicate tensor name {tensor.name!r}")
        self.tensors[tensor.name] = tensor
        return tensor.name

    def _node(self, op: str, inputs: list[str], out: str, shape: tuple[int, ...], **attrs) -> str:
        self._add(TensorDef(out, shape))
        self.nodes.append(Node(op, inputs, out, attrs))
        return out

    def _multi(self, op: str, inputs: list[str], name: str, shapes: list[tuple[int, ...]], **attrs) -> list[str]:
        """A node with one output per shape, named `name:0`, `name:1`, ..."""
        outs = [self._add(TensorDef(f"{name}:{i}", tuple(s))) for i, s in enumerate(shapes)]
        self.nodes.append(Node(op, inputs, outs[0], attrs, outs[1:]))
        return outs

    def _ints(self, name: str, values, kind: str = "shape") -> str:
        """An int32 constant operand (axis, shape, paddings, indices, ...)."""
        data = np.asarray(values, np.int32)
        return self._add(TensorDef(name, data.shape, kind, data))

    def _he(self, shape: tuple[int, ...], fan_in: int) -> np.ndarray:
        return self.rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)

    def _bias(self, name: str, n: int) -> str:
        return self._add(TensorDef(name, (n,), "bias", self.rng.standard_normal(n) * 0.05, 0))

    # -- graph edges ---------------------------------------------------------
    def input(self, name: str, shape: tuple[int, ...]) -> str:
        self._add(TensorDef(name, tuple(shape)))
        self.inputs.append(name)
        return name

    def output(self, *names: str) -> None:
        self.outputs.extend(names)

    # -- layers --------------------------------------------------------------
    def conv2d(self, x: str, name: str, filters: int, kernel: tuple[int, int], stride: int | tuple[int, int] = 1,
               padding: str = "SAME", act: str = "NONE", dilation: tuple[int, int] = (1, 1), groups: int = 1) -> str:
        """`groups` > 1: a grouped conv (weights [filters, kh, kw, C / groups]), as TF >= 2.9 writes it."""
        n, h, w, c = self.shape(x)
        kh, kw = kernel
        sh, sw = (stride, stride) if isinstance(stride, int) else stride
        ci = c // groups
        wt = self._add(TensorDef(f"{name}/weights", (filters, kh, kw, ci), "weight",
                                 self._he((filters, kh, kw, ci), kh * kw * ci), 0))
        b = self._bias(f"{name}/bias", filters)
        ekh, ekw = dilated(kh, dilation[0]), dilated(kw, dilation[1])
        shape = (n, out_size(h, ekh, sh, padding), out_size(w, ekw, sw, padding), filters)
        extra = {"dilation": tuple(dilation)} if tuple(dilation) != (1, 1) else {}
        return self._node("CONV_2D", [x, wt, b], name, shape, stride=(sh, sw), padding=padding, act=act, **extra)

    def depthwise(self, x: str, name: str, kernel: tuple[int, int], stride: int = 1, padding: str = "SAME",
                  act: str = "NONE", multiplier: int = 1, dilation: tuple[int, int] = (1, 1)) -> str:
        n, h, w, c = self.shape(x)
        kh, kw = kernel
        co = c * multiplier
        wt = self._add(TensorDef(f"{name}/weights", (1, kh, kw, co), "weight",
                                 self._he((1, kh, kw, co), kh * kw), 3))
        b = self._bias(f"{name}/bias", co)
        ekh, ekw = dilated(kh, dilation[0]), dilated(kw, dilation[1])
        shape = (n, out_size(h, ekh, stride, padding), out_size(w, ekw, stride, padding), co)
        extra = {"dilation": tuple(dilation)} if tuple(dilation) != (1, 1) else {}
        return self._node("DEPTHWISE_CONV_2D", [x, wt, b], name, shape, stride=(stride, stride),
                          padding=padding, act=act, multiplier=multiplier, **extra)

    def fully_connected(self, x: str, name: str, units: int, act: str = "NONE", keep_num_dims: bool = False,
                        k: int | None = None, per_channel: bool = False) -> str:
        """TFLite FC: an N-D input is read as rows of `k` (default: its last dimension) values.

        `per_channel`: weights quantized per output unit (axis 0), as TF >= 2.15's converter does.
        """
        shape_in = self.shape(x)
        k = k if k is not None else shape_in[-1]
        wt = self._add(TensorDef(f"{name}/weights", (units, k), "weight", self._he((units, k), k),
                                 0 if per_channel else None))
        b = self._bias(f"{name}/bias", units)
        shape = (*shape_in[:-1], units) if keep_num_dims else (int(np.prod(shape_in)) // k, units)
        extra = {"keep_num_dims": True} if keep_num_dims else {}
        return self._node("FULLY_CONNECTED", [x, wt, b], name, shape, act=act, **extra)

    def pool(self, op: str, x: str, name: str, size: tuple[int, int], stride: int | tuple[int, int],
             padding: str = "VALID", act: str = "NONE") -> str:
        n, h, w, c = self.shape(x)
        sh, sw = (stride, stride) if isinstance(stride, int) else stride
        shape = (n, out_size(h, size[0], sh, padding), out_size(w, size[1], sw, padding), c)
        return self._node(op, [x], name, shape, size=tuple(size), stride=(sh, sw), padding=padding, act=act)

    def avg_pool(self, x: str, name: str, size: tuple[int, int], stride: int | tuple[int, int] | None = None,
                 padding: str = "VALID") -> str:
        return self.pool("AVERAGE_POOL_2D", x, name, size, stride if stride is not None else size, padding)

    def max_pool(self, x: str, name: str, size: tuple[int, int], stride: int | tuple[int, int] | None = None,
                 padding: str = "VALID") -> str:
        return self.pool("MAX_POOL_2D", x, name, size, stride if stride is not None else size, padding)

    def add(self, a: str, b: str, name: str, act: str = "NONE") -> str:
        if self.shape(a) != self.shape(b):
            raise ValueError(f"ADD {name}: shapes {self.shape(a)} and {self.shape(b)} differ")
        return self._node("ADD", [a, b], name, self.shape(a), act=act)

    def reshape(self, x: str, name: str, shape: tuple[int, ...]) -> str:
        if int(np.prod(shape)) != int(np.prod(self.shape(x))):
            raise ValueError(f"RESHAPE {name}: {self.shape(x)} -> {shape}")
        s = self._add(TensorDef(f"{name}/shape", (len(shape),), "shape", np.array(shape, np.int32)))
        return self._node("RESHAPE", [x, s], name, tuple(shape), new_shape=tuple(shape))

    def softmax(self, x: str, name: str) -> str:
        return self._node("SOFTMAX", [x], name, self.shape(x), beta=1.0)

    # -- elementwise, reductions, resize, transpose conv, requantize -------------
    def binary(self, op: str, a: str, b: str, name: str, act: str = "NONE") -> str:
        """MUL / SUB / MAXIMUM / MINIMUM / SQUARED_DIFFERENCE / DIV with TFLite broadcasting."""
        shape = tuple(int(d) for d in np.broadcast_shapes(self.shape(a), self.shape(b)))
        return self._node(op, [a, b], name, shape, act=act)

    def reduce(self, op: str, x: str, name: str, axes: tuple[int, ...], keep_dims: bool = True) -> str:
        """MEAN / SUM / REDUCE_MAX / REDUCE_MIN over `axes` (an int32 constant input)."""
        shape = self.shape(x)
        ax = self._add(TensorDef(f"{name}/axis", (len(axes),), "shape", np.array(axes, np.int32)))
        out = tuple(1 if i in axes else d for i, d in enumerate(shape)) if keep_dims else \
            tuple(d for i, d in enumerate(shape) if i not in axes)
        return self._node(op, [x, ax], name, out, axes=tuple(axes), keep_dims=keep_dims)

    def unary(self, op: str, x: str, name: str, **attrs) -> str:
        """LOGISTIC, TANH, HARD_SWISH, LEAKY_RELU (alpha=...), RELU, RELU6: same shape as the input."""
        return self._node(op, [x], name, self.shape(x), **attrs)

    def prelu(self, x: str, name: str) -> str:
        """PRELU with a constant per-channel alpha of shape [1, 1, C] (as the converter writes it)."""
        c = self.shape(x)[-1]
        alpha = self._add(TensorDef(f"{name}/alpha", (1, 1, c), "alpha", self.rng.uniform(-0.1, 0.4, (1, 1, c))))
        return self._node("PRELU", [x, alpha], name, self.shape(x))

    def resize_bilinear(self, x: str, name: str, size: tuple[int, int], align_corners: bool = False,
                        half_pixel_centers: bool = False) -> str:
        n, _, _, c = self.shape(x)
        s = self._add(TensorDef(f"{name}/size", (2,), "shape", np.array(size, np.int32)))
        return self._node("RESIZE_BILINEAR", [x, s], name, (n, *size, c), size=tuple(size),
                          align_corners=align_corners, half_pixel_centers=half_pixel_centers)

    def transpose_conv(self, x: str, name: str, filters: int, kernel: tuple[int, int], stride: int,
                       padding: str = "SAME") -> str:
        """TRANSPOSE_CONV (inputs: output shape, OHWI weights, input, bias)."""
        n, h, w, c = self.shape(x)
        kh, kw = kernel
        oh, ow = (h * stride, w * stride) if padding == "SAME" else \
            ((h - 1) * stride + kh, (w - 1) * stride + kw)
        shape = (n, oh, ow, filters)
        os_ = self._add(TensorDef(f"{name}/output_shape", (4,), "shape", np.array(shape, np.int32)))
        wt = self._add(TensorDef(f"{name}/weights", (filters, kh, kw, c), "weight",
                                 self._he((filters, kh, kw, c), kh * kw * c / (stride * stride)), 0))
        b = self._bias(f"{name}/bias", filters)
        return self._node("TRANSPOSE_CONV", [os_, wt, x, b], name, shape, stride=(stride, stride), padding=padding)

    def svdf(self, x: str, name: str, units: int, rank: int, memory: int) -> str:
        """SVDF (int8 input, int16 time weights and state): feature projection, time filter, rank sum."""
        n, size = self.shape(x)
        filters = units * rank
        wf = self._add(TensorDef(f"{name}/weights_feature", (filters, size), "weight",
                                 self._he((filters, size), size), None))
        wt = self._add(TensorDef(f"{name}/weights_time", (filters, memory), "weight16",
                                 self.rng.standard_normal((filters, memory)) * 0.5))
        b = self._bias(f"{name}/bias", units)
        state = self._add(TensorDef(f"{name}/state", (n, filters * memory), "state"))
        # TFLite's int8 SVDF requires a fused RELU (and realizes it through the output's zero point -128).
        return self._node("SVDF", [x, wf, wt, b, state], name, (n, units), rank=rank, memory=memory, act="RELU")

    def requantize(self, x: str, name: str, range_gain: float, range_shift: float = 0.0) -> str:
        """QUANTIZE int8 -> int8 onto a range `range_gain` times wider, shifted by `range_shift`."""
        return self._node("QUANTIZE", [x], name, self.shape(x), range_gain=range_gain, range_shift=range_shift)
    # -- data movement and elementwise (output quantization = input's, except RELU/RELU6) --
    def concat(self, xs: list[str], name: str, axis: int) -> str:
        shapes = [self.shape(x) for x in xs]
        ax = axis % len(shapes[0])
        shape = list(shapes[0])
        shape[ax] = sum(s[ax] for s in shapes)
        return self._node("CONCATENATION", list(xs), name, tuple(shape), axis=axis)

    def split(self, x: str, name: str, num: int, axis: int) -> list[str]:
        shape = list(self.shape(x))
        if shape[axis] % num:
            raise ValueError(f"SPLIT {name}: {shape[axis]} not divisible by {num}")
        shape[axis] //= num
        ax = self._ints(f"{name}/axis", axis)
        return self._multi("SPLIT", [ax, x], name, [tuple(shape)] * num, axis=axis, num=num)

    def split_v(self, x: str, name: str, sizes: list[int], axis: int) -> list[str]:
        shapes = []
        for size in sizes:
            shape = list(self.shape(x))
            shape[axis] = size
            shapes.append(tuple(shape))
        sz, ax = self._ints(f"{name}/sizes", sizes), self._ints(f"{name}/axis", axis)
        return self._multi("SPLIT_V", [x, sz, ax], name, shapes, axis=axis, sizes=tuple(sizes))

    def pack(self, xs: list[str], name: str, axis: int) -> str:
        shape = list(self.shape(xs[0]))
        shape.insert(axis, len(xs))
        return self._node("PACK", list(xs), name, tuple(shape), axis=axis, count=len(xs))

    def unpack(self, x: str, name: str, axis: int) -> list[str]:
        shape = list(self.shape(x))
        num = shape.pop(axis)
        return self._multi("UNPACK", [x], name, [tuple(shape)] * num, axis=axis, num=num)

    def slice(self, x: str, name: str, begin: list[int], size: list[int]) -> str:
        shape = tuple(s if s >= 0 else d - b for d, b, s in zip(self.shape(x), begin, size))
        b, sz = self._ints(f"{name}/begin", begin), self._ints(f"{name}/size", size)
        return self._node("SLICE", [x, b, sz], name, shape, begin=tuple(begin), size=tuple(size))

    def strided_slice(self, x: str, name: str, begin: list[int], end: list[int], strides: list[int],
                      **masks: int) -> str:
        """masks: begin_mask, end_mask, ellipsis_mask, shrink_axis_mask (TFLite bit masks)."""
        index = strided_slice_index(self.shape(x), begin, end, strides, **masks)
        shape = np.zeros(self.shape(x))[index].shape
        ins = [x, self._ints(f"{name}/begin", begin), self._ints(f"{name}/end", end),
               self._ints(f"{name}/strides", strides)]
        return self._node("STRIDED_SLICE", ins, name, tuple(shape), index=index, masks=dict(masks))

    def pad(self, x: str, name: str, paddings: list[tuple[int, int]], value: float | None = None) -> str:
        """PAD (zero, i.e. the zero point) or PADV2 with a float constant (quantized like x)."""
        shape = tuple(d + a + b for d, (a, b) in zip(self.shape(x), paddings))
        ins = [x, self._ints(f"{name}/paddings", paddings)]
        if value is None:
            return self._node("PAD", ins, name, shape, paddings=tuple(paddings), value=0.0)
        ins.append(self._add(TensorDef(f"{name}/value", (), "same_as_input", np.array(value))))
        return self._node("PADV2", ins, name, shape, paddings=tuple(paddings), value=value)

    def transpose(self, x: str, name: str, perm: list[int]) -> str:
        shape = tuple(self.shape(x)[p] for p in perm)
        return self._node("TRANSPOSE", [x, self._ints(f"{name}/perm", perm)], name, shape, perm=tuple(perm))

    def resize_nearest(self, x: str, name: str, size: tuple[int, int], align_corners: bool = False,
                       half_pixel_centers: bool = False) -> str:
        n, _, _, c = self.shape(x)
        return self._node("RESIZE_NEAREST_NEIGHBOR", [x, self._ints(f"{name}/size", size)], name,
                          (n, *size, c), align_corners=align_corners, half_pixel_centers=half_pixel_centers)

    def squeeze(self, x: str, name: str, dims: list[int]) -> str:
        shape = tuple(d for i, d in enumerate(self.shape(x)) if i not in dims)
        return self._node("SQUEEZE", [x], name, shape, dims=tuple(dims))

    def expand_dims(self, x: str, name: str, axis: int) -> str:
        shape = list(self.shape(x))
        shape.insert(axis, 1)
        return self._node("EXPAND_DIMS", [x, self._ints(f"{name}/axis", [axis])], name, tuple(shape), axis=axis)

    def gather(self, x: str, name: str, indices: list[int], axis: int) -> str:
        shape = list(self.shape(x))
        shape[axis:axis + 1] = np.shape(indices)
        idx = self._ints(f"{name}/indices", indices, "indices")
        return self._node("GATHER", [x, idx], name, tuple(shape), axis=axis, indices=tuple(indices))

    # -- further TFLite Micro ops (issue #11 follow-up: what TFLM registers) ----
    def depth_to_space(self, x: str, name: str, block: int) -> str:
        n, h, w, c = self.shape(x)
        return self._node("DEPTH_TO_SPACE", [x], name, (n, h * block, w * block, c // (block * block)), block=block)

    def space_to_depth(self, x: str, name: str, block: int) -> str:
        n, h, w, c = self.shape(x)
        return self._node("SPACE_TO_DEPTH", [x], name, (n, h // block, w // block, c * block * block), block=block)

    def space_to_batch(self, x: str, name: str, block: list[int], paddings: list[tuple[int, int]]) -> str:
        """SPACE_TO_BATCH_ND over H, W (padded with the zero point, as TFLite's quantized kernel)."""
        n, h, w, c = self.shape(x)
        (pt, pb), (pl, pr) = paddings
        shape = (n * block[0] * block[1], (h + pt + pb) // block[0], (w + pl + pr) // block[1], c)
        ins = [x, self._ints(f"{name}/block", block), self._ints(f"{name}/paddings", paddings)]
        return self._node("SPACE_TO_BATCH_ND", ins, name, shape, block=tuple(block), paddings=tuple(paddings))

    def batch_to_space(self, x: str, name: str, block: list[int], crops: list[tuple[int, int]]) -> str:
        n, h, w, c = self.shape(x)
        (ct, cb), (cl, cr) = crops
        shape = (n // (block[0] * block[1]), h * block[0] - ct - cb, w * block[1] - cl - cr, c)
        ins = [x, self._ints(f"{name}/block", block), self._ints(f"{name}/crops", crops)]
        return self._node("BATCH_TO_SPACE_ND", ins, name, shape, block=tuple(block), crops=tuple(crops))

    def arg_max(self, x: str, name: str, axis: int, op: str = "ARG_MAX") -> str:
        """ARG_MAX / ARG_MIN: an int32 index tensor (not quantized)."""
        shape = tuple(d for i, d in enumerate(self.shape(x)) if i != axis % len(self.shape(x)))
        self._add(TensorDef(name, shape, "index"))
        self.nodes.append(Node(op, [x, self._ints(f"{name}/axis", [axis])], name, {"axis": axis}))
        return name

    def broadcast_to(self, x: str, name: str, shape: tuple[int, ...]) -> str:
        return self._node("BROADCAST_TO", [x, self._ints(f"{name}/shape", shape)], name, tuple(shape),
                          target=tuple(shape))

    def tile(self, x: str, name: str, multiples: list[int]) -> str:
        shape = tuple(d * m for d, m in zip(self.shape(x), multiples))
        return self._node("TILE", [x, self._ints(f"{name}/multiples", multiples)], name, shape,
                          multiples=tuple(multiples))

    def mirror_pad(self, x: str, name: str, paddings: list[tuple[int, int]], mode: str = "REFLECT") -> str:
        shape = tuple(d + a + b for d, (a, b) in zip(self.shape(x), paddings))
        return self._node("MIRROR_PAD", [x, self._ints(f"{name}/paddings", paddings)], name, shape,
                          paddings=tuple(paddings), mode=mode)

    def reverse(self, x: str, name: str, axes: list[int]) -> str:
        return self._node("REVERSE_V2", [x, self._ints(f"{name}/axis", axes)], name, self.shape(x), axes=tuple(axes))

    def gather_nd(self, x: str, name: str, indices: list[list[int]]) -> str:
        idx = np.asarray(indices, np.int32)
        shape = (*idx.shape[:-1], *self.shape(x)[idx.shape[-1]:])
        return self._node("GATHER_ND", [x, self._ints(f"{name}/indices", idx, "indices")], name, shape,
                          indices=idx)

    # -- facts ---------------------------------------------------------------
    def macs(self) -> int:
        total = 0
        for node in self.nodes:
            out = self.shape(node.output)
            if node.op == "CONV_2D":
                _, kh, kw, ci = self.shape(node.inputs[1])
                total += int(np.prod(out)) * kh * kw * ci
            elif node.op == "DEPTHWISE_CONV_2D":
                _, kh, kw, _ = self.shape(node.inputs[1])
                total += int(np.prod(out)) * kh * kw
            elif node.op == "TRANSPOSE_CONV":
                o, kh, kw, _ = self.shape(node.inputs[1])
                total += int(np.prod(self.shape(node.inputs[2]))) * o * kh * kw
            elif node.op == "FULLY_CONNECTED":
                total += int(np.prod(out)) * self.shape(node.inputs[1])[1]
            elif node.op == "UNIDIRECTIONAL_SEQUENCE_LSTM":  # floatops: gates' input and recurrent matmuls
                total += int(np.prod(out)) * len(node.attrs["gates"]) * (self.shape(node.inputs[0])[-1] + out[-1])
        return total
