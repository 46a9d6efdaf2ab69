"""Design-space points: knob syntax, grid, random and Latin-hypercube sampling."""

from __future__ import annotations

import pytest

from mlonmcu_lite.harness.settings import SettingsError
from mlonmcu_lite.harness.sweep import Knob, grid_points, parse_knob, parse_params, sample_points


def test_knob_syntax():
    assert parse_knob("macs_per_cycle=8, 16") == Knob("macs_per_cycle", choices=("8", "16"))
    assert parse_knob("setup_cycles=0..200") == Knob("setup_cycles", low=0, high=200)
    assert parse_knob("macs_per_cycle=1..256:log") == Knob("macs_per_cycle", low=1, high=256, log=True)
    assert parse_knob("x=0.5..2").integer is False
    for bad in ("macs_per_cycle", "m=", "m=8..1", "m=0..8:log", "m=a..b", "m=1..2:cubic"):
        with pytest.raises(SettingsError):
            parse_knob(bad)
    with pytest.raises(SettingsError, match="more than once"):
        parse_params(("m=1,2", "m=3"))


def test_grid_is_every_combination_and_refuses_ranges():
    knobs = parse_params(("a=1,2", "b=x,y,z"))
    assert grid_points(knobs) == [{"a": a, "b": b} for a in "12" for b in "xyz"]
    with pytest.raises(SettingsError, match="needs --sample"):
        grid_points(parse_params(("a=1..4",)))


def test_range_ends_are_reachable_and_never_exceeded():
    knob = Knob("m", low=1, high=4)
    assert [knob.at(u) for u in (0.0, 0.249, 0.25, 0.99, 1.0)] == ["1", "1", "2", "4", "4"]
    log = Knob("m", low=1, high=256, log=True)
    assert log.at(0.0) == "1" and log.at(1.0) == "256" and log.at(0.5) == "16"


def test_latin_hypercube_hits_every_stratum_once():
    knobs = parse_params(("a=0..9", "b=0..9"))
    points = sample_points(knobs, "lhs", 10, seed=3)
    for name in "ab":
        assert sorted(int(p[name]) for p in points) == list(range(10))  # one per stratum
    assert sample_points(knobs, "lhs", 10, seed=3) == points  # seeded


def test_random_sampling_is_seeded_and_deduplicated():
    knobs = parse_params(("a=1,2",))
    assert sample_points(knobs, "random", 50, seed=1) in ([{"a": "1"}, {"a": "2"}], [{"a": "2"}, {"a": "1"}])
    wide = parse_params(("a=0..1000000",))
    assert sample_points(wide, "random", 20, seed=7) == sample_points(wide, "random", 20, seed=7)
    assert sample_points(wide, "random", 20, seed=7) != sample_points(wide, "random", 20, seed=8)
