"""The MCU schedule applied to every fused kernel.

Goal: one loop nest per kernel, a scalar accumulator per reduction, no intermediate buffers
(hence no workspace).  Blocks are visited consumers first:
  * an elementwise stage read once by its consumer is inlined into it;
  * one read several times (e.g. a requantized value tested by a select) is computed at the
    consumer's innermost loop into a one-element buffer, so it is evaluated once, not copied
    into every use (inlining would grow the expression exponentially along a requant chain);
  * a reduction is computed at the loop depth where its consumer needs one value, and its
    initialisation is split out (scalar accumulator); an output reduction accumulates in a
    one-element buffer stored once.
Every intermediate buffer then compacts to one element: a register after the C compiler.
"""

from __future__ import annotations

import re

import tvm
from tvm import s_tir, tirx
from tvm.tirx.analysis import undefined_vars

_REDUCE = 2  # tirx.IterVar.CommReduce


def _is_reduction(block) -> bool:
    return any(int(iv.iter_type) == _REDUCE for iv in block.iter_vars)


def _writes_param(block, params: list) -> bool:
    return any(any(region.source.same_as(p) for p in params) for region in block.writes)


def _written(block):
    return block.writes[0].source


def _load_count(block, buffer) -> int:
    """How often `block`'s body reads `buffer` (the printer declares buffers first: skip those)."""
    name = re.escape(str(buffer.name))
    text = "\n".join(line for line in str(block.body).splitlines() if not re.match(r"^\w+ = T\.", line))
    return len(re.findall(rf"(?<![\w.]){name}\[", text))


def _used_prefix(consumer, buffer) -> int:
    """How many leading iter vars of `consumer` index its read of `buffer`.

    Computing the producer at that loop depth gives one value per visit and never recomputes a
    reduction along broadcast axes.
    """
    used: set = set()
    for region in consumer.reads:
        if region.source.same_as(buffer):
            for r in region.region:
                used |= set(undefined_vars(r.min))
    count = 0
    for iv in consumer.iter_vars:
        extent = iv.dom.extent
        if iv.var in used or (isinstance(extent, tirx.IntImm) and int(extent) == 1):
            count += 1
        else:
            break
    return count


def _spatial_loop_at(sch: s_tir.Schedule, consumer_rv, depth: int):
    """The loop binding the consumer's `depth`-th spatial iter var (loops outside it included)."""
    loops = sch.get_loops(consumer_rv)
    n_outer = len(loops) - len(sch.get(consumer_rv).iter_vars)
    return loops[n_outer + depth - 1] if n_outer + depth - 1 >= 0 else None


def _innermost_common_loop(sch: s_tir.Schedule, consumers):
    common = None
    for rv in consumers:
        loops = list(sch.get_loops(rv))
        if not _is_reduction(sch.get(rv)):
            pass
        else:  # stay outside the consumer's own reduction loops
            n_outer = len(loops) - len(sch.get(rv).iter_vars)
            loops = loops[:n_outer + sum(int(iv.iter_type) != _REDUCE for iv in sch.get(rv).iter_vars)]
        srefs = [sch.get_sref(lp) for lp in loops]
        if common is None:
            common = list(zip(srefs, loops))
        else:
            common = [(s, lp) for s, lp in common if any(s.same_as(o) for o in srefs)]
    return common[-1][1] if common else None


def _place_elementwise(sch: s_tir.Schedule, rv) -> None:
    block = sch.get(rv)
    consumers = sch.get_consumers(rv)
    buffer = _written(block)
    if len(consumers) == 1 and _load_count(sch.get(consumers[0]), buffer) <= 1:
        try:
            sch.compute_inline(rv)
            return
        except tvm.error.TVMError:
            pass
    loop = _innermost_common_loop(sch, consumers)
    if loop is not None:
        sch.compute_at(rv, loop, preserve_unit_loops=False)


def _place_reduction(sch: s_tir.Schedule, rv, params: list) -> None:
    block = sch.get(rv)
    if _writes_param(block, params):
        # The kernel's output is the reduction: accumulate in a one-element copy, store once.
        n_spatial = sum(int(iv.iter_type) != _REDUCE for iv in block.iter_vars)
        store = sch.cache_write(rv, 0, "global")
        loop = _spatial_loop_at(sch, rv, n_spatial)
        if loop is not None:
            sch.reverse_compute_at(store, loop, preserve_unit_loops=False)
        return
    consumers = sch.get_consumers(rv)
    if len(consumers) == 1:
        depth = _used_prefix(sch.get(consumers[0]), _written(block))
        loop = _spatial_loop_at(sch, consumers[0], depth) if depth else None
        if loop is not None:
            sch.compute_at(rv, loop, preserve_unit_loops=False)


def _first_reduction_loop(sch: s_tir.Schedule, rv):
    block = sch.get(rv)
    loops = sch.get_loops(rv)
    n_outer = len(loops) - len(block.iter_vars)
    for i, iv in enumerate(block.iter_vars):
        if int(iv.iter_type) == _REDUCE:
            return loops[n_outer + i]
    return None


def schedule_kernel(func: tirx.PrimFunc) -> tirx.PrimFunc:
    """Apply the MCU schedule; returns the scheduled PrimFunc."""
    sch = s_tir.Schedule(func)
    params = list(func.params)  # in TVM 0.27 a buffer parameter *is* the param Var
    reductions = []
    for rv in reversed(sch.get_child_blocks(sch.get_sblock("root"))):
        block = sch.get(rv)
        if _is_reduction(block):
            _place_reduction(sch, rv, params)
            reductions.append(rv)
        elif not _writes_param(block, params):
            _place_elementwise(sch, rv)
    for rv in reductions:
        loop = _first_reduction_loop(sch, rv)
        if loop is not None:
            sch.decompose_reduction(rv, loop)
    return sch.mod["main"]
