"""Models of the quantized math ops (frontend/qmath.py): ABS, NEG, RSQRT, L2_NORMALIZATION,
LOG_SOFTMAX, DIV, SUM, ELU.

`QMATH_OPS`: committed chain models, run end to end on both ISAs (test_e2e_runs).
`QMATH_SINGLE`: one op each, generated at test time only (tests/frontend/test_frontend_qmath.py
checks each bit-exact on the host against BUILTIN_REF with full-range random inputs).
"""

from __future__ import annotations

from typing import Callable

from .graph import Graph
from .tflm_models import _one, _spec


def _chain_embedding(g: Graph) -> None:
    """A face-embedding head: FULLY_CONNECTED -> L2_NORMALIZATION (unit-length int8 vector)."""
    g.output(g.unary("L2_NORMALIZATION", g.fully_connected(g.input("input", (1, 48)), "fc", 32), "l2_norm"))


def _chain_qmath(g: Graph) -> None:
    """ABS -> RSQRT and NEG -> LOG_SOFTMAX: two outputs from one input."""
    x = g.input("input", (1, 4, 12))
    g.output(g.unary("RSQRT", g.unary("ABS", x, "abs"), "rsqrt"),
             g.unary("LOG_SOFTMAX", g.unary("NEG", x, "neg"), "log_softmax"))


def _div(g: Graph) -> None:
    g.output(g.binary("DIV", g.input("input_a", (1, 6, 8)), g.input("input_b", (1, 1, 8)), "div"))


CHAINS: dict[str, tuple[str, Callable[[Graph], None]]] = {
    "chain_fc_l2norm": ("FULLY_CONNECTED -> L2_NORMALIZATION (an embedding head)", _chain_embedding),
    "chain_qmath": ("ABS -> RSQRT, NEG -> LOG_SOFTMAX (two outputs)", _chain_qmath),
}

SINGLE: dict[str, Callable[[Graph], None]] = {
    "abs": _one(lambda g, x: g.unary("ABS", x, "abs")),
    "neg": _one(lambda g, x: g.unary("NEG", x, "neg")),
    "abs_rsqrt": _one(lambda g, x: g.unary("RSQRT", g.unary("ABS", x, "abs"), "rsqrt")),
    "l2_normalization": _one(lambda g, x: g.unary("L2_NORMALIZATION", x, "l2_norm"), (1, 5, 24)),
    "log_softmax": _one(lambda g, x: g.unary("LOG_SOFTMAX", x, "log_softmax"), (1, 3, 10)),
    "div": _div,
    "elu": _one(lambda g, x: g.unary("ELU", x, "elu")),
    "sum_hw": _one(lambda g, x: g.reduce("SUM", x, "sum", (1, 2), True)),
    "sum_c": _one(lambda g, x: g.reduce("SUM", x, "sum", (3,), False), (1, 4, 4, 24)),
}

QMATH_OPS = {name: _spec(name, d, b) for name, (d, b) in CHAINS.items()}
QMATH_SINGLE = {name: _spec(name, name, b) for name, b in SINGLE.items()}
