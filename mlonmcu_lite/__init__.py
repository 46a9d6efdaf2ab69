"""mlonmcu-lite: TinyML virtual-platform benchmarking harness.

Data flows one way: model -> compiler -> firmware -> platform -> metrics -> report.
Keep this module import-free so that a broken subpackage never breaks the CLI: the
Python API (`from mlonmcu_lite import Session, Study`) is imported on first use.
"""

__version__ = "0.1.0"

_API = {"Session": "mlonmcu_lite.api", "SessionResults": "mlonmcu_lite.api", "Study": "mlonmcu_lite.harness.study"}
__all__ = ["__version__", *_API]


def __getattr__(name: str):
    """PEP 562 lazy attributes: the API's modules load only when asked for."""
    if name in _API:
        import importlib

        return getattr(importlib.import_module(_API[name]), name)
    raise AttributeError(f"module 'mlonmcu_lite' has no attribute {name!r}")
