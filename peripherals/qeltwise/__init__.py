"""QEltwise: an int8 element-wise (ADD, MUL) and pooling (average, max) engine.

The folder is the whole peripheral: `spec.py` (the one declaration), `model.py` (VP model),
`backend.py` (offload patterns and driver calls), `driver/` (C driver), `test_qeltwise.py`.
"""
