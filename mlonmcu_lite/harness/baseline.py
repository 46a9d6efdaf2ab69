"""The tracked performance set: what CI measures and compares with reports/baseline/.

The four zoo models on both ISA variants, CPU-only, and with QVanilla where the
model has convolutions (toycar has none: an accelerated toycar run would fail,
rightly, as "accelerator never used").  Regenerate the committed baseline with
`make baseline` after an intended change of the figures.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from mlonmcu_lite.harness.pool import run_many
from mlonmcu_lite.harness.results import report_session
from mlonmcu_lite.harness.session import SessionRequest, expand
from mlonmcu_lite.harness.spec import ARCHES, RunSpec
from mlonmcu_lite.workspace import default_workspace

BASELINE_DIR = default_workspace().baseline_dir
# model -> peripherals of its accelerated run (empty: CPU only)
TRACKED: dict[str, tuple[str, ...]] = {
    "resnet": ("qvanilla",),
    "vww": ("qvanilla",),
    "aww": ("qvanilla",),
    "toycar": (),
}


def tracked_specs(session: str, out_dir: Path, cache_dir: Path | None = None) -> list[RunSpec]:
    cache_dir = cache_dir or default_workspace().cache_dir
    specs: list[RunSpec] = []
    for model, peripherals in TRACKED.items():
        request = SessionRequest(models=(model,), peripherals=peripherals, cpu_only=not peripherals,
                                 arches=ARCHES, cache_dir=cache_dir)
        specs += expand(request, session, out_dir)
    return specs


def run_tracked(out_dir: Path, jobs: int | None = None, progress: bool = True,
                cache_dir: Path | None = None):
    """Run the tracked set into `out_dir`; returns (DataFrame, files, console table)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = run_many(tracked_specs(out_dir.name, out_dir, cache_dir), jobs=jobs, progress=progress)
    return report_session(rows, out_dir)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", nargs="?", type=Path, default=BASELINE_DIR)
    parser.add_argument("-j", "--jobs", type=int, default=None)
    args = parser.parse_args(argv)
    df, _, table = run_tracked(args.out_dir, jobs=args.jobs)
    print(table)
    return 1 if df["failing"].any() else 0


if __name__ == "__main__":
    raise SystemExit(main())
