"""Single-op and few-op models for compiler tests, one feature each."""

from __future__ import annotations

import zlib
from typing import Callable

from .graph import Graph
from .spec import ModelSpec


def _conv(shape, filters, kernel, stride, padding, act="NONE") -> Callable[[Graph], None]:
    def body(g: Graph) -> None:
        g.output(g.conv2d(g.input("input", shape), "conv", filters, kernel, stride, padding, act))
    return body


def _dw(shape, kernel, stride, padding, act="NONE", multiplier=1) -> Callable[[Graph], None]:
    def body(g: Graph) -> None:
        g.output(g.depthwise(g.input("input", shape), "depthwise", kernel, stride, padding, act, multiplier))
    return body


def _pool(kind, shape, size, stride, padding) -> Callable[[Graph], None]:
    def body(g: Graph) -> None:
        g.output(g.pool(kind, g.input("input", shape), "pool", size, stride, padding))
    return body


def _add(act: str) -> Callable[[Graph], None]:
    def body(g: Graph) -> None:
        a = g.input("input_a", (1, 8, 8, 16))
        b = g.input("input_b", (1, 8, 8, 16))
        g.output(g.add(a, b, "add", act))
    return body


def _fc(act: str, per_channel: bool = False) -> Callable[[Graph], None]:
    def body(g: Graph) -> None:
        g.output(g.fully_connected(g.input("input", (1, 64)), "fc", 16, act, per_channel=per_channel))
    return body


def _reshape(g: Graph) -> None:
    g.output(g.reshape(g.input("input", (1, 4, 4, 8)), "reshape", (1, 128)))


def _softmax(g: Graph) -> None:
    g.output(g.softmax(g.input("input", (1, 10)), "softmax"))


def _conv_maxpool(g: Graph) -> None:
    x = g.conv2d(g.input("input", (1, 16, 16, 3)), "conv", 8, (3, 3), 1, "SAME", "RELU")
    g.output(g.max_pool(x, "maxpool", (2, 2)))


def _dw_pw(g: Graph) -> None:
    x = g.depthwise(g.input("input", (1, 12, 12, 8)), "depthwise", (3, 3), 2, "SAME", "RELU")
    g.output(g.conv2d(x, "pointwise", 16, (1, 1), 1, "SAME", "RELU6"))


def _conv_pool_fc_softmax(g: Graph) -> None:
    x = g.conv2d(g.input("input", (1, 8, 8, 4)), "conv", 8, (3, 3), 1, "VALID", "RELU")
    x = g.avg_pool(x, "avgpool", (6, 6))
    x = g.reshape(x, "flatten", (1, 8))
    g.output(g.softmax(g.fully_connected(x, "fc", 5), "softmax"))


def _residual(g: Graph) -> None:
    x = g.conv2d(g.input("input", (1, 8, 8, 8)), "conv1", 8, (3, 3), 1, "SAME", "RELU")
    y = g.conv2d(x, "conv2", 8, (3, 3), 1, "SAME")
    g.output(g.add(x, y, "add", "RELU"))


def _fc_fc(g: Graph) -> None:
    x = g.fully_connected(g.input("input", (1, 32)), "fc1", 24, "RELU")
    g.output(g.fully_connected(x, "fc2", 8))


def _binary(op: str, b_shape: tuple[int, ...], act: str = "NONE") -> Callable[[Graph], None]:
    def body(g: Graph) -> None:
        a = g.input("input_a", (1, 8, 8, 16))
        b = g.input("input_b", b_shape)
        g.output(g.binary(op, a, b, op.lower(), act))
    return body


def _reduce(op: str, shape: tuple[int, ...], axes: tuple[int, ...], keep_dims: bool) -> Callable[[Graph], None]:
    def body(g: Graph) -> None:
        g.output(g.reduce(op, g.input("input", shape), op.lower(), axes, keep_dims))
    return body


def _elementwise(op: str, **attrs) -> Callable[[Graph], None]:
    def body(g: Graph) -> None:
        g.output(g.unary(op, g.input("input", (1, 8, 8, 8)), op.lower(), **attrs))
    return body


def _prelu(g: Graph) -> None:
    g.output(g.prelu(g.input("input", (1, 8, 8, 8)), "prelu"))
def _two_inputs(op: str, shape_b: tuple[int, ...]) -> Callable[[Graph], None]:
    """MAXIMUM / MINIMUM of two inputs that share one quantization (as TFLite requires)."""
    def body(g: Graph) -> None:
        g.output(g.binary(op, g.input("input_a", (1, 6, 6, 8)), g.input("input_b", shape_b), op.lower()))
    return body


def _concat(g: Graph) -> None:
    a, b = g.input("input_a", (1, 6, 6, 5)), g.input("input_b", (1, 6, 6, 3))
    g.output(g.concat([a, b], "concat", axis=-1))


def _split_concat(g: Graph) -> None:
    parts = g.split(g.input("input", (1, 6, 6, 12)), "split", 3, axis=3)
    g.output(g.concat([parts[2], parts[0], parts[1]], "concat", axis=3))


def _split_v_concat(g: Graph) -> None:
    parts = g.split_v(g.input("input", (1, 5, 10, 4)), "split_v", [2, 5, 3], axis=2)
    g.output(g.concat(parts[::-1], "concat", axis=2))


def _unpack_pack(g: Graph) -> None:
    rows = g.unpack(g.input("input", (1, 4, 6, 3)), "unpack", axis=1)
    g.output(g.pack(rows[::-1], "pack", axis=2))


def _split_outputs(g: Graph) -> None:
    parts = g.split_v(g.input("input", (1, 4, 6, 5)), "split_v", [1, 3, 1], axis=3)
    g.output(*parts)  # every output of the op is a graph output


def _chain_movement(g: Graph) -> None:
    """Ten data-movement / elementwise ops in a row (their uint8 / int16 variants in one model)."""
    x = g.pad(g.input("input", (1, 6, 6, 8)), "pad", [(0, 0), (1, 1), (0, 2), (0, 0)])
    a, b = g.split(x, "split", 2, axis=3)
    x = g.unary("RELU6", g.binary("MAXIMUM", a, b, "maximum"), "relu6")
    x = g.resize_nearest(x, "resize", (12, 12), half_pixel_centers=True)
    x = g.strided_slice(x, "strided_slice", [0, 0, 0, 0], [1, 12, 12, 4], [1, 2, 3, 1])
    x = g.gather(g.transpose(x, "transpose", [0, 2, 1, 3]), "gather", [2, 0, 1], axis=1)
    rows = g.unpack(x, "unpack", axis=1)
    g.output(g.concat([g.pack(rows[::-1], "pack", axis=1), x], "concat", axis=3))


def _slice(g: Graph) -> None:
    g.output(g.slice(g.input("input", (1, 8, 8, 6)), "slice", [0, 1, 2, 1], [1, 5, -1, 4]))


def _strided_slice(g: Graph) -> None:
    g.output(g.strided_slice(g.input("input", (1, 9, 10, 6)), "strided_slice", [0, 1, 0, 5], [1, 8, 10, 0],
                             [1, 2, 3, -2], begin_mask=0b0100, end_mask=0b0001))


def _strided_slice_shrink(g: Graph) -> None:
    g.output(g.strided_slice(g.input("input", (1, 6, 7, 8)), "strided_slice", [0, 2, -3], [0, 3, 8], [1, 1, 2],
                             ellipsis_mask=0b001, shrink_axis_mask=0b010))


def _pad(value: float | None) -> Callable[[Graph], None]:
    def body(g: Graph) -> None:
        g.output(g.pad(g.input("input", (1, 6, 5, 4)), "pad", [(0, 0), (1, 2), (2, 0), (0, 1)], value))
    return body


def _unary(op: str) -> Callable[[Graph], None]:
    def body(g: Graph) -> None:
        g.output(g.unary(op, g.input("input", (1, 8, 8, 8)), op.lower()))
    return body


def _transpose(g: Graph) -> None:
    g.output(g.transpose(g.input("input", (1, 4, 6, 8)), "transpose", [0, 3, 1, 2]))


def _bilinear(size: tuple[int, int], align_corners: bool = False, half_pixel: bool = False) -> Callable[[Graph], None]:
    def body(g: Graph) -> None:
        g.output(g.resize_bilinear(g.input("input", (1, 5, 7, 4)), "resize", size, align_corners, half_pixel))
    return body


def _transpose_conv(stride: int, kernel: tuple[int, int], padding: str) -> Callable[[Graph], None]:
    def body(g: Graph) -> None:
        g.output(g.transpose_conv(g.input("input", (1, 6, 6, 8)), "transpose_conv", 8, kernel, stride, padding))
    return body


def _svdf(g: Graph) -> None:
    g.output(g.svdf(g.input("input", (1, 32)), "svdf", 8, 2, 6))


def _requantize(g: Graph) -> None:
    g.output(g.requantize(g.input("input", (1, 8, 8, 8)), "quantize", 1.7, 0.4))


def _conv_hardswish_mean(g: Graph) -> None:
    """A MobileNetV3-like tail: CONV_2D -> HARD_SWISH -> MEAN (global pool) -> MUL (gate) -> LOGISTIC."""
    x = g.conv2d(g.input("input", (1, 8, 8, 4)), "conv", 8, (3, 3), 1, "SAME")
    x = g.unary("HARD_SWISH", x, "hard_swish")
    m = g.reduce("MEAN", x, "mean", (1, 2), True)
    g.output(g.unary("LOGISTIC", g.binary("MUL", x, m, "gate"), "logistic"))


def _resize(size: tuple[int, int], align_corners: bool = False, half_pixel: bool = False) -> Callable[[Graph], None]:
    def body(g: Graph) -> None:
        g.output(g.resize_nearest(g.input("input", (1, 5, 7, 3)), "resize", size, align_corners, half_pixel))
    return body


def _squeeze(g: Graph) -> None:
    g.output(g.squeeze(g.input("input", (1, 1, 8, 1, 6)), "squeeze", [1, 3]))


def _expand_dims(g: Graph) -> None:
    g.output(g.expand_dims(g.input("input", (1, 8, 6)), "expand_dims", 2))


def _gather(g: Graph) -> None:
    g.output(g.gather(g.input("input", (1, 10, 8)), "gather", [3, 0, 9, 3, 5], axis=1))


def _fc_nd(shape: tuple[int, ...], keep_num_dims: bool, k: int | None = None) -> Callable[[Graph], None]:
    def body(g: Graph) -> None:
        g.output(g.fully_connected(g.input("input", shape), "fc", 8, "RELU", keep_num_dims, k))
    return body


def _conv_dilated(g: Graph) -> None:
    x = g.conv2d(g.input("input", (1, 12, 12, 4)), "conv", 8, (3, 3), 1, "SAME", "RELU", dilation=(2, 2))
    g.output(g.conv2d(x, "pointwise", 8, (1, 1)))  # an undilated layer that QVanilla takes


def _dw_dilated(g: Graph) -> None:
    g.output(g.depthwise(g.input("input", (1, 12, 11, 8)), "depthwise", (3, 3), 1, "VALID", "RELU6",
                         dilation=(2, 3)))


IMG = (1, 16, 16, 4)
BODIES: dict[str, tuple[str, Callable[[Graph], None]]] = {
    "conv_s1_same": ("CONV_2D 3x3 stride 1 SAME", _conv(IMG, 8, (3, 3), 1, "SAME")),
    "conv_s1_valid": ("CONV_2D 3x3 stride 1 VALID", _conv(IMG, 8, (3, 3), 1, "VALID")),
    "conv_s2_same": ("CONV_2D 3x3 stride 2 SAME on an even input (asymmetric padding 0/1)",
                     _conv(IMG, 8, (3, 3), 2, "SAME")),
    "conv_s2_valid": ("CONV_2D 3x3 stride 2 VALID on an odd input", _conv((1, 15, 15, 3), 8, (3, 3), 2, "VALID")),
    "conv_3x1_same": ("CONV_2D non-square 3x1 kernel, SAME", _conv(IMG, 6, (3, 1), 1, "SAME")),
    "conv_1x5_valid": ("CONV_2D non-square 1x5 kernel, VALID", _conv(IMG, 6, (1, 5), 1, "VALID")),
    "conv_5x3_s2_same": ("CONV_2D non-square 5x3 kernel, stride 2 SAME (asymmetric padding)",
                         _conv((1, 20, 12, 3), 8, (5, 3), 2, "SAME")),
    "conv_1x1": ("CONV_2D pointwise 1x1", _conv(IMG, 12, (1, 1), 1, "SAME")),
    "conv_relu": ("CONV_2D with fused RELU", _conv(IMG, 8, (3, 3), 1, "SAME", "RELU")),
    "conv_relu6": ("CONV_2D with fused RELU6", _conv(IMG, 8, (3, 3), 1, "SAME", "RELU6")),
    "dwconv_s1_same": ("DEPTHWISE_CONV_2D 3x3 stride 1 SAME", _dw(IMG, (3, 3), 1, "SAME")),
    "dwconv_s2_same_relu6": ("DEPTHWISE_CONV_2D 3x3 stride 2 SAME, fused RELU6",
                             _dw(IMG, (3, 3), 2, "SAME", "RELU6")),
    "dwconv_mult2_relu": ("DEPTHWISE_CONV_2D channel multiplier 2, fused RELU",
                          _dw(IMG, (3, 3), 1, "SAME", "RELU", 2)),
    "dwconv_3x1_valid": ("DEPTHWISE_CONV_2D non-square 3x1, VALID", _dw(IMG, (3, 1), 1, "VALID")),
    "maxpool_2x2_valid": ("MAX_POOL_2D 2x2 stride 2 VALID", _pool("MAX_POOL_2D", IMG, (2, 2), 2, "VALID")),
    "maxpool_3x3_s2_same": ("MAX_POOL_2D 3x3 stride 2 SAME", _pool("MAX_POOL_2D", IMG, (3, 3), 2, "SAME")),
    "avgpool_2x2_valid": ("AVERAGE_POOL_2D 2x2 stride 2 VALID", _pool("AVERAGE_POOL_2D", IMG, (2, 2), 2, "VALID")),
    "avgpool_3x3_s1_same": ("AVERAGE_POOL_2D 3x3 stride 1 SAME (edge windows average fewer pixels)",
                            _pool("AVERAGE_POOL_2D", IMG, (3, 3), 1, "SAME")),
    "avgpool_global": ("AVERAGE_POOL_2D over the whole 5x5 map", _pool("AVERAGE_POOL_2D", (1, 5, 5, 16), (5, 5), 1,
                                                                     "VALID")),
    "add": ("ADD of two inputs with different scales", _add("NONE")),
    "add_relu": ("ADD of two inputs with different scales, fused RELU", _add("RELU")),
    "fc": ("FULLY_CONNECTED 64 -> 16", _fc("NONE")),
    "fc_relu": ("FULLY_CONNECTED 64 -> 16, fused RELU", _fc("RELU")),
    "fc_per_channel": ("FULLY_CONNECTED 64 -> 16, per-channel weights (TF >= 2.15's Dense), fused RELU",
                       _fc("RELU", per_channel=True)),
    "reshape": ("RESHAPE 1x4x4x8 -> 1x128", _reshape),
    "softmax": ("SOFTMAX over 10 logits (output 1/256, -128)", _softmax),
    "chain_conv_maxpool": ("CONV_2D+RELU -> MAX_POOL_2D", _conv_maxpool),
    "chain_dw_pw": ("DEPTHWISE_CONV_2D stride 2 -> CONV_2D 1x1 RELU6", _dw_pw),
    "chain_conv_avgpool_fc_softmax": ("CONV_2D VALID -> AVERAGE_POOL_2D -> RESHAPE -> FULLY_CONNECTED -> SOFTMAX",
                                      _conv_pool_fc_softmax),
    "chain_residual": ("CONV_2D -> CONV_2D -> ADD(+identity) RELU", _residual),
    "chain_fc_fc": ("FULLY_CONNECTED RELU -> FULLY_CONNECTED", _fc_fc),
    "mul": ("MUL of two inputs with different scales", _binary("MUL", (1, 8, 8, 16))),
    "mul_bcast_relu": ("MUL by a per-channel input (broadcast), fused RELU", _binary("MUL", (1, 1, 1, 16), "RELU")),
    "sub": ("SUB of two inputs with different scales", _binary("SUB", (1, 8, 8, 16))),
    "sub_bcast_relu6": ("SUB of a per-channel input (broadcast), fused RELU6", _binary("SUB", (1, 1, 1, 16), "RELU6")),
    "mean_hw": ("MEAN over H and W, keep_dims (global average pool)", _reduce("MEAN", (1, 6, 6, 16), (1, 2), True)),
    "mean_c": ("MEAN over the channels, dims dropped", _reduce("MEAN", (1, 4, 4, 24), (3,), False)),
    "logistic": ("LOGISTIC (output 1/256, -128)", _elementwise("LOGISTIC")),
    "tanh": ("TANH (output 1/128, 0)", _elementwise("TANH")),
    "prelu": ("PRELU with a per-channel constant alpha", _prelu),
    "resize_bilinear": ("RESIZE_BILINEAR 5x7 -> 10x14", _bilinear((10, 14))),
    "resize_bilinear_align": ("RESIZE_BILINEAR 5x7 -> 9x12, align_corners", _bilinear((9, 12), align_corners=True)),
    "resize_bilinear_half": ("RESIZE_BILINEAR 5x7 -> 8x16, half_pixel_centers", _bilinear((8, 16), half_pixel=True)),
    "transpose_conv_s2_same": ("TRANSPOSE_CONV 3x3 stride 2 SAME", _transpose_conv(2, (3, 3), "SAME")),
    "transpose_conv_valid": ("TRANSPOSE_CONV 2x3 stride 1 VALID", _transpose_conv(1, (2, 3), "VALID")),
    "hard_swish": ("HARD_SWISH", _elementwise("HARD_SWISH")),
    "leaky_relu": ("LEAKY_RELU alpha 0.2", _elementwise("LEAKY_RELU", alpha=0.2)),
    "requantize": ("QUANTIZE int8 -> int8 onto another scale and zero point", _requantize),
    "svdf": ("SVDF rank 2, 8 units, memory 6 (one step from the initial state)", _svdf),
    "chain_conv_hardswish_mean": ("CONV_2D -> HARD_SWISH -> MEAN -> MUL (gate) -> LOGISTIC", _conv_hardswish_mean),
    "concat": ("CONCATENATION of two inputs on the last axis (axis=-1)", _concat),
    "split_concat": ("SPLIT into 3 on channels -> CONCATENATION in another order", _split_concat),
    "split_v_concat": ("SPLIT_V 2/5/3 on width -> CONCATENATION reversed", _split_v_concat),
    "unpack_pack": ("UNPACK 4 rows -> PACK reversed on another axis", _unpack_pack),
    "split_outputs": ("SPLIT_V 1/3/1 on channels, each part a graph output", _split_outputs),
    "chain_movement": ("PAD -> SPLIT -> MAXIMUM -> RELU6 -> RESIZE_NEAREST_NEIGHBOR (half pixel) -> STRIDED_SLICE "
                       "-> TRANSPOSE -> GATHER -> UNPACK -> PACK -> CONCATENATION", _chain_movement),
    "slice": ("SLICE with a -1 (to the end) size", _slice),
    "strided_slice": ("STRIDED_SLICE strides 2/3/-2 with begin and end masks", _strided_slice),
    "strided_slice_shrink": ("STRIDED_SLICE with an ellipsis, a shrunk axis and a negative begin",
                             _strided_slice_shrink),
    "pad": ("PAD (zero point) on H, W and C, asymmetric", _pad(None)),
    "padv2": ("PADV2 with a constant value of 0.7", _pad(0.7)),
    "maximum": ("MAXIMUM of two inputs", _two_inputs("MAXIMUM", (1, 6, 6, 8))),
    "minimum_broadcast": ("MINIMUM with a broadcast per-channel operand", _two_inputs("MINIMUM", (1, 1, 1, 8))),
    "relu": ("RELU standalone (requantizes to its own output scale)", _unary("RELU")),
    "relu6": ("RELU6 standalone (requantizes to its own output scale)", _unary("RELU6")),
    "transpose": ("TRANSPOSE NHWC -> NCHW", _transpose),
    "resize_nearest": ("RESIZE_NEAREST_NEIGHBOR 5x7 -> 11x9", _resize((11, 9))),
    "resize_nearest_align": ("RESIZE_NEAREST_NEIGHBOR 5x7 -> 8x13, align_corners", _resize((8, 13), True)),
    "resize_nearest_half_pixel": ("RESIZE_NEAREST_NEIGHBOR 5x7 -> 12x10, half_pixel_centers",
                                  _resize((12, 10), half_pixel=True)),
    "squeeze": ("SQUEEZE two unit axes of a 5-D input", _squeeze),
    "expand_dims": ("EXPAND_DIMS of a 3-D input", _expand_dims),
    "gather": ("GATHER rows (repeated index) on axis 1", _gather),
    "conv_dilated": ("CONV_2D 3x3 dilation 2, SAME, fused RELU -> CONV_2D 1x1", _conv_dilated),
    "dwconv_dilated": ("DEPTHWISE_CONV_2D 3x3 dilation 2x3, VALID, fused RELU6", _dw_dilated),
    "fc_3d": ("FULLY_CONNECTED on a 1x4x16 input (rows of 16: output 4x8), fused RELU", _fc_nd((1, 4, 16), False)),
    "fc_keep_dims": ("FULLY_CONNECTED keep_num_dims on a 1x4x16 input (output 1x4x8)", _fc_nd((1, 4, 16), True)),
    "fc_4d_flatten": ("FULLY_CONNECTED on a 1x2x2x8 input read as one row of 32", _fc_nd((1, 2, 2, 8), False, 32)),
}

# Wider inputs: ADD/MUL/SUB operands of different scales, non-linearities into saturation.
INPUT_GAINS: dict[str, tuple[float, ...]] = {
    **{n: (0.5, 3.0) for n in ("add", "add_relu", "mul", "mul_bcast_relu", "sub", "sub_bcast_relu6")},
    **{n: (4.0,) for n in ("logistic", "tanh", "hard_swish", "leaky_relu", "prelu")},
}

# Inputs of ops that need one shared quantization (CONCATENATION, MAXIMUM, MINIMUM).
SHARED_RANGE = (-3.0, 3.0)


def _spec(name: str, description: str, body: Callable[[Graph], None]) -> ModelSpec:
    seed = zlib.crc32(name.encode())  # stable per name: adding a model changes no other

    def build() -> Graph:
        g = Graph(name, seed=seed)
        body(g)
        return g

    gains = (0.5, 3.0) if name.startswith("add") else ()  # ADD operands get different scales
    gains = (4.0,) if name == "relu6" else gains  # a range beyond 6 so that RELU6 clips
    gains = INPUT_GAINS.get(name, gains)
    shared = name in ("concat", "maximum", "minimum_broadcast")
    ranges = {"input_a": SHARED_RANGE, "input_b": SHARED_RANGE} if shared else {}
    return ModelSpec(name, description, build, seed=seed + 1, calibration_size=32, input_gains=gains,
                     input_ranges=ranges)


OPS: dict[str, ModelSpec] = {name: _spec(name, d, b) for name, (d, b) in BODIES.items()}
