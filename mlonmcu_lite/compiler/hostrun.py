"""Running generated C on the host: a shared library called through ctypes.

Used by the tests (bit-exact against TVM's own VM) and handy for checking a model before the
firmware exists.  The C is compiled with `-Wall -Werror` so a warning fails loudly here too.
"""

from __future__ import annotations

import ctypes
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from .host_externs import load_host_externs
from .model import CompiledModel

HOST_CFLAGS = ["-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-fPIC", "-shared", "-DMLML_NOINIT="]


@dataclass
class HostModel:
    cm: CompiledModel
    lib: ctypes.CDLL

    def _buffer(self, symbol: str, nbytes: int):
        return (ctypes.c_uint8 * nbytes).in_dll(self.lib, symbol)

    def run(self, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
        if len(inputs) != len(self.cm.inputs):
            raise ValueError(f"model takes {len(self.cm.inputs)} inputs, got {len(inputs)}")
        for spec, array in zip(self.cm.inputs, inputs):
            data = np.ascontiguousarray(array, dtype=spec.dtype).reshape(spec.shape).tobytes()
            ctypes.memmove(self._buffer(spec.symbol, spec.nbytes), data, spec.nbytes)
        self.lib.mlml_model_run()
        return [np.frombuffer(bytes(self._buffer(o.symbol, o.nbytes)), dtype=o.dtype).reshape(o.shape).copy()
                for o in self.cm.outputs]


def build_host_library(cm: CompiledModel, out: Path, extra_sources: Sequence[Path] = (),
                       cc: str = "gcc") -> HostModel:
    """Compile the model's C (plus e.g. a host driver of a test backend) into `out` (.so)."""
    out = Path(out)
    cmd = [cc, *HOST_CFLAGS, *(f"-I{d}" for d in cm.include_dirs), "-o", str(out),
           *map(str, cm.sources), *map(str, cm.backend_sources), *map(str, extra_sources)]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"host compile failed:\n{' '.join(cmd)}\n{result.stderr}")
    return HostModel(cm, ctypes.CDLL(str(out)))


def tvm_reference_many(mod, samples: Sequence[Sequence[np.ndarray]]) -> list[list[np.ndarray]]:
    """The same Relax module run by TVM's own VM on the host (llvm): the bit-exact oracle."""
    import tvm
    from tvm import relax

    load_host_externs()
    vm = relax.VirtualMachine(tvm.compile(mod, target="llvm"), tvm.cpu())
    outputs = []
    for inputs in samples:
        result = vm["main"](*[tvm.runtime.tensor(np.ascontiguousarray(a)) for a in inputs])
        items = [result] if hasattr(result, "numpy") else list(result)
        outputs.append([np.asarray(r.numpy()) for r in items])
    return outputs


def tvm_reference(mod, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
    """`tvm_reference_many` for one sample."""
    return tvm_reference_many(mod, [inputs])[0]
