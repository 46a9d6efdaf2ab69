"""Study files: the short and the grouped form, their errors, and the round trip
request -> effective study.toml -> request (no runs: cheap)."""

from __future__ import annotations

import subprocess
import tomllib

import pytest

from mlonmcu_lite.errors import UserError
from mlonmcu_lite.harness.provenance import git_state
from mlonmcu_lite.harness.session import RunGroup, SessionRequest
from mlonmcu_lite.harness.settings import RunSettings
from mlonmcu_lite.harness.study import Study, StudyError
from mlonmcu_lite.peripheral.request import PeripheralRequest
from mlonmcu_lite.workspace import default_workspace


def _request(tmp_path) -> SessionRequest:
    model = tmp_path / "models" / "mine.tflite"
    groups = (RunGroup(models=("aww", "toycar"), archs=("rv32imc", "rv32gc"),
                       peripherals=(PeripheralRequest.parse("qvanilla"),), peripherals_default=True),
              RunGroup(models=(str(model),), archs=("rv32gc",), peripherals=()),
              RunGroup(models=("vww",), peripherals=(PeripheralRequest.parse("qvanilla:fused_requant=false"),
                                                     PeripheralRequest.parse("qdepthwise")),
                       points=({"macs_per_cycle": 8}, {"macs_per_cycle": 64})))
    return SessionRequest(groups=groups, settings=RunSettings(validate_samples=2, opt="-O3"),
                          input_path=str(tmp_path / "x.npy"), workspace=default_workspace(), suffix="-sweep")


def test_effective_study_file_gives_back_the_same_request(tmp_path):
    request = _request(tmp_path)
    path = Study.from_request(request).write(tmp_path / "elsewhere.toml")
    data = tomllib.loads(path.read_text())
    assert len(data["groups"]) == 3 and data["settings"]["opt"] == "-O3"
    assert data["settings"]["max_instructions"] == RunSettings().max_instructions  # defaults spelled out
    assert data["groups"][2]["peripherals"][0] == {"name": "qvanilla", "settings": {"fused_requant": False}}
    assert Study.load(path).request(request.workspace) == request


def test_short_form_with_a_grid_relative_paths_and_defaults(tmp_path):
    (tmp_path / "study.toml").write_text(
        'models = ["aww", "net/my.tflite"]\nperipherals = ["qvanilla:setup_cycles=4"]\n'
        'sweep = {macs_per_cycle = [8, "16"]}\ninput = "x.npy"\n[settings]\nseed = 3\n')
    request = Study.load(tmp_path / "study.toml").request(default_workspace())
    (group,) = request.groups
    assert group.models == ("aww", str(tmp_path / "net" / "my.tflite")) and group.archs == ("rv32imc",)
    assert group.points == ({"macs_per_cycle": 8}, {"macs_per_cycle": 16})  # typed by the peripheral
    assert group.peripherals == (PeripheralRequest("qvanilla", (("setup_cycles", 4),)),)
    assert request.input_path == str(tmp_path / "x.npy") and request.settings.seed == 3
    default = Study.parse({"models": ["aww"]}).request(default_workspace()).groups[0]
    assert default.peripherals == (PeripheralRequest("qvanilla"),) and default.peripherals_default
    cpu = Study.parse({"models": ["aww"], "peripherals": []}).request(default_workspace()).groups[0]
    assert cpu.peripherals == () and not cpu.points


@pytest.mark.parametrize("data, message", [
    ({"models": ["aww"], "modles": 1}, "modles"),
    ({"models": []}, "models"),
    ({"models": ["aww"], "settings": {"sead": 1}}, "unknown setting"),
    ({"models": ["aww"], "archs": ["rv64"]}, "unknown arch"),
    ({"models": ["aww"], "peripherals": [], "sweep": {"macs_per_cycle": [8]}}, "sweep needs a peripheral"),
    ({"models": ["aww"], "peripherals": ["qvanilla:macs_per_cycle=-1"]}, "macs_per_cycle"),
    ({"models": ["aww"], "groups": [{"models": ["vww"]}]}, "not both"),
])
def test_bad_studies_are_errors_naming_the_key(data, message):
    with pytest.raises(UserError, match=message):  # exit code 2 on the command line
        Study.parse(data).request(default_workspace())


def test_unreadable_and_invalid_toml_are_study_errors(tmp_path):
    with pytest.raises(StudyError, match="cannot read"):
        Study.load(tmp_path / "missing.toml")
    (tmp_path / "bad.toml").write_text("models = [")
    with pytest.raises(StudyError, match="not valid TOML"):
        Study.load(tmp_path / "bad.toml")


def test_git_state_of_a_peripheral_folder_in_its_own_repository(tmp_path):
    folder = tmp_path / "periph" / "myacc"
    folder.mkdir(parents=True)
    assert git_state(folder) is None  # not versioned
    (folder / "spec.py").write_text("x = 1\n")
    git = ["git", "-C", str(tmp_path / "periph"), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "x"], check=True)
    head = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    assert git_state(folder) == {"repo": str(tmp_path / "periph"), "commit": head, "dirty": False}
    (folder / "spec.py").write_text("x = 2\n")
    assert git_state(folder)["dirty"] is True
