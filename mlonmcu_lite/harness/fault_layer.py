"""Which layer a simulation fault happened in: the plan step whose kernel holds the faulting PC."""

from __future__ import annotations

import json
from pathlib import Path


def layer_of(steps: list[dict], function: str | None) -> str | None:
    """`step 2 (FULLY_CONNECTED, TFLite operator #3)` for a PC in step 2's kernel (or a function
    named after it, e.g. a split-off loop body); None outside every layer (startup, glue, libc)."""
    if not function:
        return None
    function = function.split("+", 1)[0]  # ElfImage.function_at: `name+0x1a`
    for index, step in enumerate(steps):
        func = step.get("func") or ""
        if func and (function == func or function.startswith(func + "_")):
            ops = step.get("ops") or []
            names = "+".join(dict.fromkeys(step.get("op_names") or [])) or step.get("kind", "step")
            where = (f", TFLite operator{'s' if len(ops) > 1 else ''} " + ", ".join(f"#{i}" for i in ops)) if ops else ""
            return f"step {index} ({names}{where})"
    return None


def called_from(steps: list[dict], caller: str | None) -> str | None:
    """The layer of a fault in a helper (memcpy, a libgcc routine) that a layer's kernel called."""
    layer = layer_of(steps, caller)
    return f"{layer}, called from {caller}" if layer else None


def plan_steps(model_dir: Path) -> list[dict]:
    """The model's plan steps (plan.json); [] when it cannot be read (the fault is reported anyway)."""
    try:
        return list(json.loads((Path(model_dir) / "model" / "plan.json").read_text())["steps"])
    except (OSError, ValueError, KeyError, TypeError):
        return []
