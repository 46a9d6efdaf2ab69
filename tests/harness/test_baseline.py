"""CI performance gate: the tracked set, bit-exact, compared with reports/baseline/."""

import pandas as pd

from mlonmcu_lite.harness.baseline import TRACKED, tracked_request
from mlonmcu_lite.harness.session import run_session

from tests.helpers.e2e import TEST_WORKSPACE, bench


def test_tracked_models_exact_and_no_regression(tmp_path):
    out = tmp_path / "current"
    result = run_session(tracked_request(out, TEST_WORKSPACE), progress=False)
    df = result.frame
    assert not df["failing"].any(), df.loc[df["failing"], ["run_id", "reason"]].to_string()
    assert set(df["validation"]) == {"exact"}
    assert set(df["model"]) == set(TRACKED)
    # per-layer profiles: every zoo model, CPU-only and with QVanilla, layers + glue == run_instructions
    layers = pd.read_parquet(result.files["layers_parquet"])
    assert layers.groupby("run_id")["instructions"].sum().to_dict() == \
        df.set_index("run_id")["run_instructions"].to_dict()
    acc = df[df["config"] != "cpu"].set_index("run_id")
    assert layers[layers["config"] != "cpu"].groupby("run_id")["acc_jobs"].sum().to_dict() == \
        acc["acc_jobs"].to_dict()
    baseline = TEST_WORKSPACE.baseline_dir
    # 0 % tolerance: every tracked metric (instructions included) equals the committed baseline
    proc = bench("compare", str(baseline), str(out), "--fail-on-regression", "0", "--markdown")
    assert proc.returncode == 0, proc.stdout + proc.stderr
