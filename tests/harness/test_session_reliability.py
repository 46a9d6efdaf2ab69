"""`bench run` sessions under awkward input: nothing lost, nothing misleading (issue 15)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers.e2e import bench


def _session_rows(out: Path) -> tuple[Path, list[dict]]:
    (session,) = [p for p in out.iterdir() if p.is_dir()]
    return session, json.loads((session / "results.json").read_text())["rows"]


def test_default_peripheral_taking_no_layer_is_labelled_not_failed(tmp_path):
    """Item 15: the README's `bench run <model>` on an all-dense model exits 0; the
    accelerated row says "no layer offloaded" with the rejections; `-p` still fails loudly."""
    proc = bench("run", "fc", "--no-progress", "--out", str(tmp_path / "default"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "no layer offloaded" in proc.stdout
    _, rows = _session_rows(tmp_path / "default")
    acc = next(r for r in rows if r["config"] == "cpu+qvanilla")
    assert not acc["failing"] and acc["validation"] == "exact" and acc["layers_offloaded"] == 0
    assert acc["reason"].startswith("no layer offloaded") and "fully connected" in acc["reason"]
    assert acc["acc_jobs"] == 0

    proc = bench("run", "fc", "-p", "qvanilla", "--no-progress", "--out", str(tmp_path / "explicit"))
    assert proc.returncode == 1
    assert "peripheral qvanilla was configured but accepted no layer" in proc.stderr
