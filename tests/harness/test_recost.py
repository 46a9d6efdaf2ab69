"""Trace re-costing: a re-costed point's row equals the full simulation of that point."""

from __future__ import annotations

import dataclasses

import pytest

from mlonmcu_lite.harness.recost import Recoster, TraceDiverged, plan
from mlonmcu_lite.harness.runner import execute_run
from mlonmcu_lite.harness.spec import RunSpec
from mlonmcu_lite.peripheral.request import PeripheralRequest
from tests.helpers.e2e import TEST_WORKSPACE

# what differs between two simulations of one point (wall times) or says how it was made
VOLATILE = {"session", "sim_seconds", "mips", "compile_seconds", "build_seconds", "cached", "recosted_from",
            "trace"}


def _spec(model: str, out, peripherals: tuple[str, ...], point: dict) -> RunSpec:
    first, *rest = (PeripheralRequest.parse(p) for p in peripherals)
    return RunSpec(model=model, session="t", out_dir=str(out), workspace=TEST_WORKSPACE,
                   peripherals=(first.with_settings(point), *rest), point=point)


def _row(result) -> dict:
    return {k: v for k, v in dataclasses.asdict(result).items() if k not in VOLATILE}


@pytest.mark.parametrize("model, peripherals, base, points", [
    ("conv_5x3_s2_same", ("qvanilla",), {"macs_per_cycle": 1},
     [{"macs_per_cycle": 64}, {"macs_per_cycle": 3, "setup_cycles": 0}]),
    # two devices, the detailed cost model's knobs on the first (incl. switching the model)
    ("chain_dw_pw", ("qdepthwise:cost_model=detailed", "qvanilla"), {"pe_lanes": 4},
     [{"pe_lanes": 1, "dma_bytes_per_cycle": 1, "double_buffering": False},
      {"pe_lanes": 16, "macs_per_cycle": 64, "setup_cycles": 500}, {"cost_model": "simple"}]),
])
def test_recosted_points_equal_full_simulations(model, peripherals, base, points, tmp_path):
    base_spec = _spec(model, tmp_path, peripherals, base)
    base_row = execute_run(base_spec)
    assert not base_row.failing, base_row.reason
    recoster = Recoster()
    for point in points:
        spec = _spec(model, tmp_path, peripherals, point)
        assert recoster.key(spec) == recoster.key(base_spec)
        simulated, recosted = execute_run(spec), recoster.recost(spec, base_row)
        assert recosted.recosted_from == base_row.run_id and recosted.sim_seconds is None
        assert recosted.est_cycles != base_row.est_cycles  # the knob mattered...
        assert _row(recosted) == _row(simulated)           # ...and re-costing got it exactly


def test_polling_firmware_whose_path_changes_is_simulated_instead(tmp_path):
    peripherals = ("qvanilla:wait_mode=poll",)
    base = execute_run(_spec("conv_5x3_s2_same", tmp_path, peripherals, {"macs_per_cycle": 1}))
    assert not base.failing, base.reason
    # the polling loop spins for the busy time: a faster engine means fewer polls
    with pytest.raises(TraceDiverged, match="STATUS at instruction"):
        Recoster().recost(_spec("conv_5x3_s2_same", tmp_path, peripherals, {"macs_per_cycle": 64}), base)


def test_plan_groups_points_by_firmware(tmp_path):
    specs = [RunSpec(model="conv_5x3_s2_same", session="t", out_dir=str(tmp_path), workspace=TEST_WORKSPACE),
             *(_spec("conv_5x3_s2_same", tmp_path, ("qvanilla",), point) for point in (
                 {"macs_per_cycle": 1, "wait_mode": "stall"}, {"macs_per_cycle": 2, "wait_mode": "stall"},
                 {"macs_per_cycle": 1, "wait_mode": "poll"}, {"macs_per_cycle": 2, "wait_mode": "poll"}))]
    recoster = Recoster()
    simulate, recost = plan(specs, recoster)
    assert simulate == [0, 1, 3] and list(recost) == [2, 4]  # wait_mode is a codegen knob
    assert recost[2] == recoster.key(specs[1]) and recost[4] == recoster.key(specs[3]) != recost[2]
    assert plan(specs[2:3], recoster, known={recost[2]}) == ([], {0: recost[2]})  # simulated earlier


def test_nsga2_search_with_recost_reports_its_pareto_front(tmp_path):
    import pandas as pd

    from mlonmcu_lite.reports.sweep import pareto_mask
    from tests.helpers.e2e import bench_json

    proc, rows = bench_json("sweep", "conv_5x3_s2_same", "-p", "qvanilla", "--param", "macs_per_cycle=1..64:log",
                            "--param", "setup_cycles=0..100", "--sample", "nsga2", "--points", "12",
                            "--population", "6", "--recost", "--out", str(tmp_path),
                            "--cache-dir", str(TEST_WORKSPACE.cache_dir))
    assert proc.returncode == 0, proc.stderr
    acc = [r for r in rows if r["config"] != "cpu"]
    assert 2 <= len(acc) <= 12 and len({r["point"] for r in acc}) == len(acc)
    simulated = [r for r in acc if r["recosted_from"] is None]
    assert len(simulated) == 1 and all(r["recosted_from"] == simulated[0]["run_id"] for r in acc[1:])
    assert "re-costed" in proc.stderr and "points/min" in proc.stderr
    (session,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    front = pd.read_csv(session / "pareto.csv")
    assert (session / "pareto.png").stat().st_size > 1000
    objectives = front[["est_cycles", "macs_per_cycle"]].to_numpy(dtype=float)
    every = [[r["est_cycles"], float(r["point"].split(",")[0].split("=")[1])] for r in acc]
    assert pareto_mask(objectives).all() and len(front) == int(pareto_mask(every).sum())


CUSTOM_CORE = """name = "lumpy"
description = "a test profile with a different weight on every event kind"
isa = "rv32gc"
branch_taken = 5
branch_not_taken = 2
misaligned_target = 3
[cycles]
alu = 1
mul = 4
mulh = 6
div = 19
load = 3
store = 2
jump = 4
csr = 7
csr_m = 8
system = 9
fpu = 11
fpu_div = 13
[[hazards]]
producers = ["load"]
consumers = "any"
penalty = 2
[[hazards]]
producers = "any"
consumers = "any"
penalty = 1
"""


@pytest.mark.parametrize("arch", ["rv32imc", "rv32gc"])
def test_core_profiles_recosted_from_one_recording_equal_full_simulations(arch, tmp_path):
    """One simulation (core ideal) records its event counts; every shipped profile and a
    user profile file then cost the CPU-only and the accelerated run (totals, per-layer
    cycles, cpi, energy, the accelerator's stalls under the new clock) exactly as a full
    simulation with that profile does."""
    from mlonmcu_lite.harness.settings import RunSettings
    from mlonmcu_lite.vp.core_timing import builtin_cores

    custom = tmp_path / "lumpy.toml"
    custom.write_text(CUSTOM_CORE)

    def spec(peripherals, core, record=False):
        return RunSpec(model="conv_5x3_s2_same", session="t", out_dir=str(tmp_path), workspace=TEST_WORKSPACE,
                       arch=arch, peripherals=tuple(PeripheralRequest.parse(p) for p in peripherals),
                       settings=RunSettings(core=core), point={"core": core}, record_events=record)

    recoster = Recoster()
    for peripherals in ((), ("qvanilla:macs_per_cycle=2",)):
        base = execute_run(spec(peripherals, "ideal", record=True))
        assert not base.failing, base.reason
        assert base.trace["events"] is not None  # the recording reproduced the run's own cycles
        cycles = set()
        for core in [c for c in builtin_cores() if c != "ideal"] + [str(custom)]:
            point = spec(peripherals, core)
            assert recoster.key(point) == recoster.key(base_spec := spec(peripherals, "ideal"))
            simulated, recosted = execute_run(point), recoster.recost(point, base)
            assert recosted.recosted_from == base.run_id and base_spec.run_id != point.run_id
            assert _row(recosted) == _row(simulated), core
            cycles.add(recosted.cpu_cycles)
        assert len(cycles) == 3  # every profile costs differently


def test_a_base_that_failed_fails_its_own_core_only(tmp_path):
    """A simulated run failing (e.g. a core without an FPU) says nothing of another core:
    points with the base's core are not simulated, the others run themselves."""
    from mlonmcu_lite.harness.pool import failed_result
    from mlonmcu_lite.harness.session import SessionRuns
    from mlonmcu_lite.harness.settings import RunSettings

    class Failing:
        def __init__(self):
            self.batches = []

        def run(self, specs, progress=True):
            self.batches.append([(s.settings.core, s.record_events) for s in specs])
            return [failed_result(s, "UnsupportedInstruction: no fpu unit @ run") for s in specs]

    specs = [dataclasses.replace(_spec("conv_5x3_s2_same", tmp_path, ("qvanilla",), {"macs_per_cycle": m}),
                                 settings=RunSettings(core=core))
             for core, m in (("ibex-small", 8), ("ibex-small", 16), ("cv32e40p", 8))]
    executor = Failing()
    rows = SessionRuns(executor, recost=True, progress=False).run(specs)
    assert executor.batches == [[("ibex-small", True)], [("cv32e40p", False)]]
    assert rows[1].reason.startswith("NotSimulated: ") and rows[2].reason.startswith("UnsupportedInstruction")


def test_a_polling_run_keeps_a_bounded_number_of_event_vectors(tmp_path, monkeypatch):
    """A polling driver reads STATUS every few instructions: past MAX_TRACE_VECTORS a device
    keeps no more event vectors, and another core is then simulated instead of re-costed."""
    from mlonmcu_lite.harness.settings import RunSettings
    from mlonmcu_lite.peripheral import accelerator

    monkeypatch.setattr(accelerator, "MAX_TRACE_VECTORS", 3)
    point = {"macs_per_cycle": 1}
    base_spec = dataclasses.replace(_spec("conv_5x3_s2_same", tmp_path, ("qvanilla:wait_mode=poll",), point),
                                    record_events=True)
    base = execute_run(base_spec)
    assert not base.failing, base.reason
    assert base.trace["events"]["devices"] == {"qvanilla": None}
    assert len(base.trace["devices"]["qvanilla"]["events"]) > 3
    other = dataclasses.replace(base_spec, settings=RunSettings(core="cv32e40p"), record_events=False)
    with pytest.raises(TraceDiverged, match="too many"):
        Recoster().recost(other, base)
    assert Recoster().recost(dataclasses.replace(base_spec, record_events=False), base).est_cycles == base.est_cycles
