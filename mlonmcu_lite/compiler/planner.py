"""Static arena planning: offsets packed by tensor lifetimes.

Each activation lives from the step that writes it to the last step that reads it (both
inclusive: a kernel's inputs and outputs coexist).  Buffers are placed greedily, largest
first, at the lowest aligned offset that does not overlap any already placed buffer whose
lifetime intersects.  Several deterministic orders are tried (largest first, earliest first,
longest-lived first, then seeded shuffles) until one reaches the lower bound; the smallest
arena is kept.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Interval:
    name: str
    size: int
    start: int  # first step (inclusive)
    end: int  # last step (inclusive)
    align: int = 8

    def overlaps(self, other: "Interval") -> bool:
        return self.start <= other.end and other.start <= self.end


@dataclass(frozen=True)
class ArenaPlan:
    offsets: dict[str, int]
    arena_bytes: int
    lower_bound: int  # max over steps of the summed (aligned) sizes of live buffers
    strategy: str


def _aligned(value: int, align: int) -> int:
    return (value + align - 1) // align * align


def lower_bound(buffers: list[Interval]) -> int:
    """No placement can use less: the largest total of simultaneously live buffers."""
    if not buffers:
        return 0
    steps = sorted({b.start for b in buffers})
    return max(sum(_aligned(b.size, b.align) for b in buffers if b.start <= t <= b.end) for t in steps)


def _place(order: list[Interval]) -> dict[str, int]:
    placed: list[tuple[int, Interval]] = []
    offsets: dict[str, int] = {}
    for buf in order:
        busy = sorted((off, off + other.size) for off, other in placed if other.overlaps(buf))
        best, best_gap = None, None
        cursor = 0
        for lo, hi in busy + [(None, None)]:
            start = _aligned(cursor, buf.align)
            gap = None if lo is None else lo - start
            if lo is None or gap >= buf.size:
                # best fit: the smallest gap that holds the buffer; the open end last
                if best is None or (gap is not None and (best_gap is None or gap < best_gap)):
                    best, best_gap = start, gap
                if lo is None:
                    break
            cursor = max(cursor, hi)
        offsets[buf.name] = best
        placed.append((best, buf))
    return offsets


def _orders(buffers: list[Interval], shuffles: int):
    yield "greedy_by_size", sorted(buffers, key=lambda b: (-b.size, b.start, b.name))
    yield "greedy_by_start", sorted(buffers, key=lambda b: (b.start, -b.size, b.name))
    yield "greedy_by_lifetime", sorted(buffers, key=lambda b: (b.start - b.end, -b.size, b.name))
    rng = random.Random(0)
    for i in range(shuffles):
        order = sorted(buffers, key=lambda b: (-b.size, b.name))
        # keep large-first on average, perturbed: random key weighted by size
        order.sort(key=lambda b: -b.size * rng.random())
        yield f"shuffle_{i}", order


def plan_arena(buffers: list[Interval], shuffles: int = 200) -> ArenaPlan:
    """Pack `buffers` into one arena: the smallest of several greedy orders (deterministic)."""
    names = [b.name for b in buffers]
    if len(set(names)) != len(names):
        raise ValueError("arena buffer names must be unique")
    bound = lower_bound(buffers)
    best: ArenaPlan | None = None
    for strategy, order in _orders(buffers, shuffles):
        offsets = _place(order)
        size = _aligned(max((offsets[b.name] + b.size for b in buffers), default=0), 8)
        if best is None or size < best.arena_bytes:
            best = ArenaPlan(offsets, size, bound, strategy)
        if best.arena_bytes <= _aligned(bound, 8):
            break
    check_plan(buffers, best)
    return best


def check_plan(buffers: list[Interval], plan: ArenaPlan) -> None:
    """Raise if two simultaneously live buffers overlap in memory or one is misaligned."""
    for i, a in enumerate(buffers):
        oa = plan.offsets[a.name]
        if oa % a.align or oa + a.size > plan.arena_bytes:
            raise AssertionError(f"buffer {a.name} misplaced at {oa}")
        for b in buffers[i + 1:]:
            ob = plan.offsets[b.name]
            if a.overlaps(b) and oa < ob + b.size and ob < oa + a.size:
                raise AssertionError(f"live buffers {a.name} and {b.name} overlap in the arena")
