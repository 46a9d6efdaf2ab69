"""FrontendError: what a user sees when a model cannot be imported (never a TVM traceback)."""

from __future__ import annotations

import re

from mlonmcu_lite.zoo import ModelError


class FrontendError(ModelError):
    """An unsupported op, op variant or tensor type in a TFLite model (names op and model)."""


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


def at_operator(err: BaseException, op_name: str, index: int | None) -> FrontendError:
    """`err` raised while converting one TFLite operator, as a FrontendError naming it."""
    where = f"{op_name} (operator #{index})" if index is not None else op_name
    if isinstance(err, FrontendError) and "operator #" in str(err):
        return err
    detail = str(err) if isinstance(err, FrontendError) else gist(err)
    return FrontendError(f"{where}: {detail}")
