"""Narrowing int64 constant operands that fit in int32 (ROM and instructions).

The frontend writes requantization multipliers and shifts as int64 constants.  Stored as
int32 and widened at each load, they halve their ROM and let the C compiler see a 32x32->64
product (`mul` + `mulh` on RV32) instead of a full 64x64 multiply.  A kernel parameter is
narrowed only if every call passes such a constant, and a constant only if every use of it is
a narrowed parameter; the arithmetic is unchanged (the value is widened before any use).
"""

from __future__ import annotations

import re

import numpy as np

from .graph import Graph, Tensor

_I32 = np.iinfo(np.int32)


def _fits(t: Tensor) -> bool:
    return (t.root.kind == "constant" and t.dtype == "int64" and t.alias_of is None
            and bool(np.all((t.value >= _I32.min) & (t.value <= _I32.max))))


def narrowable_params(graph: Graph) -> dict[str, set[int]]:
    """kernel symbol -> input positions to pass as int32 (and narrows those constants)."""
    uses: dict[int, list[tuple[str, int]]] = {}
    candidates: dict[tuple[str, int], list[Tensor]] = {}
    for step in graph.steps:
        for i, t in enumerate(step.inputs):
            if t.root.kind == "constant":
                uses.setdefault(id(t.root), []).append((step.func if step.kind == "kernel" else "", i))
            candidates.setdefault((step.func, i), []).append(t) if step.kind == "kernel" else None
    positions = {key for key, ts in candidates.items() if all(_fits(t) for t in ts)}
    changed = True
    while changed:
        changed = False
        for key in sorted(positions):
            for t in candidates[key]:
                if any(use not in positions for use in uses[id(t.root)]):
                    positions.discard(key)
                    changed = True
                    break
    narrowed: dict[str, set[int]] = {}
    for func, i in positions:
        narrowed.setdefault(func, set()).add(i)
        for t in candidates[(func, i)]:
            if t.dtype == "int64":
                t.value = t.value.astype(np.int32)
                t.dtype = "int32"
    return narrowed


def widen_loads(body: str, pname: str) -> str:
    """`p[expr]` -> `((int64_t)p[expr])` everywhere in `body` (brackets matched)."""
    out, pos = [], 0
    for match in re.finditer(rf"\b{re.escape(pname)}\[", body):
        if match.start() < pos:
            continue
        depth, end = 0, match.end() - 1
        for end in range(match.end() - 1, len(body)):
            depth += {"[": 1, "]": -1}.get(body[end], 0)
            if depth == 0:
                break
        out.append(body[pos:match.start()])
        out.append(f"((int64_t){body[match.start():end + 1]})")
        pos = end + 1
    out.append(body[pos:])
    return "".join(out)
