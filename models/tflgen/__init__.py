"""TF-free generator of full-integer int8 TFLite models.

A model is described once as a small float graph (`graph.Graph`), calibrated by a
numpy float forward pass (`calibrate`), quantized with TFLite's conventions
(`quantize`) and serialized with the TFLite flatbuffer schema (`writer`).
"""
