"""The MCU schedule applied to every fused kernel.

Goal: one loop nest per kernel, a scalar accumulator per reduction, no intermediate buffers
(hence no workspace): every injective stage is inlined into its consumer or producer, the
reduction is computed at the innermost loop of the stage that consumes it, and its
initialisation is split out so the accumulator lives in a register-sized local buffer.
"""

from __future__ import annotations

from tvm import s_tir, tirx
from tvm.tirx.analysis import undefined_vars

_REDUCE = 2  # tirx.IterVar.CommReduce


class ScheduleError(RuntimeError):
    """A kernel left an intermediate buffer that the MCU schedule cannot remove."""


def _is_reduction(block: tirx.SBlock) -> bool:
    return any(int(iv.iter_type) == _REDUCE for iv in block.iter_vars)


def _vars_in(exprs) -> set:
    found: set = set()
    for expr in exprs:
        found |= set(undefined_vars(expr))
    return found


def _used_prefix(consumer: tirx.SBlock, buffer: tirx.Buffer) -> int:
    """How many leading spatial iter vars of `consumer` index its read of `buffer`.

    Computing the producer at that loop depth gives one point (or one row) per visit and never
    recomputes a reduction for broadcast axes.
    """
    used = set()
    for region in consumer.reads:
        if region.source.same_as(buffer):
            used |= _vars_in([r.min for r in region.region])
    count = 0
    for iv in consumer.iter_vars:
        extent = iv.dom.extent
        if iv.var in used or (isinstance(extent, tirx.IntImm) and int(extent) == 1):
            count += 1
        else:
            break
    return count


def _output_buffers(func: tirx.PrimFunc) -> list:
    """In TVM 0.27 a buffer parameter *is* the param Var (its type is a BufferType)."""
    return list(func.params)


def _writes_param(block: tirx.SBlock, params: list) -> bool:
    return any(any(region.source.same_as(p) for p in params) for region in block.writes)


def _inline_injective(sch: s_tir.Schedule, params: list) -> None:
    """Inline every non-output, non-reduction block (pad, casts, elementwise chains)."""
    changed = True
    while changed:
        changed = False
        for rv in sch.get_child_blocks(sch.get_sblock("root")):
            block = sch.get(rv)
            if _writes_param(block, params) or _is_reduction(block):
                continue
            for primitive in (sch.compute_inline, sch.reverse_compute_inline):
                try:
                    primitive(rv)
                except tvm_error():
                    continue
                changed = True
                break
            if changed:
                break


def tvm_error():
    import tvm

    return tvm.error.TVMError


def _reduction_loop(sch: s_tir.Schedule, rv) -> object | None:
    block = sch.get(rv)
    loops = sch.get_loops(rv)
    # Block iter vars are bound to the innermost loops in order; the first reduce var's loop.
    n_outer = len(loops) - len(block.iter_vars)
    for i, iv in enumerate(block.iter_vars):
        if int(iv.iter_type) == _REDUCE:
            return loops[n_outer + i]
    return None


def _place_reduction(sch: s_tir.Schedule, rv, params: list) -> None:
    block = sch.get(rv)
    if _writes_param(block, params):
        # The kernel's output is the reduction: accumulate in a local copy, store once.
        n_spatial = sum(int(iv.iter_type) != _REDUCE for iv in block.iter_vars)
        store = sch.cache_write(rv, 0, "global")
        if n_spatial:
            sch.reverse_compute_at(store, sch.get_loops(rv)[n_spatial - 1])
    else:
        consumers = sch.get_consumers(rv)
        if len(consumers) == 1:
            consumer = consumers[0]
            depth = _used_prefix(sch.get(consumer), block.writes[0].source)
            if depth:
                sch.compute_at(rv, sch.get_loops(consumer)[depth - 1], preserve_unit_loops=False)
    loop = _reduction_loop(sch, rv)
    if loop is not None:
        sch.decompose_reduction(rv, loop)


def schedule_kernel(func: tirx.PrimFunc) -> tirx.PrimFunc:
    """Apply the MCU schedule; returns the scheduled PrimFunc."""
    sch = s_tir.Schedule(func)
    params = _output_buffers(func)
    _inline_injective(sch, params)
    for rv in sch.get_child_blocks(sch.get_sblock("root")):
        if _is_reduction(sch.get(rv)):
            _place_reduction(sch, rv, params)
    return sch.mod["main"]
