"""Static arena planning: offsets packed by tensor lifetimes.

Each activation lives from the step that writes it to the last step that reads it (both
inclusive: a kernel's inputs and outputs coexist).  Buffers are placed greedily, largest
first, at the lowest aligned offset that does not overlap any already placed buffer whose
lifetime intersects; a second order (earliest first) is tried and the smaller arena kept.
"""

from __future__ import annotations

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


def plan_arena(buffers: list[Interval]) -> ArenaPlan:
    """Pack `buffers` into one arena; returns the best of two greedy orders."""
    names = [b.name for b in buffers]
    if len(set(names)) != len(names):
        raise ValueError("arena buffer names must be unique")
    orders = {
        "greedy_by_size": sorted(buffers, key=lambda b: (-b.size, b.start, b.name)),
        "greedy_by_start": sorted(buffers, key=lambda b: (b.start, -b.size, b.name)),
    }
    best: ArenaPlan | None = None
    for strategy, order in orders.items():
        offsets = _place(order)
        size = max((offsets[b.name] + b.size for b in buffers), default=0)
        size = _aligned(size, 8)
        if best is None or size < best.arena_bytes:
            best = ArenaPlan(offsets, size, lower_bound(buffers), strategy)
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
