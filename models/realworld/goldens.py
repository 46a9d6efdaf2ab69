#!/usr/bin/env python3
"""Goldens of the real-world replicas: ai-edge-litert BUILTIN_REF on each committed sample.

    .venv/bin/python models/realworld/goldens.py [NAME...]     # default: every .tflite here

Runs in the project venv (no TensorFlow); the models and samples come from make_realworld.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from generate import write_goldens  # noqa: E402  (models/generate.py: one golden writer)


def main(argv: list[str]) -> int:
    paths = [HERE / f"{n}.tflite" for n in argv] or sorted([*HERE.glob("*.tflite"), *HERE.glob("unsupported/*.tflite")])
    for path in paths:
        write_goldens(path)
        print(f"{path.stem}: goldens written", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
