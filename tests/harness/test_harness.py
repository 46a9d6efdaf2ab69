"""Harness mechanics: settings, cache, pool isolation (no compiler needed)."""

import threading
from pathlib import Path

import pytest

from mlonmcu_lite.harness.cache import BuildCache, FirmwareArtifacts, cache_key
from mlonmcu_lite.harness.pool import run_many
from mlonmcu_lite.harness.session import RunGroup, SessionRequest, expand
from mlonmcu_lite.harness.settings import RunSettings, SettingsError, build_settings
from mlonmcu_lite.harness.spec import RunSpec, Stage
from mlonmcu_lite.peripheral import PeripheralConfigError, PeripheralRequest
from mlonmcu_lite.workspace import default_workspace

from tests.helpers.harness_workers import behave


def test_settings_typed_and_unknown_keys_rejected():
    s = build_settings(["seed=7", "sim_timeout_s=2.5"])
    assert s.seed == 7 and s.sim_timeout_s == 2.5
    with pytest.raises(SettingsError, match=r"unknown setting\(s\) colour; valid settings: max_instructions"):
        build_settings(["colour=red"])
    with pytest.raises(SettingsError, match="seed"):
        build_settings(["seed=minus"])
    with pytest.raises(SettingsError, match="expected key=value"):
        build_settings(["seed"])


def test_expand_pairs_cpu_and_accelerated_runs(tmp_path):
    qvanilla = PeripheralRequest.parse("qvanilla:macs_per_cycle=32")
    assert qvanilla.settings == (("macs_per_cycle", 32),)  # typed once, in the CLI
    request = SessionRequest(groups=(RunGroup(models=("resnet", "x/y/my.tflite"), peripherals=(qvanilla,)),))
    specs = expand(request, "s", tmp_path)
    assert [(s.model, s.config) for s in specs] == [
        ("resnet", "cpu"), ("resnet", "cpu+qvanilla"), ("x/y/my.tflite", "cpu"), ("x/y/my.tflite", "cpu+qvanilla")]
    assert specs[3].run_id == "my__cpu+qvanilla__rv32imc"
    assert all(s.input_path is None and s.settings == specs[0].settings for s in specs)
    cpu_only = expand(SessionRequest(groups=(RunGroup(models=("aww",)),)), "s", tmp_path)
    assert [s.config for s in cpu_only] == ["cpu"]


def test_sweep_points_are_mappings_applied_to_the_first_peripheral(tmp_path):
    group = RunGroup(models=("aww",), peripherals=(PeripheralRequest.parse("qvanilla:setup_cycles=8"),),
                     points=({"macs_per_cycle": 4}, {"macs_per_cycle": 64}))
    specs = expand(SessionRequest(groups=(group,)), "s", tmp_path)
    assert [s.point for s in specs] == [{}, {"macs_per_cycle": 4}, {"macs_per_cycle": 64}]
    assert specs[1].run_id == "aww__cpu+qvanilla__rv32imc__macs_per_cycle=4"
    assert specs[2].peripherals[0].label == "qvanilla:setup_cycles=8,macs_per_cycle=64"
    with pytest.raises(PeripheralConfigError, match="macs_per_cycle"):
        group.peripherals[0].with_settings({"macs_per_cycle": 0})


def test_stages_are_an_enum_in_run_order():
    assert [s.value for s in Stage] == ["load", "build", "compile", "run", "postprocess", "validate"]
    assert f"{Stage.BUILD}" == "build"


def _artifacts(directory: Path) -> FirmwareArtifacts:
    (directory / "fw.elf").write_bytes(b"\x7fELF")
    return FirmwareArtifacts(directory=str(directory), elf=str(directory / "fw.elf"), sizes={"rom_bytes": 4},
                             build_seconds=1.0)


def test_cache_builds_once_and_rewrites_paths(tmp_path):
    cache = BuildCache(tmp_path)
    calls = []

    def build(directory):
        calls.append(directory)
        return _artifacts(directory)

    threads = [threading.Thread(target=cache.get_or_build, args=("k1", build)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    hit = FirmwareArtifacts.from_dict(cache.get_or_build("k1", build))
    assert len(calls) == 1
    assert hit.cached and Path(hit.elf) == tmp_path / "k1" / "fw.elf" and Path(hit.elf).exists()
    assert hit.sizes == {"rom_bytes": 4}


def test_cache_keys_separate_kinds_and_parts():
    ws = default_workspace()
    assert cache_key("model", ws, model="a").startswith("model-")
    assert cache_key("fw", ws, model="a", arch="rv32imc") != cache_key("fw", ws, model="a", arch="rv32gc")
    assert cache_key("fw", ws, model="a", arch="rv32imc") == cache_key("fw", ws, model="a", arch="rv32imc")


def test_cache_failed_build_leaves_nothing(tmp_path):
    cache = BuildCache(tmp_path)

    def broken(directory):
        raise RuntimeError("compiler exploded")

    with pytest.raises(RuntimeError, match="exploded"):
        cache.get_or_build("k2", broken)
    assert cache.lookup("k2") is None
    assert not [p for p in tmp_path.iterdir() if p.is_dir()]


def test_pool_isolates_failures_timeouts_and_crashes(tmp_path):
    settings = RunSettings(run_timeout_s=3)
    workspace = default_workspace().with_roots(cache_dir=tmp_path / "c")
    specs = [RunSpec(model=m, session="s", out_dir=str(tmp_path), workspace=workspace, settings=settings)
             for m in ("ok1", "raise", "hang", "crash", "ok2")]
    rows = run_many(specs, jobs=2, progress=False, worker=behave)
    by_model = {r.model: r for r in rows}
    assert [r.model for r in rows] == ["ok1", "raise", "hang", "crash", "ok2"]
    assert by_model["ok1"].run_instructions == 42 and not by_model["ok1"].failing
    assert by_model["ok2"].run_instructions == 42 and not by_model["ok2"].failing
    assert by_model["raise"].failing and "RuntimeError: boom" in by_model["raise"].reason
    assert by_model["hang"].reason == "TimeoutError: run exceeded 3 s @ run"
    assert by_model["crash"].reason.startswith("WorkerCrashed") and by_model["crash"].reason.endswith("@ run")


@pytest.mark.parametrize("pair", ["sim_timeout_s=inf", "sim_timeout_s=nan", "run_timeout_s=1e300",
                                  "sim_timeout_s=1e30", "max_instructions=99999999999999999999999"])
def test_settings_out_of_range_rejected_before_work(pair):
    """Values that validate as numbers but no limit can take (issue 15 item 12)."""
    with pytest.raises(SettingsError, match=pair.split("=")[0]):
        build_settings([pair])
