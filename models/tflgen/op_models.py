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


def _fc(act: str) -> Callable[[Graph], None]:
    def body(g: Graph) -> None:
        g.output(g.fully_connected(g.input("input", (1, 64)), "fc", 16, act))
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


def _unary(op: str, **attrs) -> Callable[[Graph], None]:
    def body(g: Graph) -> None:
        g.output(g.unary(op, g.input("input", (1, 8, 8, 8)), op.lower(), **attrs))
    return body


def _prelu(g: Graph) -> None:
    g.output(g.prelu(g.input("input", (1, 8, 8, 8)), "prelu"))


def _resize(size: tuple[int, int], align_corners: bool = False, half_pixel: bool = False) -> Callable[[Graph], None]:
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
    "logistic": ("LOGISTIC (output 1/256, -128)", _unary("LOGISTIC")),
    "tanh": ("TANH (output 1/128, 0)", _unary("TANH")),
    "prelu": ("PRELU with a per-channel constant alpha", _prelu),
    "resize_bilinear": ("RESIZE_BILINEAR 5x7 -> 10x14", _resize((10, 14))),
    "resize_bilinear_align": ("RESIZE_BILINEAR 5x7 -> 9x12, align_corners", _resize((9, 12), align_corners=True)),
    "resize_bilinear_half": ("RESIZE_BILINEAR 5x7 -> 8x16, half_pixel_centers", _resize((8, 16), half_pixel=True)),
    "transpose_conv_s2_same": ("TRANSPOSE_CONV 3x3 stride 2 SAME", _transpose_conv(2, (3, 3), "SAME")),
    "transpose_conv_valid": ("TRANSPOSE_CONV 2x3 stride 1 VALID", _transpose_conv(1, (2, 3), "VALID")),
    "hard_swish": ("HARD_SWISH", _unary("HARD_SWISH")),
    "leaky_relu": ("LEAKY_RELU alpha 0.2", _unary("LEAKY_RELU", alpha=0.2)),
    "requantize": ("QUANTIZE int8 -> int8 onto another scale and zero point", _requantize),
    "svdf": ("SVDF rank 2, 8 units, memory 6 (one step from the initial state)", _svdf),
    "chain_conv_hardswish_mean": ("CONV_2D -> HARD_SWISH -> MEAN -> MUL (gate) -> LOGISTIC", _conv_hardswish_mean),
}

# Wider inputs: ADD/MUL/SUB operands of different scales, non-linearities into saturation.
INPUT_GAINS: dict[str, tuple[float, ...]] = {
    **{n: (0.5, 3.0) for n in ("add", "add_relu", "mul", "mul_bcast_relu", "sub", "sub_bcast_relu6")},
    **{n: (0.5, 3.0) for n in ("mul_u8", "mul_i16")},
    **{n: (4.0,) for n in ("logistic", "tanh", "hard_swish", "leaky_relu", "prelu", "logistic_u8", "prelu_u8",
                              "logistic_i16", "tanh_i16")},
}


# Variants in other activation dtypes: name -> (base body, dtype).
VARIANTS: dict[str, tuple[str, str, str]] = {
    "mul_u8": ("mul", "uint8", "MUL of two uint8 inputs (legacy asymmetric)"),
    "logistic_u8": ("logistic", "uint8", "LOGISTIC on uint8 (output 1/256, 0)"),
    "prelu_u8": ("prelu", "uint8", "PRELU on uint8 with a uint8 alpha"),
    "mul_i16": ("mul", "int16", "MUL of two int16 inputs (16x8, zero point 0)"),
    "logistic_i16": ("logistic", "int16", "LOGISTIC on int16 (output 1/32768)"),
    "tanh_i16": ("tanh", "int16", "TANH on int16 (output 1/32768)"),
    "mean_hw_i16": ("mean_hw", "int16", "MEAN over H and W on int16"),
    "resize_bilinear_half_i16": ("resize_bilinear_half", "int16", "RESIZE_BILINEAR half_pixel_centers on int16"),
}


def _spec(name: str, description: str, body: Callable[[Graph], None], dtype: str = "int8") -> ModelSpec:
    seed = zlib.crc32(name.encode())  # stable per name: adding a model changes no other

    def build() -> Graph:
        g = Graph(name, seed=seed)
        body(g)
        return g

    return ModelSpec(name, description, build, seed=seed + 1, calibration_size=32,
                     input_gains=INPUT_GAINS.get(name, ()), activation_dtype=dtype)


OPS: dict[str, ModelSpec] = {name: _spec(name, d, b) for name, (d, b) in BODIES.items()}
OPS.update({name: _spec(name, d, BODIES[base][1], dtype) for name, (base, dtype, d) in VARIANTS.items()})
