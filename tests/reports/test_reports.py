"""Report side: schema, comparisons, session files, round trips, study table.

The data are hand-made RunResults (the report logic does not care where the
figures came from); the numbers are the reference study's, so the expected
saved % is known independently: 1 - 14.4e6/57.3e6.
"""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from mlonmcu_lite.reports import (
    SCHEMA_VERSION,
    RunResult,
    SchemaError,
    add_comparisons,
    load_results,
    study_table,
    to_dataframe,
    write_session_report,
)
from mlonmcu_lite.reports.schema import COLUMNS

STUDY = {  # model: (CPU instr, CPU+Acc instr, MACs)
    "resnet": (57_312_456, 14_401_234, 12_501_600),
    "vww": (41_200_003, 14_600_001, 7_489_664),
    "aww": (14_300_007, 5_340_005, 2_656_768),
}


def sample_results(failing_model: str | None = None) -> list[RunResult]:
    """CPU and CPU+qvanilla rows per model; est_cycles = instr + accelerator cycles."""
    rows = []
    for model, (cpu, acc, macs) in STUDY.items():
        common = dict(session="s1", model=model, arch="rv32imc", macs=macs, validation="exact", ram_bytes=120_000)
        rows.append(RunResult(**common, run_id=f"{model}__cpu", run_instructions=cpu, est_cycles=cpu,
                              rom_bytes=210_000, settings={"opt": 3}))
        acc_row = RunResult(**common, run_id=f"{model}__cpu+qvanilla", peripheral="qvanilla",
                            run_instructions=acc, est_cycles=acc + macs // 16, acc_macs=macs - 1000,
                            acc_cycles=macs // 16, acc_jobs=7, rom_bytes=200_000)
        if model == failing_model:
            acc_row = RunResult(session="s1", model=model, arch="rv32imc", peripheral="qvanilla",
                                failing=True, reason="VPFault: load access fault @ run")
        rows.append(acc_row)
    return rows


@pytest.fixture
def frame() -> pd.DataFrame:
    return add_comparisons(to_dataframe(sample_results(failing_model="vww")))


def test_frame_has_schema_columns_dtypes_and_version() -> None:
    df = to_dataframe(sample_results())
    assert list(df.columns) == list(COLUMNS)
    assert list(df.columns[:6]) == ["session", "run_id", "model", "config", "arch", "peripheral"]
    assert df.attrs["schema_version"] == SCHEMA_VERSION
    assert df["run_instructions"].dtype == "Int64"
    assert df.loc[0, "run_instructions"] == 57_312_456  # exact, not a float
    cpu = df[df["config"] == "cpu"]
    # accelerator counters of CPU runs do not apply: missing, never 0
    assert cpu["acc_macs"].isna().all() and cpu["acc_cycles"].isna().all()
    assert set(df["config"]) == {"cpu", "cpu+qvanilla"}
    assert df.loc[0, "settings"] == '{"opt": 3}'


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(validation="ok"), "validation 'ok'"),
        (dict(config="cpu+qvanilla"), "does not match peripheral None"),
        (dict(config="gpu"), "config 'gpu'"),
        (dict(failing=True), "needs a reason"),
        (dict(settings="{not json"), "not a JSON string"),
    ],
)
def test_run_result_rejects_bad_values(kwargs: dict, message: str) -> None:
    with pytest.raises(SchemaError, match=message):
        RunResult(model="resnet", **kwargs)


def test_config_is_derived_from_peripheral() -> None:
    assert RunResult(model="m").config == "cpu"
    assert RunResult(model="m", peripheral="qvanilla+dma").config == "cpu+qvanilla+dma"


def test_comparisons_math(frame: pd.DataFrame) -> None:
    resnet_acc = frame[(frame["model"] == "resnet") & (frame["config"] == "cpu+qvanilla")].iloc[0]
    cpu, acc, macs = STUDY["resnet"]
    assert resnet_acc["saved_pct"] == pytest.approx(100 * (cpu - acc) / cpu, rel=1e-12)
    assert round(resnet_acc["saved_pct"]) == 75  # the reference study's 75 %
    assert resnet_acc["speedup"] == pytest.approx(cpu / (acc + macs // 16), rel=1e-12)
    # CPU rows, and the pair whose accelerated run failed, have no comparison
    assert frame.loc[frame["config"] == "cpu", ["saved_pct", "speedup"]].isna().all().all()
    vww_acc = frame[(frame["model"] == "vww") & (frame["config"] != "cpu")].iloc[0]
    assert math.isnan(vww_acc["saved_pct"]) and math.isnan(vww_acc["speedup"])


def test_comparison_pairs_only_same_arch() -> None:
    rows = [
        RunResult(model="m", arch="rv32imc", run_instructions=100, est_cycles=100),
        RunResult(model="m", arch="rv32gc", peripheral="qvanilla", run_instructions=40, est_cycles=50),
        RunResult(model="m", arch="rv32imc", peripheral="qvanilla", run_instructions=25, est_cycles=40),
    ]
    df = add_comparisons(to_dataframe(rows))
    assert math.isnan(df.loc[1, "saved_pct"])  # no rv32gc CPU run to compare with
    assert df.loc[2, "saved_pct"] == pytest.approx(75.0)
    assert df.loc[2, "speedup"] == pytest.approx(2.5)


def test_study_table_shape_numbers_and_failures(frame: pd.DataFrame) -> None:
    text = study_table(frame)
    header = text.splitlines()[0].split()
    assert header[:3] == ["model", "CPU", "instr"] and header[-1] == "validation"
    resnet = next(line for line in text.splitlines() if line.startswith("resnet"))
    assert "57,312,456" in resnet and "14,401,234" in resnet and "74.9%" in resnet and "exact" in resnet
    vww = next(line for line in text.splitlines() if line.startswith("vww"))
    assert "41,200,003" in vww and "FAILED" in vww
    assert "vww cpu+qvanilla: VPFault: load access fault @ run" in text


def test_session_report_files_and_round_trip(frame: pd.DataFrame, tmp_path) -> None:
    paths = write_session_report(frame, tmp_path / "session")
    for key in ("csv", "json", "md", "html", "plot_instructions", "plot_saved_pct", "plot_memory"):
        assert paths[key].is_file() and paths[key].stat().st_size > 0, key
    assert paths["plot_memory"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    rows = json.loads(paths["json"].read_text())
    assert len(rows) == 6 and all(r["schema_version"] == SCHEMA_VERSION for r in rows)
    failing = next(r for r in rows if r["failing"])
    assert failing["run_instructions"] is None and failing["reason"].endswith("@ run")
    session = json.loads(paths["session"].read_text())
    assert (session["schema_version"], session["runs"], session["failing"]) == (SCHEMA_VERSION, 6, 1)
    assert pd.read_csv(paths["csv"]).columns[0] == "schema_version"

    for key in ("csv", "json"):
        back = load_results(paths[key])
        pd.testing.assert_frame_equal(back, frame)
        assert back.attrs["schema_version"] == frame.attrs["schema_version"] == SCHEMA_VERSION
    pd.testing.assert_frame_equal(load_results(paths["csv"].parent), frame)  # a report directory

    md = paths["md"].read_text()
    assert "| resnet | 57,312,456 |" in md.replace("  ", " ")
    html = paths["html"].read_text()
    assert "data:image/png;base64," in html and "load access fault @ run" in html
    # study table first, then plots, then every run; formatted numbers, no raw missing values
    assert html.index("CPU vs CPU+accelerator") < html.index("<h2>Plots") < html.index("<h2>All runs")
    assert "57,312,456" in html and ">nan<" not in html and "&lt;NA&gt;" not in html and ">None<" not in html
    assert "class='sortable'" in html and "src='" + "instructions.png'" not in html  # self-contained


def test_partial_session_keeps_every_other_row(tmp_path) -> None:
    df = add_comparisons(to_dataframe(sample_results(failing_model="aww")))
    write_session_report(df, tmp_path)
    back = load_results(tmp_path)
    assert len(back) == 6 and back["failing"].sum() == 1
    ok = back[~back["failing"]]
    assert ok["run_instructions"].notna().all()


def test_cpu_only_session_has_no_saved_plot(tmp_path) -> None:
    rows = [r for r in sample_results() if r.config == "cpu"]
    paths = write_session_report(add_comparisons(to_dataframe(rows)), tmp_path)
    assert "plot_instructions" in paths and "plot_saved_pct" not in paths
    assert not (tmp_path / "saved_pct.png").exists()


def test_loading_other_schema_version_is_a_clear_error(frame: pd.DataFrame, tmp_path) -> None:
    paths = write_session_report(frame, tmp_path)
    rows = json.loads(paths["json"].read_text())
    paths["json"].write_text(json.dumps([{**r, "schema_version": SCHEMA_VERSION + 1} for r in rows]))
    with pytest.raises(SchemaError, match=f"schema version {SCHEMA_VERSION + 1}.*reads version {SCHEMA_VERSION}"):
        load_results(paths["json"])
    csv = pd.read_csv(paths["csv"])
    csv.drop(columns=["est_cycles"]).to_csv(paths["csv"], index=False)
    with pytest.raises(SchemaError, match="missing columns est_cycles"):
        load_results(paths["csv"])
    with pytest.raises(FileNotFoundError):
        load_results(tmp_path / "nothing")


def test_reports_root_stands_for_its_newest_session(tmp_path) -> None:
    older = to_dataframe(sample_results())
    newer = to_dataframe(sample_results(failing_model="resnet"))
    write_session_report(newer, tmp_path / "20260102-090000")
    write_session_report(older, tmp_path / "20260101-090000")
    (tmp_path / "20260103-090000").mkdir()  # a session still running: no results yet
    assert load_results(tmp_path)["failing"].sum() == 1


def test_markdown_escapes_model_names_and_reasons():
    """Issue 15 item 13: a model file name is text in results.md, never HTML or a link."""
    from mlonmcu_lite.reports import RunResult, add_comparisons, to_dataframe
    from mlonmcu_lite.reports.session import render_markdown

    evil = "<img src=x onerror=alert(1)>[x](javascript:alert(2))|`"
    rows = [RunResult(model=evil, run_id="a", config="cpu", run_instructions=10, validation="exact"),
            RunResult(model=evil, run_id="b", peripheral="qvanilla", failing=True,
                      reason=f"ModelError: {evil}.tflite is broken @ load")]
    text = render_markdown(add_comparisons(to_dataframe(rows)), "t")
    import re

    assert "<img" not in text and not re.search(r"(?<!\\)\]\(javascript", text)
    assert "&lt;img src=x onerror=alert(1)&gt;" in text and "\\[x\\]" in text
