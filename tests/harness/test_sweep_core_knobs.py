"""Sweeps over run-setting knobs (`core`, `energy`) next to peripheral knobs: each point's
runs carry the point's core; CPU-only runs repeat once per core (no compiler needed)."""

import pytest

from mlonmcu_lite.harness.session import RunGroup, SessionRequest, expand
from mlonmcu_lite.harness.settings import SettingsError
from mlonmcu_lite.harness.sweep import grid_points, parse_params, split_point, typed_points
from mlonmcu_lite.peripheral import PeripheralRequest


def test_core_knob_goes_to_the_run_settings_and_repeats_the_cpu_runs(tmp_path):
    first = PeripheralRequest.parse("qvanilla:cost_model=detailed")
    points = typed_points(first, grid_points(parse_params(("dma_bytes_per_cycle=4,16", "core=ideal,cv32e40p"))))
    assert points[0] == {"dma_bytes_per_cycle": 4, "core": "ideal"}
    assert split_point(points[1]) == ({"core": "cv32e40p"}, {"dma_bytes_per_cycle": 4})
    group = RunGroup(models=("aww",), peripherals=(first,), points=points)
    specs = expand(SessionRequest(groups=(group,)), "s", tmp_path)
    cpu = [s for s in specs if s.config == "cpu"]
    assert [(s.point, s.settings.core) for s in cpu] == [({"core": "ideal"}, "ideal"),
                                                         ({"core": "cv32e40p"}, "cv32e40p")]
    acc = [s for s in specs if s.config != "cpu"]
    assert [(s.settings.core, dict(s.peripherals[0].settings)["dma_bytes_per_cycle"]) for s in acc] == [
        ("ideal", 4), ("cv32e40p", 4), ("ideal", 16), ("cv32e40p", 16)]
    assert "core" not in dict(acc[0].peripherals[0].settings)
    assert len({s.run_id for s in specs}) == len(specs)


def test_a_bad_core_in_a_sweep_is_an_error_before_any_run():
    with pytest.raises(SettingsError, match="core"):
        typed_points(PeripheralRequest.parse("qvanilla"), [{"core": "nosuchcore"}])
