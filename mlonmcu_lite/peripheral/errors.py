"""Errors raised by the peripheral framework.

Two kinds: a configuration error (bad declaration, bad `--peripheral` override)
is the user's to fix before a run; a device error (bad programming by the
firmware) is raised by a VP model while the firmware runs and fails that run.
"""

from __future__ import annotations

from mlonmcu_lite.errors import ToolError, UserError


class PeripheralConfigError(UserError):
    """A peripheral declaration, name or setting override is invalid."""


class PeripheralDeviceError(ToolError):
    """The firmware programmed a peripheral wrongly (raised from the VP model)."""
