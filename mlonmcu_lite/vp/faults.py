"""Typed simulation faults.

Every fault names the run, the PC, the function containing it (from the ELF
symbols) and the cause, and keeps the instruction counts reached so far
(up to and including the faulting instruction).
"""

from __future__ import annotations

import traceback
from pathlib import Path

from mlonmcu_lite.errors import ToolError
from mlonmcu_lite.workspace import default_workspace


class SimFault(ToolError):
    """Base class: the firmware did something the platform does not allow."""

    kind = "fault"

    def __init__(self, cause: str, *, run_name: str = "", pc: int | None = None,
                 function: str | None = None, address: int | None = None,
                 total_instructions: int = 0, run_instructions: int | None = None,
                 console: str = "", caller: str | None = None) -> None:
        self.cause = cause
        self.caller = caller  # the function the return address is in (a leaf's caller)
        self.run_name = run_name
        self.pc = pc
        self.function = function
        self.address = address
        self.total_instructions = total_instructions
        self.run_instructions = run_instructions
        self.console = console
        self.layer: str | None = None
        super().__init__(self._message(), run=run_name or None)

    def in_layer(self, layer: str) -> "SimFault":
        """Name the model layer whose kernel faulted (known to the harness, not the VP); returns self."""
        self.layer = layer
        self.args = (f"{self.args[0]}; in layer {layer}", *self.args[1:])
        return self

    def _message(self) -> str:
        where = f"pc=0x{self.pc:08x}" if self.pc is not None else "pc=?"
        where += f" in {self.function}" if self.function else " (no symbol)"
        run = f"[{self.run_name}] " if self.run_name else ""
        return (f"{run}{self.kind}: {self.cause} at {where} "
                f"after {self.total_instructions} instructions")


class UnmappedAccess(SimFault):
    kind = "unmapped access"


class IllegalInstruction(SimFault):
    kind = "illegal instruction"


class MisalignedAccess(SimFault):
    kind = "misaligned access"


class StackOverflow(SimFault):
    kind = "stack overflow"


class ProtectionFault(SimFault):
    """A write to ROM or a fetch from non-executable memory."""

    kind = "protection fault"


class UnhandledTrap(SimFault):
    """A CPU exception with no platform meaning (e.g. an unknown ecall)."""

    kind = "unhandled trap"


class SimTimeout(SimFault):
    """The run exceeded a limit; see the subclasses."""

    kind = "timeout"


class InstructionLimitExceeded(SimTimeout):
    kind = "instruction limit exceeded"


class WallClockTimeout(SimTimeout):
    kind = "wall-clock timeout"


class DeviceFault(SimFault):
    """A device model refused an access or found its protocol broken (a job not finished
    when the firmware went on, a hung device, an exception in the model).  Names the
    device, its job number (0: none started) and where in the model's code it was raised."""

    kind = "device error"

    def __init__(self, cause: str, *, device: str = "", job: int | None = None,
                 origin: str | None = None, **kwargs) -> None:
        self.device, self.job, self.origin = device, job, origin
        super().__init__(cause, **kwargs)

    def _message(self) -> str:
        text = super()._message()
        return f"{text} [model code: {self.origin}]" if self.origin else text


def origin_of(exc: BaseException) -> str | None:
    """`file:line in function` of the innermost frame of `exc` outside this package (the
    device model's own code, e.g. the line calling `fail()`); None when only the framework's
    own checks were on the stack."""
    package = default_workspace().package_dir
    outside = [f for f in traceback.extract_tb(exc.__traceback__)
               if not Path(f.filename).resolve().is_relative_to(package)]
    return f"{outside[-1].filename}:{outside[-1].lineno} in {outside[-1].name}" if outside else None
