"""Integer Relax -> plain C kernels + an AOT `mlml_model_run()` (issue 4), with offload (issue 5).

Public API:
    compile_model(im, out_dir, settings=CompilerSettings(), backends=[]) -> CompiledModel
    build_model_firmware(cm, out_dir, arch="rv32imc", backends=[], opt="-O2") -> FirmwareBuild
"""

from .driver import compile_model
from .firmware import build_model_firmware
from .model import CompiledModel, IOBuffer
from .settings import CompilerSettings

__all__ = ["compile_model", "build_model_firmware", "CompiledModel", "CompilerSettings", "IOBuffer"]
