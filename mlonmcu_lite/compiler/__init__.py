"""Integer Relax -> plain C kernels + an AOT `mlml_model_run()` (issue 4), with offload (issue 5).

Public API:
    compile_model(im, out_dir, settings=CompilerSettings(), backends=[]) -> CompiledModel

The firmware build of the emitted sources lives in `mlonmcu_lite.firmware`.
"""

from .driver import compile_model
from .model import CompiledModel, IOBuffer
from .settings import CompilerSettings

__all__ = ["compile_model", "CompiledModel", "CompilerSettings", "IOBuffer"]
