#!/usr/bin/env python3
"""Generate the model zoo (models/zoo) and the op-family models (models/ops).

    .venv/bin/python models/generate.py                 # models, metadata, samples, goldens
    .venv/bin/python models/generate.py --goldens       # only recompute goldens (ai-edge-litert BUILTIN_REF)
    .venv/bin/python models/generate.py --out /tmp/x --no-goldens resnet conv_s2_same
    .venv/bin/python models/generate.py resnet_f32 vww_f32 aww_f32 toycar_f32   # float zoo (not versioned)

Everything is deterministic: the same command writes the same bytes.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from tflgen.dtype_models import DTYPE_OPS  # noqa: E402
from tflgen.float_models import FLOAT_OPS, FLOAT_ZOO  # noqa: E402
from tflgen.float_only_models import FLOAT_ONLY  # noqa: E402  floatops
from tflgen.logic_models import LOGIC_OPS  # noqa: E402  (qlogic: written directly, DirectSpec)
from tflgen.npzio import save_npz  # noqa: E402
from tflgen.op_models import OPS  # noqa: E402
from tflgen.pipeline import generate  # noqa: E402
from tflgen.qmath_models import QMATH_OPS  # noqa: E402
from tflgen.seq_models import SEQ_OPS, SEQ_ZOO  # noqa: E402
from tflgen.tflm_models import TFLM_OPS  # noqa: E402
from tflgen.zoo_models import ZOO  # noqa: E402

FAMILIES = {"zoo": ZOO, "ops": {**OPS, **DTYPE_OPS, **TFLM_OPS, **QMATH_OPS, **SEQ_OPS, **LOGIC_OPS},
            "float": {**FLOAT_OPS, **FLOAT_ZOO, **FLOAT_ONLY}}
FAMILIES["ops"].update(SEQ_ZOO)  # seq: the LSTM keyword-spotting replica (kws_lstm)
ON_REQUEST = frozenset(FLOAT_ZOO)  # written only when named (not versioned: float weights are large)
ON_REQUEST = ON_REQUEST | set(SEQ_ZOO)  # seq: kws_lstm (49 unrolled steps, minutes to compile): `--out DIR kws_lstm`


def _json(obj: dict) -> str:
    """Indented JSON with flat lists (shapes, op lists) kept on one line."""
    text = json.dumps(obj, indent=2)
    return re.sub(r"\[[^\[\]{}]*\]", lambda m: json.dumps(json.loads(m.group(0))), text) + "\n"


def write_model(spec, out: Path) -> Path:
    model = spec.generate() if hasattr(spec, "generate") else generate(spec)  # FloatOnlySpec, DirectSpec
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{model.name}.tflite"
    path.write_bytes(model.tflite)
    (out / f"{model.name}.json").write_text(_json(model.metadata))
    save_npz(out / f"{model.name}.samples.npz", {f"input_{i}": s for i, s in enumerate(model.samples)})
    return path


def write_goldens(path: Path) -> None:
    """Run ai-edge-litert BUILTIN_REF on the committed samples; never edited by hand."""
    from mlonmcu_lite.zoo.reference import reference_outputs_many

    with np.load(path.with_suffix(".samples.npz")) as npz:
        per_input = [npz[f"input_{i}"] for i in range(len(npz.files))]
    samples = [[x[k] for x in per_input] for k in range(per_input[0].shape[0])]
    outs = reference_outputs_many(path, samples)
    save_npz(path.with_suffix(".golden.npz"),
             {f"output_{j}": np.stack([o[j] for o in outs]) for j in range(len(outs[0]))})


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("names", nargs="*", help="models to generate (default: all)")
    ap.add_argument("--out", type=Path, default=HERE, help="root directory (zoo/ and ops/ below it)")
    ap.add_argument("--goldens", action="store_true", help="only recompute goldens of existing models")
    ap.add_argument("--no-goldens", action="store_true", help="skip goldens (no ai-edge-litert needed)")
    args = ap.parse_args(argv)
    known = {n for family in FAMILIES.values() for n in family}
    unknown = sorted(set(args.names) - known)
    if unknown:
        ap.error(f"unknown model(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    for family, specs in FAMILIES.items():
        for name, spec in specs.items():
            if (args.names and name not in args.names) or (not args.names and name in ON_REQUEST):
                continue
            path = args.out / family / f"{name}.tflite"
            if not args.goldens:
                write_model(spec, path.parent)
            if not args.no_goldens:
                write_goldens(path)
            print(f"{family}/{name}: {path.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
