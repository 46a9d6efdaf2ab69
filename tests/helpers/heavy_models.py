"""Op models whose TVM compile is too slow for every automatic list (CI: 10 min on 2 cores).

`lstm_fc` (~1000 TE stages per LSTM kernel, ~40 s quiet, ~150 s loaded) runs as firmware once
(test_e2e_runs, rv32imc); its lowering is covered on the host by the `slow` LSTM/GRU tests in
frontend/test_frontend_seq_ops.py, and the generator tests still check the committed file.
"""

from __future__ import annotations

from mlonmcu_lite.zoo import list_models

HEAVY_OPS = frozenset({"lstm_fc"})


def light_op_models() -> list[str]:
    """The committed op models minus the heavy ones."""
    return [m for m in list_models("ops") if m not in HEAVY_OPS]
