"""Frontend: int8 TFLite → integer-only Relax (QDQ rewrite with TFLite's per-op rounding).

    from mlonmcu_lite.frontend import import_tflite, IntegerModel, FrontendError
    im = import_tflite("models/zoo/resnet.tflite")
"""

from .errors import FrontendError
from .importer import IntegerModel, import_tflite

__all__ = ["import_tflite", "IntegerModel", "FrontendError"]
