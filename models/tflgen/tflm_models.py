"""Models of further ops TFLite Micro registers (its op resolver list), beyond op_models.

`TFLM_OPS`: committed chain models, run end to end on both ISAs (a few models, several ops
each, keep the suite fast).  `SINGLE_OPS`: one op each, generated at test time only
(tests/frontend/test_frontend_tflm_ops.py checks each bit-exact on the host against BUILTIN_REF
with full-range random inputs, and its uint8 / int16 variants).
"""

from __future__ import annotations

import zlib
from typing import Callable

from .graph import Graph
from .spec import ModelSpec


def _chain_space_ops(g: Graph) -> None:
    """MIRROR_PAD -> SPACE_TO_DEPTH -> REVERSE_V2 -> DEPTH_TO_SPACE -> SPACE_TO_BATCH_ND -> BATCH_TO_SPACE_ND
    -> TILE, then REDUCE_MAX -> BROADCAST_TO and REDUCE_MIN -> GATHER_ND as two outputs."""
    x = g.mirror_pad(g.input("input", (1, 5, 6, 4)), "mirror_pad", [(0, 0), (1, 0), (1, 1), (0, 0)])
    x = g.depth_to_space(g.reverse(g.space_to_depth(x, "space_to_depth", 2), "reverse", [2]), "depth_to_space", 2)
    x = g.batch_to_space(g.space_to_batch(x, "space_to_batch", [2, 2], [(1, 1), (0, 0)]), "batch_to_space",
                         [2, 2], [(0, 1), (1, 0)])
    x = g.tile(x, "tile", [1, 1, 1, 2])
    top = g.broadcast_to(g.reduce("REDUCE_MAX", x, "reduce_max", (1, 2), True), "broadcast_to", (1, 2, 1, 8))
    low = g.gather_nd(g.reduce("REDUCE_MIN", x, "reduce_min", (3,), False), "gather_nd", [[0, 1], [0, 6], [0, 3]])
    g.output(top, low)


def _conv_space_to_batch(g: Graph) -> None:
    """A dilated conv as older converters wrote it: SPACE_TO_BATCH_ND -> CONV_2D (batch 4) -> BATCH_TO_SPACE_ND."""
    x = g.space_to_batch(g.input("input", (1, 8, 8, 4)), "space_to_batch", [2, 2], [(2, 2), (2, 2)])
    x = g.conv2d(x, "conv", 8, (3, 3), 1, "VALID", "RELU")
    g.output(g.batch_to_space(x, "batch_to_space", [2, 2], [(0, 0), (0, 0)]))


def _conv_grouped(g: Graph) -> None:
    """A grouped CONV_2D (4 groups, TF >= 2.9) -> a 1x1 CONV_2D (a layer QVanilla takes)."""
    x = g.conv2d(g.input("input", (1, 8, 8, 8)), "conv", 12, (3, 3), 1, "SAME", "RELU", groups=4)
    g.output(g.conv2d(x, "pointwise", 8, (1, 1)))


def _fc_arg_max(g: Graph) -> None:
    """A classifier that returns the class index: FULLY_CONNECTED -> ARG_MAX (int32 output)."""
    logits = g.fully_connected(g.input("input", (1, 32)), "fc", 10)
    g.output(g.arg_max(logits, "arg_max", 1))


def _chain_tables(g: Graph) -> None:
    """GELU -> EXP -> LOG: three 8-bit table ops (LOG reads positive values only)."""
    x = g.unary("GELU", g.input("input", (1, 6, 6, 8)), "gelu")
    g.output(g.unary("LOG", g.unary("EXP", x, "exp"), "log"))


def _one(build: Callable[[Graph, str], str], shape: tuple[int, ...] = (1, 6, 6, 8)) -> Callable[[Graph], None]:
    def body(g: Graph) -> None:
        g.output(build(g, g.input("input", shape)))
    return body


CHAINS: dict[str, tuple[str, Callable[[Graph], None]]] = {
    "chain_space_ops": ("MIRROR_PAD -> SPACE_TO_DEPTH -> REVERSE_V2 -> DEPTH_TO_SPACE -> SPACE_TO_BATCH_ND -> "
                        "BATCH_TO_SPACE_ND -> TILE -> REDUCE_MAX/REDUCE_MIN -> BROADCAST_TO/GATHER_ND",
                        _chain_space_ops),
    "conv_grouped": ("CONV_2D 3x3 with 4 groups, fused RELU -> CONV_2D 1x1", _conv_grouped),
    "fc_arg_max": ("FULLY_CONNECTED -> ARG_MAX: the class index as an int32 output", _fc_arg_max),
    "chain_gelu_exp_log": ("GELU -> EXP -> LOG (8-bit table lookups)", _chain_tables),
    "conv_space_to_batch": ("SPACE_TO_BATCH_ND -> CONV_2D on batch 4 -> BATCH_TO_SPACE_ND (an unfused dilated conv)",
                            _conv_space_to_batch),
}

SINGLE_OPS: dict[str, Callable[[Graph], None]] = {
    "depth_to_space": _one(lambda g, x: g.depth_to_space(x, "depth_to_space", 2), (1, 3, 4, 8)),
    "space_to_depth": _one(lambda g, x: g.space_to_depth(x, "space_to_depth", 2), (1, 6, 4, 3)),
    "space_to_batch": _one(lambda g, x: g.space_to_batch(x, "space_to_batch", [2, 3], [(1, 0), (2, 1)]),
                           (1, 5, 6, 4)),
    "batch_to_space": _one(lambda g, x: g.batch_to_space(g.space_to_batch(x, "s2b", [2, 2], [(1, 0), (1, 1)]),
                                                         "batch_to_space", [2, 2], [(1, 0), (0, 1)]), (1, 5, 6, 4)),
    "broadcast_to": _one(lambda g, x: g.broadcast_to(x, "broadcast_to", (1, 4, 6, 8)), (1, 1, 6, 8)),
    "tile": _one(lambda g, x: g.tile(x, "tile", [1, 2, 1, 3]), (1, 3, 4, 5)),
    "mirror_pad_reflect": _one(lambda g, x: g.mirror_pad(x, "mirror_pad", [(0, 0), (2, 1), (1, 2), (0, 0)]),
                               (1, 5, 5, 3)),
    "mirror_pad_symmetric": _one(lambda g, x: g.mirror_pad(x, "mirror_pad", [(0, 0), (2, 1), (1, 2), (1, 0)],
                                                           "SYMMETRIC"), (1, 5, 5, 3)),
    "reverse": _one(lambda g, x: g.reverse(x, "reverse", [2]), (1, 4, 5, 3)),
    "gather_nd": _one(lambda g, x: g.gather_nd(x, "gather_nd", [[0, 3], [0, 1], [0, 5], [0, 3]]), (1, 6, 8)),
    "reduce_max": _one(lambda g, x: g.reduce("REDUCE_MAX", x, "reduce_max", (1, 2), True)),
    "reduce_min": _one(lambda g, x: g.reduce("REDUCE_MIN", x, "reduce_min", (3,), False)),
    "exp": _one(lambda g, x: g.unary("EXP", x, "exp")),
    "log": _one(lambda g, x: g.unary("LOG", x, "log")),
    "gelu": _one(lambda g, x: g.unary("GELU", x, "gelu")),
    "gelu_approximate": _one(lambda g, x: g.unary("GELU", x, "gelu", approximate=True)),
    "arg_max": _one(lambda g, x: g.arg_max(x, "arg_max", 3)),
    "arg_min": _one(lambda g, x: g.arg_max(x, "arg_min", 1, "ARG_MIN"), (1, 7, 5)),
}


def _spec(name: str, description: str, body: Callable[[Graph], None]) -> ModelSpec:
    seed = zlib.crc32(name.encode())

    def build() -> Graph:
        g = Graph(name, seed=seed)
        body(g)
        return g

    return ModelSpec(name, description, build, seed=seed + 1, calibration_size=32)


TFLM_OPS: dict[str, ModelSpec] = {name: _spec(name, d, b) for name, (d, b) in CHAINS.items()}
SINGLE_SPECS: dict[str, ModelSpec] = {name: _spec(name, name, b) for name, b in SINGLE_OPS.items()}
