"""The tracked performance set: what CI measures and compares with reports/baseline/.

The four zoo models on both ISA variants, CPU-only, and with QVanilla where the
model has convolutions (toycar has none: an accelerated toycar run would fail,
rightly, as "accelerator never used").  Regenerate the committed baseline with
`bench baseline` after an intended change of the figures.
"""

from __future__ import annotations

from pathlib import Path

from mlonmcu_lite.harness.session import RunGroup, SessionRequest
from mlonmcu_lite.peripheral.request import PeripheralRequest
from mlonmcu_lite.workspace import Workspace, default_workspace

# The tracked archs are part of the baseline's definition: a new platform/arch/*.json
# does not silently grow the committed baseline.
TRACKED_ARCHS = ("rv32imc", "rv32gc")
# model -> peripherals of its accelerated run (empty: CPU only)
TRACKED: dict[str, tuple[str, ...]] = {
    "resnet": ("qvanilla",),
    "vww": ("qvanilla",),
    "aww": ("qvanilla",),
    "toycar": (),
}


def tracked_request(out_dir: Path | None = None, workspace: Workspace | None = None) -> SessionRequest:
    """The tracked set as a session request writing to `out_dir` (default: the baseline)."""
    workspace = workspace or default_workspace()
    groups = tuple(RunGroup(models=(model,), archs=TRACKED_ARCHS,
                            peripherals=tuple(PeripheralRequest.parse(p) for p in peripherals))
                   for model, peripherals in TRACKED.items())
    return SessionRequest(groups=groups, workspace=workspace, out_dir=out_dir or workspace.baseline_dir)
