"""The C helpers generated kernels call, for TVM's own VM on the host (the bit-exact oracle).

The firmware gets them `static inline` from kernels.h; a Relax module run by TVM's llvm VM
resolves a `call_extern` against the process's symbols, so they are built once into a tiny
shared library with the host compiler and loaded globally before the first host compile.  On
the host `MLML_HARD_FLOAT()` is 0: the VM checks the threshold search (the firmware on rv32gc
checks the divide path, tests/frontend/test_float_quantize.py).
"""

from __future__ import annotations

import ctypes
import hashlib
import subprocess
import tempfile
from functools import cache
from pathlib import Path

from mlonmcu_lite.frontend.float_quantize import C_HELPERS

SOURCE = "\n".join(["#include <stdint.h>", *C_HELPERS, "int32_t MLML_HARD_FLOAT(void) { return 0; }", ""])


@cache
def load_host_externs(cc: str = "cc") -> Path:
    """Build (once per source) and load the helpers with RTLD_GLOBAL; returns the library's path."""
    digest = hashlib.sha256(SOURCE.encode()).hexdigest()[:16]
    out = Path(tempfile.gettempdir()) / f"mlml-host-externs-{digest}.so"
    if not out.is_file():
        src = out.with_suffix(".c")
        src.write_text(SOURCE)
        tmp = out.with_suffix(f".{id(out)}.tmp")
        subprocess.run([cc, "-O2", "-fPIC", "-shared", "-o", str(tmp), str(src)], check=True,
                       capture_output=True, text=True)
        tmp.replace(out)  # atomic: parallel test workers may build it at once
    ctypes.CDLL(str(out), mode=ctypes.RTLD_GLOBAL)
    return out
