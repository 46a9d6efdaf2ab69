"""Arena planner: live buffers never overlap, and the arena is as small as the live sum."""

from __future__ import annotations

import random

import pytest

from mlonmcu_lite.compiler.planner import ArenaPlan, Interval, check_plan, lower_bound, plan_arena


def test_chain_reuses_memory():
    # a -> b -> c -> d: at most two buffers are live at once
    bufs = [Interval("a", 100, 0, 1), Interval("b", 200, 1, 2), Interval("c", 100, 2, 3), Interval("d", 50, 3, 4)]
    plan = plan_arena(bufs)
    assert plan.lower_bound == 104 + 200 == 304  # aligned to 8
    assert plan.arena_bytes == 304
    assert plan.offsets["a"] != plan.offsets["b"]


def test_fragmentation_case_reaches_bound():
    # Alternating 128-byte chain with an 8-byte buffer in the middle (toycar's shape): largest-first
    # alone leaves the small buffer stranded above 256 bytes.
    names = iter("abcdefghij")
    bufs = []
    for i, size in enumerate([128, 128, 128, 128, 8, 128, 128, 128, 128]):
        bufs.append(Interval(next(names), size, i, i + 1))
    plan = plan_arena(bufs)
    assert plan.arena_bytes == plan.lower_bound == 256


def test_disjoint_lifetimes_share_offset_zero():
    bufs = [Interval("x", 64, 0, 0), Interval("y", 32, 1, 1), Interval("z", 16, 2, 2)]
    plan = plan_arena(bufs)
    assert set(plan.offsets.values()) == {0}
    assert plan.arena_bytes == 64


def test_alignment_respected():
    bufs = [Interval("a", 3, 0, 2, align=1), Interval("b", 8, 0, 2, align=8), Interval("c", 5, 0, 2, align=4)]
    plan = plan_arena(bufs)
    assert plan.offsets["b"] % 8 == 0 and plan.offsets["c"] % 4 == 0
    check_plan(bufs, plan)


def test_check_plan_detects_overlap():
    bufs = [Interval("a", 16, 0, 1), Interval("b", 16, 1, 2)]
    with pytest.raises(AssertionError, match="overlap"):
        check_plan(bufs, ArenaPlan({"a": 0, "b": 8}, 32, 32, "manual"))


def test_duplicate_names_rejected():
    with pytest.raises(ValueError, match="unique"):
        plan_arena([Interval("a", 1, 0, 0), Interval("a", 1, 1, 1)])


@pytest.mark.parametrize("seed", range(20))
def test_random_graphs_are_valid_and_bounded(seed):
    rng = random.Random(seed)
    bufs = []
    for i in range(rng.randint(1, 25)):
        start = rng.randint(0, 20)
        bufs.append(Interval(f"t{i}", rng.choice([8, 16, 64, 100, 256, 1000]), start, start + rng.randint(0, 4)))
    plan = plan_arena(bufs)
    check_plan(bufs, plan)  # no two live buffers overlap
    assert plan.lower_bound == lower_bound(bufs) <= plan.arena_bytes
    assert plan.arena_bytes <= sum((b.size + 7) // 8 * 8 for b in bufs)


def test_empty():
    plan = plan_arena([])
    assert plan.arena_bytes == plan.lower_bound == 0
