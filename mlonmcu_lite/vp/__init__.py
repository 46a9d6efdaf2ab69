"""The RV32 virtual platform (Unicorn): ELF loader, memory map, MMIO bus,
devices, exact retired-instruction counting and typed faults."""

from mlonmcu_lite.vp.device import Bus, Device, DeviceStats
from mlonmcu_lite.vp.faults import (IllegalInstruction, InstructionLimitExceeded,
                                    MisalignedAccess, ProtectionFault, SimFault, SimTimeout,
                                    StackOverflow, UnhandledTrap, UnmappedAccess,
                                    WallClockTimeout)
from mlonmcu_lite.vp.memory_map import MemoryMap
from mlonmcu_lite.vp.platform import SimConfig, SimResult, VirtualPlatform

__all__ = [
    "Bus", "Device", "DeviceStats", "IllegalInstruction", "InstructionLimitExceeded",
    "MemoryMap", "MisalignedAccess", "ProtectionFault", "SimConfig", "SimFault", "SimResult",
    "SimTimeout", "StackOverflow", "UnhandledTrap", "UnmappedAccess", "VirtualPlatform",
    "WallClockTimeout",
]
