"""The two roots of every error the harness raises on purpose.

`UserError` (a `ValueError`): the input is wrong (model, setting, peripheral, input file,
results file) and the user can fix it; the message says how.  `ToolError` (a
`RuntimeError`): a tool in the chain failed on valid input (toolchain missing, compile or
link failure, a simulation fault, a device misprogrammed by generated code, a run check).

Both carry `stage` and `run` once known: the runner stamps them on the way out of a run,
and `bench` maps the two roots to exit codes in one place (`cli.EXIT_CODES`).
"""

from __future__ import annotations

import re
from typing import Any


class MlmlError(Exception):
    """Common root; `stage` and `run` name where it happened (None until known)."""

    def __init__(self, *args: Any, stage: str | None = None, run: str | None = None) -> None:
        super().__init__(*args)
        self.stage = stage
        self.run = run

    def at(self, stage: str | None = None, run: str | None = None) -> "MlmlError":
        """Fill in the stage and run where not yet known; returns self (for `raise ... from`)."""
        self.stage = self.stage or (str(stage) if stage is not None else None)
        self.run = self.run or run
        return self

    def where(self) -> str:
        """`"run resnet__cpu__rv32imc, stage build"` (empty when neither is known)."""
        parts = [f"run {self.run}" if self.run else "", f"stage {self.stage}" if self.stage else ""]
        return ", ".join(p for p in parts if p)


class UserError(MlmlError, ValueError):
    """Bad input; fixing the command line, the model or the settings makes it go away."""


class ToolError(MlmlError, RuntimeError):
    """A tool failed on valid input (a defect or a missing tool, not the user's input)."""


_NOISE = re.compile(r"# Metadata omitted\. Use show_meta=True in script\(\) method to show it\.")
_FRAME = re.compile(r"^\s*(\d+:|File \"|Traceback|at |\^|-{3,}|\[bt\])")


def gist(err: BaseException, limit: int = 300) -> str:
    """The line of `err`'s message that says what went wrong: TVM's C++ errors carry a
    backtrace and source frames first, the check that failed last."""
    lines = [line.strip() for line in str(err).splitlines() if line.strip() and not _FRAME.match(line)]
    text = _NOISE.sub("", lines[-1]).strip() if lines else ""
    if not text:
        return type(err).__name__
    if type(err).__name__ not in text:
        text = f"{type(err).__name__}: {text}"
    return text if len(text) <= limit else text[:limit] + "…"


__all__ = ["MlmlError", "UserError", "ToolError", "gist"]
