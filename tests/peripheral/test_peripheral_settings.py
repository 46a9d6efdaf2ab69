"""Peripheral settings: `name:key=value` overrides parsed and validated against the model."""

from __future__ import annotations

import pytest

from mlonmcu_lite.peripheral import PeripheralConfigError, load_backend
from mlonmcu_lite.peripheral.settings import CostSettings, parse_peripheral_arg


def test_parse_peripheral_arg_forms():
    assert parse_peripheral_arg("qvanilla") == ("qvanilla", {})
    assert parse_peripheral_arg("qvanilla:macs_per_cycle=32") == (
        "qvanilla", {"macs_per_cycle": "32"})
    assert parse_peripheral_arg(" q:a=1,b=2:c = 3 ") == ("q", {"a": "1", "b": "2", "c": "3"})
    for bad, why in ((":a=1", "no name"), ("q:a", "not key=value"), ("q:a=1,a=2", "twice")):
        with pytest.raises(PeripheralConfigError, match=why):
            parse_peripheral_arg(bad)


def test_overrides_are_typed_and_applied():
    backend = load_backend("qvanilla:macs_per_cycle=32:setup_cycles=0,wait_mode=stall")
    assert backend.settings.macs_per_cycle == 32 and backend.settings.setup_cycles == 0
    assert backend.settings.wait_mode == "stall"
    assert backend.device().settings is backend.settings
    assert load_backend("qvanilla").settings == type(backend.settings)()


def test_unknown_key_lists_the_valid_ones():
    with pytest.raises(PeripheralConfigError) as err:
        load_backend("qvanilla:macs_per_cyle=32")
    msg = str(err.value)
    assert "unknown setting 'macs_per_cyle'" in msg
    for key in ("setup_cycles", "macs_per_cycle", "wait_mode (poll|stall"):
        assert key in msg


@pytest.mark.parametrize("override, why", [
    ("macs_per_cycle=0", "greater than or equal to 1"),
    ("macs_per_cycle=2.5", "valid integer"),
    ("setup_cycles=-1", "greater than or equal to 0"),
    ("macs_per_cycle=lots", "valid integer"),
    ("wait_mode=sleep", "'poll' or 'stall'"),
])
def test_wrong_types_and_ranges_are_errors(override, why):
    with pytest.raises(PeripheralConfigError, match=why) as err:
        load_backend(f"qvanilla:{override}")
    assert override.split("=")[0] in str(err.value)


def test_cost_model_rounds_up():
    s = CostSettings(setup_cycles=10, macs_per_cycle=16)
    assert [s.job_cycles(m) for m in (0, 1, 16, 17)] == [10, 11, 11, 12]
