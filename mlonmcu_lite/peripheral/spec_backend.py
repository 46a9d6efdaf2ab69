"""`SpecBackend`: the part of every peripheral backend that follows from its declaration.

A peripheral folder's backend subclasses this, sets `spec`, `folder` and
`device_class`, and registers its patterns in `register_patterns`; the C
sources (`driver/*.c`), includes, generated header and the configured VP device
come for free.  `emit_conv_call` renders the usual driver call for a conv job.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel

from mlonmcu_lite.workspace import PACKAGE_DIR

from .backend import AcceleratorBackend, CArgs
from .header import write_header
from .settings import codegen_settings, validate_settings
from .spec import PeripheralSpec

SHARED_C = PACKAGE_DIR / "peripheral" / "c"  # headers every driver may include (mlml_bands.h)


class SpecBackend(AcceleratorBackend):
    spec: ClassVar[PeripheralSpec]
    folder: ClassVar[Path]  # the peripheral's folder (holds driver/)
    device_class: ClassVar[type]  # called as device_class(settings)
    jobs: ClassVar[dict] = {}  # job name -> JobBinding: generated params struct + program function

    def __init__(self, settings: BaseModel | None = None) -> None:
        super().__init__()
        self.name = self.spec.name
        if settings is None:
            settings = self.spec.settings()
        if not isinstance(settings, self.spec.settings):
            raise TypeError(f"{self.name}: settings must be {self.spec.settings.__name__}")
        self.settings = settings
        self.register_patterns()

    @classmethod
    def from_overrides(cls, overrides: dict[str, Any]) -> "SpecBackend":
        return cls(validate_settings(cls.spec.name, cls.spec.settings, overrides))

    def register_patterns(self) -> None:
        """Subclasses register their `OffloadPattern`s here."""

    @property
    def driver_dir(self) -> Path:
        return self.folder / "driver"

    def c_includes(self) -> list[str]:
        return [f"{self.name}.h"]

    def c_sources(self) -> list[Path]:
        return sorted(self.driver_dir.glob("*.c"))

    def include_dirs(self, build_dir: Path) -> list[Path]:
        header = write_header(self.spec, Path(build_dir) / "generated", self.settings, self.jobs)
        return [header.parent, self.driver_dir, SHARED_C]

    def device(self):
        return self.device_class(self.settings)

    def codegen_fingerprint(self) -> str:
        """Everything the generated firmware depends on: the folder's code and the
        codegen settings (not the cost model: the VP applies that at run time)."""
        digest = hashlib.sha256()
        for path in [*sorted(self.folder.rglob("*")), *sorted(SHARED_C.glob("*.h"))]:
            if path.is_file() and path.suffix in {".py", ".c", ".h", ".S", ".toml", ".json"} \
                    and not path.name.startswith("test_"):
                digest.update(path.name.encode() if path.parent == SHARED_C
                              else path.relative_to(self.folder).as_posix().encode())
                digest.update(path.read_bytes())
        cfg = json.dumps(codegen_settings(self.settings), sort_keys=True)
        return f"{self.name}:{cfg}:{digest.hexdigest()[:16]}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.settings!r})"

    def describe(self) -> str:
        return f"{self.name} @ {self.spec.base:#010x}: {self.settings!r}"


def _literal(params_type: str, job) -> str:
    inits = ", ".join(f".{k} = {v}" for k, v in dataclasses.asdict(job).items())
    return f"&(const {params_type}){{{inits}}}"


def emit_job_literals(jobs: list[tuple[str, object]]) -> list[str]:
    """`&(const T){.field = ..}` for each (params type, dataclass job)."""
    return [_literal(params_type, job) for params_type, job in jobs]


def emit_job_call(function: str, params_type: str, job, ptrs: list[str]) -> str:
    """`if (f(&(const T){.field = ..}, ptr, ...) != 0) abort();` for one dataclass job."""
    return (f"if ({function}({_literal(params_type, job)},\n"
            f"        {', '.join(ptrs)}) != 0) abort();")


def emit_conv_call(function: str, params_type: str, job, args: CArgs) -> str:
    """`if (f(&(const T){.in_h = ..}, in, w, b, out[, mult, shift]) != 0) abort();` for one
    job (any dataclass job; the multiplier/shift pointers come with a fused requantization)."""
    ptrs = [args.input, args.weight, args.bias, args.output]
    if args.multiplier is not None:
        ptrs += [args.multiplier, args.shift]
    return emit_job_call(function, params_type, job, ptrs)


def emit_requant_call(function: str, params_type: str, job, rq_type: str, rq_job, args: CArgs,
                      residual: tuple[str, object] | None = None) -> str:
    """The fused variant of `emit_conv_call`: `f(&job, &requant, in, w, b, out, mult, shift)`;
    with `residual` (params type, job): `f(&job, &requant, &residual, ..., shift, second)`."""
    literals = [_literal(params_type, job), _literal(rq_type, rq_job)]
    ptrs = [args.input, args.weight, args.bias, args.output, args.multiplier, args.shift]
    if residual is not None:
        literals.append(_literal(*residual))
        ptrs.append(args.second)
    sep = ",\n        "
    return f"if ({function}({sep.join(literals)}{sep}{', '.join(ptrs)}) != 0) abort();"

