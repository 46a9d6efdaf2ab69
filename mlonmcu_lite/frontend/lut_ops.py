"""EXP, LOG and GELU (8-bit) imported directly as a 256-entry table lookup.

TFLite's int8/uint8 kernels of these ops fill a table in Prepare (`LUTPopulate`: float32
dequantize, the float function, round half away from zero) and look every element up, so the
importer emits `lookup(x, table)` straight away (tables.py computes the table with the same
float32 arithmetic).  TVM 0.27 would import them as float ops (EXP, LOG) or refuse them (GELU).
Other variants are rejected before import (support.VERIFIED_OPS: uint8 GELU only, the reference
has no uint8 EXP/LOG; no int16).
"""

from __future__ import annotations

import functools

from .elementwise import lookup
from .qparams import tensor_scale_zp
from .tables import transform_table

TABLE_OPS = frozenset({"EXP", "LOG", "GELU"})


class TableConverters:
    """Mixin of `converter.Converter`: the ops above through their table (TVM's converter for float)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name in TABLE_OPS:
            self.convert_map[name] = functools.partial(self._convert_table, name=name,
                                                       fallback=self.convert_map[name])

    def _convert_table(self, op, name: str, fallback):
        (x,) = self.get_input_tensors(op)
        (out,) = self.get_output_tensors(op)
        if x.qnn_params is None:
            return fallback(op)
        if name == "GELU":
            from tflite.GeluOptions import GeluOptions

            options = GeluOptions()
            options.Init(op.BuiltinOptions().Bytes, op.BuiltinOptions().Pos)
            name = "GELU_APPROXIMATE" if options.Approximate() else name
        return lookup(self.get_tensor_expr(x), transform_table(name, *tensor_scale_zp(x), *tensor_scale_zp(out)))
