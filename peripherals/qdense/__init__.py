"""QDense: an int8 fully connected engine (int32 accumulation, optional fused requantization).

The folder is the whole peripheral: `spec.py` (the one declaration), `model.py` (VP model),
`backend.py` (offload pattern and driver call), `driver/` (C driver), `test_qdense.py`.
"""
