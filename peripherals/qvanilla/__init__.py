"""QVanilla: an int8 conv2d + bias accelerator on the peripheral bus (issue 5).

The folder is the whole peripheral: `spec.py` (the one declaration), `model.py`
(VP model), `backend.py` (offload pattern and driver call), `driver/` (C driver),
`test_qvanilla.py`.  It is found by `mlonmcu_lite.peripheral.load_backend`.
"""
