"""Property: whatever small model (valid or corrupted) and settings a user gives, every run
ends `exact` or as a clear failing row naming the model and the stage -- never a traceback,
never a lost row (issue 15).  Models come from the zoo generator's writer (models/tflgen);
examples are few and derandomized, so their builds hit the shared test cache on later runs."""

from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from mlonmcu_lite.harness.results import report_session
from mlonmcu_lite.harness.runner import execute_run
from mlonmcu_lite.harness.session import RunGroup, SessionRequest, expand
from mlonmcu_lite.harness.settings import RunSettings
from mlonmcu_lite.peripheral.request import PeripheralRequest
from mlonmcu_lite.workspace import default_workspace
from tests.helpers.e2e import TEST_CACHE

sys.path.insert(0, str(default_workspace().models_dir))
from tflgen.graph import Graph  # noqa: E402
from tflgen.pipeline import generate  # noqa: E402
from tflgen.spec import ModelSpec  # noqa: E402

STAGES = "load|build|compile|run|postprocess|validate"
REASON = re.compile(rf"^[A-Za-z]+: .+ @ ({STAGES})$", re.S)


@st.composite
def small_models(draw):
    """(name, body) of a one- or two-layer int8 model: conv, depthwise, pool or dense."""
    kind = draw(st.sampled_from(["conv", "dw", "avgpool", "fc"]))
    size, channels = draw(st.integers(4, 7)), draw(st.integers(1, 3))
    kernel, stride = draw(st.integers(1, 3)), draw(st.integers(1, 2))
    padding, act = draw(st.sampled_from(["SAME", "VALID"])), draw(st.sampled_from(["NONE", "RELU"]))
    filters = draw(st.integers(1, 4))
    name = f"p_{kind}_{size}x{channels}_k{kernel}s{stride}{padding[0]}{act[0]}_f{filters}"

    def body(g: Graph) -> None:
        if kind == "fc":
            g.output(g.fully_connected(g.input("input", (1, size * channels)), "fc", filters, act))
            return
        x = g.input("input", (1, size, size, channels))
        if kind == "conv":
            g.output(g.conv2d(x, "conv", filters, (kernel, kernel), stride, padding, act))
        elif kind == "dw":
            g.output(g.depthwise(x, "dw", (kernel, kernel), stride, padding, act))
        else:
            g.output(g.avg_pool(x, "pool", (kernel, kernel), stride, padding))
    return name, body


CORRUPTIONS = ["none", "truncate", "flip", "empty", "garbage"]


def _write(folder: Path, name: str, body, corruption: str, cut: float) -> Path:
    def build() -> Graph:
        g = Graph(name, seed=7)
        body(g)
        return g

    data = generate(ModelSpec(name, "property test", build, seed=8, calibration_size=8)).tflite
    position = max(1, int(len(data) * cut))
    data = {"none": data, "truncate": data[:position], "empty": b"",
            "garbage": b"TFL3" + bytes(range(256)) * 4,
            "flip": data[:position] + bytes([data[position % len(data)] ^ 0xFF]) + data[position + 1:]}[corruption]
    path = folder / f"{name}_{corruption}.tflite"
    path.write_bytes(data)
    return path


@settings(max_examples=5, deadline=None, derandomize=True, database=None, phases=(Phase.explicit, Phase.generate),
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(model=small_models(), corruption=st.sampled_from(CORRUPTIONS), cut=st.floats(0.05, 0.95),
       accelerated=st.booleans(), opt=st.sampled_from(["-O2", "-Os"]),
       budget=st.sampled_from([4_000_000_000, 2_000]), check=st.booleans())
def test_any_model_and_settings_end_exact_or_in_a_clear_error(model, corruption, cut, accelerated, opt,
                                                              budget, check):
    name, body = model
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = _write(folder, name, body, corruption, cut)
        peripherals = (PeripheralRequest.parse("qvanilla", []),) if accelerated else ()
        request = SessionRequest(
            groups=(RunGroup(models=(str(path),), peripherals=peripherals, peripherals_default=True),),
            settings=RunSettings(opt=opt, max_instructions=budget, check_peripherals=check, validate_samples=1),
            workspace=default_workspace().with_roots(cache_dir=TEST_CACHE, reports_dir=folder))
        specs = expand(request, "prop", folder / "session")
        results = [execute_run(spec) for spec in specs]
        frame, files, table = report_session(results, folder / "session")

    assert len(frame) == len(specs) and list(frame["run_id"]) == [s.run_id for s in specs]  # no lost row
    label = path.stem
    for result in results:
        assert result.model == label
        if not result.failing:
            assert result.validation == "exact", result
            continue
        assert REASON.match(result.reason), result.reason  # "<Error>: <what> @ <stage>"
        assert "Traceback" not in result.reason
        assert label in result.reason or result.run_id in result.reason, result.reason
    if corruption in ("empty", "garbage", "truncate"):
        assert all(r.failing and r.reason.endswith("@ load") for r in results), [r.reason for r in results]
    if corruption == "none" and budget > 10_000:
        assert not any(r.failing for r in results), [r.reason for r in results]
