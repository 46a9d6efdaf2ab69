"""QDepthwise: an int8 depthwise conv2d + bias engine on the peripheral bus (issue 7).

It takes the DEPTHWISE_CONV_2D layers (channel multiplier 1) that QVanilla leaves on
the CPU; run both with `--peripheral qvanilla --peripheral qdepthwise`.  The folder is
the whole peripheral: `spec.py` (the one declaration), `model.py` (VP model),
`backend.py` (offload pattern and driver call), `driver/` (C driver).
"""
