"""Variants of op models in the other TFLite integer schemes and I/O wrappers.

`<model>_f32io`: int8 graph with float32 input/output (QUANTIZE / DEQUANTIZE, the converter's
default); `<model>_u8`: legacy asymmetric uint8; `<model>_u8in`: uint8 input requantized to
int8; `<model>_i16`: int16 activations with int8 weights (16x8).  Plus a multi-I/O graph.
A variant keeps its base model's seed, so its weights (and int8 graph) are the base model's.
"""

from __future__ import annotations

import zlib
from dataclasses import replace
from typing import Callable

from .graph import Graph
from .op_models import BODIES, OPS
from .spec import ModelSpec


def _two_in_two_out(g: Graph) -> None:
    """Two inputs, two outputs; the conv's output is a graph output and feeds the ADD."""
    a = g.input("input_a", (1, 8, 8, 4))
    b = g.input("input_b", (1, 8, 8, 8))
    x = g.conv2d(a, "conv", 8, (3, 3), 1, "SAME", "RELU")
    g.output(x, g.add(x, b, "add"))


def _dw_maxpool(g: Graph) -> None:
    x = g.depthwise(g.input("input", (1, 16, 16, 4)), "depthwise", (3, 3), 2, "SAME", "RELU6")
    g.output(g.max_pool(x, "maxpool", (3, 3), 2, "SAME"))


EXTRA: dict[str, tuple[str, Callable[[Graph], None]]] = {
    "multi_io": ("two inputs, two outputs; a CONV_2D output is a graph output and feeds ADD", _two_in_two_out),
    "chain_dw_maxpool": ("DEPTHWISE_CONV_2D stride 2 RELU6 -> MAX_POOL_2D 3x3 stride 2 SAME", _dw_maxpool),
}

# suffix -> (quantization scheme, I/O wrapper, description)
VARIANTS = {
    "f32io": ("int8", "float", "int8 graph with float32 input/output (QUANTIZE/DEQUANTIZE)"),
    "u8": ("uint8", "native", "legacy asymmetric uint8"),
    "u8in": ("int8", "uint8", "uint8 input requantized to int8 (QUANTIZE)"),
    "i16": ("int16", "native", "int16 activations, int8 weights (16x8)"),
}
# Few models, each covering several ops, keep the end-to-end suite fast: together they run
# CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, ADD, both pools, RESHAPE and SOFTMAX per scheme
# (chain_movement: eleven data-movement / elementwise ops).
CORE = ("chain_conv_avgpool_fc_softmax", "chain_dw_maxpool", "multi_io")
PLAN = {
    "f32io": ("chain_conv_avgpool_fc_softmax", "multi_io"),
    "u8": (*CORE, "avgpool_3x3_s1_same", "chain_movement",  # uint8 pools round half up: edge windows
           "mul", "logistic", "prelu"),
    "u8in": ("conv_s1_same",),
    "i16": (*CORE, "chain_movement", "mul", "logistic", "tanh", "mean_hw", "resize_bilinear_half", "fc_per_channel",
            "leaky_relu"),
}


def _spec(name: str, description: str, body: Callable[[Graph], None]) -> ModelSpec:
    seed = zlib.crc32(name.encode())  # as op_models: a variant's weights are its base model's

    def build() -> Graph:
        g = Graph(name, seed=seed)
        body(g)
        return g

    gains = (0.5, 3.0) if name.startswith(("add", "multi")) else ()  # ADD operands of different scales
    return ModelSpec(name, description, build, seed=seed + 1, calibration_size=32, input_gains=gains)


def _variants() -> dict[str, ModelSpec]:
    bodies = {**BODIES, **EXTRA}
    out = {name: _spec(name, *EXTRA[name]) for name in ("multi_io",)}
    for suffix, models in PLAN.items():
        scheme, io, what = VARIANTS[suffix]
        for base in models:
            description, body = bodies[base]
            spec = OPS[base] if base in OPS else _spec(base, description, body)  # the base's input gains
            out[f"{base}_{suffix}"] = replace(spec, name=f"{base}_{suffix}", description=f"{description}; {what}",
                                              scheme=scheme, io=io)
    return out


DTYPE_OPS: dict[str, ModelSpec] = _variants()
