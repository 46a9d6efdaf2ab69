"""What a validation mismatch says: which output, how many values differ, by how much, and where first."""

from __future__ import annotations

import numpy as np


def output_label(index: int, name: str | None) -> str:
    """`output 0 'Identity'` (the TFLite tensor name when known)."""
    return f"output {index} {name!r}" if name else f"output {index}"


def first_difference(bad: np.ndarray, got: np.ndarray, want: np.ndarray) -> str:
    """`first at [0, 3] (got 5, want 7)`: the first differing element in C order, or '' if none."""
    flat = np.flatnonzero(np.asarray(bad).ravel())
    if not flat.size:
        return ""
    where = [int(i) for i in np.unravel_index(int(flat[0]), np.shape(got))]
    g, w = np.asarray(got).ravel()[flat[0]], np.asarray(want).ravel()[flat[0]]
    return f"first at {where} (got {g.item()!r}, want {w.item()!r})"


def exact_mismatch(sample: int, label: str, got: np.ndarray, want: np.ndarray) -> str | None:
    """None when bit-exact; else `sample 0 output 0 'y': 3 of 10 values differ, max |diff| 2, first at [4] (got 1, want 3)`."""
    if np.array_equal(got, want):
        return None
    bad = got != want
    diff = int(np.max(np.abs(got.astype(np.int64) - want.astype(np.int64))))
    return (f"sample {sample} {label}: {int(np.count_nonzero(bad))} of {got.size} values differ, "
            f"max |diff| {diff}, {first_difference(bad, got, want)}")
