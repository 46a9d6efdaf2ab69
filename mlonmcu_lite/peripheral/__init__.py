"""Peripheral framework: one declaration per accelerator -> VP model, C header, offload check.

Public entry points (see docs/ARCHITECTURE.md):
`load_backend("qvanilla:macs_per_cycle=32", search_path=[...])`, `load_backends([...])`,
`available_peripherals()`; the offload contract lives in `backend.py`.
"""

from .backend import (AcceleratorBackend, CArgs, ConvRegion, DenseRegion, LayerOffload, OffloadPattern,
                      Region, Requant)
from .errors import PeripheralConfigError, PeripheralDeviceError
from .loader import available_peripherals, find_peripherals, load_backend, load_backends
from .request import PeripheralRequest

__all__ = ["AcceleratorBackend", "CArgs", "ConvRegion", "DenseRegion", "LayerOffload", "OffloadPattern",
           "Region", "Requant",
           "PeripheralConfigError", "PeripheralDeviceError", "available_peripherals",
           "find_peripherals", "load_backend", "load_backends", "PeripheralRequest"]
