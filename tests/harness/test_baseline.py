"""CI performance gate: the tracked set, bit-exact, compared with reports/baseline/."""

from mlonmcu_lite.harness.baseline import BASELINE_DIR, TRACKED, run_tracked

from tests.helpers.e2e import TEST_CACHE, bench


def test_tracked_models_exact_and_no_regression(tmp_path):
    out = tmp_path / "current"
    df, files, _ = run_tracked(out, progress=False, cache_dir=TEST_CACHE)
    assert not df["failing"].any(), df.loc[df["failing"], ["run_id", "reason"]].to_string()
    assert set(df["validation"]) == {"exact"}
    assert set(df["model"]) == set(TRACKED)
    proc = bench("compare", str(BASELINE_DIR), str(out), "--fail-on-regression", "1", "--markdown")
    assert proc.returncode == 0, proc.stdout + proc.stderr
