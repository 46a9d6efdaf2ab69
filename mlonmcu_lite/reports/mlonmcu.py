"""The results in MLonMCU's column names, where a column means the same thing there.

MLonMCU users read "Total ROM", "RAM zero-init data" or "Run Cycles"; this maps those
names onto the schema's columns (one source: `MLONMCU_COLUMNS`), so a frame can be shown
or exported in the spelling they know:  `mlonmcu_view(pd.read_json("results.json"))`.
Only columns present in the frame are kept (`cpi`, `total_cycles` appear with core timing
profiles, issue 17); a name whose meaning differs here is not mapped.
"""

from __future__ import annotations

import pandas as pd

# MLonMCU column -> schema column, in MLonMCU's report order
MLONMCU_COLUMNS: dict[str, str] = {
    "Session": "session",
    "Run": "run_id",
    "Model": "model",
    "Framework": "framework",
    "Backend": "backend",
    "Platform": "platform",
    "Target": "target",
    "Arch": "arch",
    "Features": "peripheral",
    "Config": "peripheral_settings",
    "Run Instructions": "run_instructions",  # the inference region (exact)
    "Total Instructions": "total_instructions",  # reset to exit (exact)
    "Run Cycles": "est_cycles",  # inference region, a model (CPU cycles + accelerator not overlapped)
    "Total Cycles": "total_cycles",  # only when a core timing profile reports it
    "CPI": "cpi",
    "Total ROM": "rom_bytes",
    "Total RAM": "ram_bytes",
    "ROM read-only": "rom_rodata",
    "ROM code": "rom_code",
    "RAM data": "ram_data",
    "RAM zero-init data": "ram_bss",
    "RAM stack": "stack_bytes",
    "Validation": "validation",
}


def mlonmcu_view(df: pd.DataFrame) -> pd.DataFrame:
    """The frame's MLonMCU-named columns (renamed copies), in MLonMCU's order."""
    present = {name: column for name, column in MLONMCU_COLUMNS.items() if column in df.columns}
    return df[list(present.values())].set_axis(list(present), axis=1)
