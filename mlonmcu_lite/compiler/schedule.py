"""The MCU schedule applied to every fused kernel.

Goal: one loop nest per kernel, a scalar accumulator per reduction, no intermediate buffers
(hence no workspace).  Blocks are visited consumers first:
  * an elementwise stage read once by its consumer is inlined into it;
  * one read several times (e.g. a requantized value tested by a select) is computed at the
    consumer's innermost loop into a one-element buffer, so it is evaluated once, not copied
    into every use (inlining would grow the expression exponentially along a requant chain);
  * a reduction is computed at the loop depth where its consumer needs one value, and its
    initialisation is split out (scalar accumulator); an output reduction accumulates in a
    one-element buffer stored once;
  * a sum over >= 8 terms whose consumer's innermost (channel) loop divides by
    `block_channels` accumulates that many channels at once, channel loop innermost and
    unrolled; otherwise its innermost reduction loop is unrolled by `unroll`.
Every intermediate buffer then compacts to one element (or `block_channels` accumulators):
registers after the C compiler.
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


def _realize(sch: s_tir.Schedule, rv):
    """The SBlockRealize of block `rv` (holds the loop expressions bound to its iter vars)."""
    block = sch.get(rv)
    loops = sch.get_loops(rv)
    stmt = sch.get(loops[-1]).body if loops else sch.get(sch.get_sblock("root")).body
    for candidate in list(getattr(stmt, "seq", [stmt])):
        if hasattr(candidate, "block") and candidate.block.same_as(block):
            return candidate
    raise RuntimeError(f"block {block.name_hint} not found under its loop")


def _loop_vars_of(sch: s_tir.Schedule, rv, iter_filter) -> set:
    """Loop vars bound to the iter vars of block `rv` selected by `iter_filter(iter_var)`."""
    realize = _realize(sch, rv)
    found: set = set()
    for iv, value in zip(sch.get(rv).iter_vars, realize.iter_values):
        if iter_filter(iv):
            found |= set(undefined_vars(value))
    return found


def _deepest_loop(sch: s_tir.Schedule, rv, loop_vars: set):
    """The innermost loop around `rv` whose var is in `loop_vars` (None if there is none)."""
    chosen = None
    for loop in sch.get_loops(rv):
        if sch.get(loop).loop_var in loop_vars:
            chosen = loop
    return chosen


def _read_vars(consumer, buffer) -> set:
    used: set = set()
    for region in consumer.reads:
        if region.source.same_as(buffer):
            for r in region.region:
                used |= set(undefined_vars(r.min))
    return used


def _spatial_loops(sch: s_tir.Schedule, rv) -> list:
    """Loops around `rv` that are not its own reduction loops."""
    reduce_vars = _loop_vars_of(sch, rv, lambda iv: int(iv.iter_type) == _REDUCE)
    return [lp for lp in sch.get_loops(rv) if sch.get(lp).loop_var not in reduce_vars]


def _innermost_common_loop(sch: s_tir.Schedule, consumers):
    common = None
    for rv in consumers:
        loops = [(sch.get_sref(lp), lp) for lp in _spatial_loops(sch, rv)]
        if common is None:
            common = loops
        else:
            common = [(s, lp) for s, lp in common if any(s.same_as(o) for o, _ in loops)]
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


def _is_sum(sch: s_tir.Schedule, rv) -> bool:
    return not re.search(r"T\.(max|min|Select)\(", str(sch.get(rv).body))


def _reduce_extent(block) -> int:
    extent = 1
    for iv in block.iter_vars:
        if int(iv.iter_type) == _REDUCE:
            if not isinstance(iv.dom.extent, tirx.IntImm):
                return 0
            extent *= int(iv.dom.extent)
    return extent


def _block_channels(sch: s_tir.Schedule, rv, consumer, loop, block: int) -> bool:
    """Compute `block` outputs of the consumer's innermost loop per pass over the reduction.

    Why: with the output channel innermost (unrolled), one input load feeds `block` MACs and
    the accumulators stay in registers (CMSIS-NN style); ~8 -> ~4 RV32 instructions per MAC.
    """
    extent = sch.get(loop).extent
    loops = sch.get_loops(consumer)
    if (block <= 1 or not loops or not sch.get_sref(loops[-1]).same_as(sch.get_sref(loop))
            or not isinstance(extent, tirx.IntImm) or int(extent) % block or int(extent) == block
            or not _is_sum(sch, rv) or _reduce_extent(sch.get(rv)) < 8):
        return False
    outer, _ = sch.split(loop, [None, block])
    sch.compute_at(rv, outer, preserve_unit_loops=False)
    reduce_vars = _loop_vars_of(sch, rv, lambda iv: int(iv.iter_type) == _REDUCE)
    loops = sch.get_loops(rv)
    outer_sref = sch.get_sref(outer)
    own = loops[[sch.get_sref(lp).same_as(outer_sref) for lp in loops].index(True) + 1:]
    spatial = [lp for lp in own if sch.get(lp).loop_var not in reduce_vars]
    reduces = [lp for lp in own if sch.get(lp).loop_var in reduce_vars]
    if len(spatial) != 1 or not reduces:
        return True
    sch.reorder(*reduces, spatial[0])
    return True


def _place_reduction(sch: s_tir.Schedule, rv, params: list, block_channels: int = 1) -> bool:
    """Place a reduction; True if its output channels were blocked (see _block_channels)."""
    block = sch.get(rv)
    if _writes_param(block, params):
        # The kernel's output is the reduction: accumulate in a one-element copy, store once.
        store = sch.cache_write(rv, 0, "global")
        loop = _deepest_loop(sch, rv, _loop_vars_of(sch, rv, lambda iv: int(iv.iter_type) != _REDUCE))
        if loop is not None:
            sch.reverse_compute_at(store, loop, preserve_unit_loops=False)
        return False
    consumers = sch.get_consumers(rv)
    if len(consumers) == 1:
        # Compute at the deepest loop that indexes the value read: one accumulation per value,
        # never repeated along broadcast axes that are inner to it.
        used = _read_vars(sch.get(consumers[0]), _written(block))
        loop = _deepest_loop(sch, consumers[0], _loop_vars_of(sch, consumers[0], lambda iv: iv.var in used))
        if loop is not None:
            if _block_channels(sch, rv, consumers[0], loop, block_channels):
                return True
            sch.compute_at(rv, loop, preserve_unit_loops=False)
    return False


def _first_reduction_loop(sch: s_tir.Schedule, rv):
    reduce_vars = _loop_vars_of(sch, rv, lambda iv: int(iv.iter_type) == _REDUCE)
    for loop in sch.get_loops(rv):
        if sch.get(loop).loop_var in reduce_vars:
            return loop
    return None


def _unroll_innermost_reduction(sch: s_tir.Schedule, rv, factor: int) -> None:
    """Unroll the innermost reduction loop by `factor` (fully when it is that short).

    Why: an unrolled body addresses its operands with immediate offsets from one pointer, so
    a MAC costs two loads, a multiply and an add instead of also paying index arithmetic and
    a loop branch (~8 -> ~5 RV32 instructions per MAC).
    """
    if re.search(r"T\.(max|min|Select)\(", str(sch.get(rv).body)):
        # TVM's C printer caches a min/max operand's text per scope: after an unrolled store
        # to the accumulator it would reuse the stale value (wrong max-reductions).
        return
    reduce_vars = _loop_vars_of(sch, rv, lambda iv: int(iv.iter_type) == _REDUCE)
    loops = [lp for lp in sch.get_loops(rv) if sch.get(lp).loop_var in reduce_vars]
    loops = [lp for lp in loops if not isinstance(sch.get(lp).extent, tirx.IntImm) or int(sch.get(lp).extent) > 1]
    if not loops or factor <= 1:
        return
    loop = loops[-1]
    extent = sch.get(loop).extent
    if not isinstance(extent, tirx.IntImm):
        return
    extent = int(extent)
    if extent <= factor:
        sch.unroll(loop)
    elif extent % factor == 0:
        sch.unroll(sch.split(loop, [None, factor])[1])


def _unroll_innermost_loop(sch: s_tir.Schedule, rv) -> None:
    loops = sch.get_loops(rv)
    if loops:
        sch.unroll(loops[-1])


def schedule_kernel(func: tirx.PrimFunc, unroll: int = 4, block_channels: int = 4) -> tirx.PrimFunc:
    """Apply the MCU schedule; returns the scheduled PrimFunc."""
    sch = s_tir.Schedule(func)
    params = list(func.params)  # in TVM 0.27 a buffer parameter *is* the param Var
    reductions = []
    for rv in reversed(sch.get_child_blocks(sch.get_sblock("root"))):
        block = sch.get(rv)
        if _is_reduction(block):
            blocked = _place_reduction(sch, rv, params, block_channels)
            reductions.append((rv, blocked))
        elif not _writes_param(block, params):
            _place_elementwise(sch, rv)
    for rv, blocked in reductions:
        loop = _first_reduction_loop(sch, rv)
        init = sch.decompose_reduction(rv, loop) if loop is not None else None
        if blocked:
            _unroll_innermost_loop(sch, rv)  # the output channels
            if init is not None:
                _unroll_innermost_loop(sch, init)
        else:
            _unroll_innermost_reduction(sch, rv, unroll)
    return sch.mod["main"]
