"""The Pareto front of a sweep (all objectives minimised)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings, strategies as st

from mlonmcu_lite.reports.sweep import pareto_front, pareto_mask


def test_front_of_a_small_set():
    values = [[1, 9], [2, 5], [3, 5], [4, 1], [5, 1], [2, 5]]
    assert pareto_mask(values).tolist() == [True, True, False, True, False, True]  # ties both kept


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 20), st.integers(0, 20), st.integers(0, 5)), min_size=1, max_size=40))
def test_front_matches_the_definition(points):
    values = np.array(points, dtype=float)
    mask = pareto_mask(values)
    for i, p in enumerate(values):
        dominated = any(np.all(q <= p) and np.any(q < p) for q in values)
        assert mask[i] == (not dominated)


def test_front_over_a_knob_and_a_column_skips_failing_rows():
    df = pd.DataFrame({"model": "m", "config": "cpu+q", "failing": [False, False, False, True],
                       "point": ["macs_per_cycle=1", "macs_per_cycle=2", "macs_per_cycle=4", "macs_per_cycle=8"],
                       "est_cycles": [100, 120, 30, 1]})
    front = pareto_front(df, ("est_cycles", "macs_per_cycle"))
    assert front["point"].tolist() == ["macs_per_cycle=4", "macs_per_cycle=1"]
