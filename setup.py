"""Ship the harness's data with the package: platform/, models/ and peripherals/ are copied
into `mlonmcu_lite/data/` of the built package (wheel, `pip install .`), where
`workspace.py` finds them when the package runs outside a checkout.  The metadata lives in
pyproject.toml; this file only adds that copy step to setuptools' `build_py`."""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
DATA_ROOTS = ("platform", "models", "peripherals")  # = mlonmcu_lite.workspace.DATA_ROOTS
SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo", "*.so", "*.o", ".pytest_cache")


class BuildWithData(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):  # `pip install -e`: the checkout layout is used
            return
        target = Path(self.build_lib) / "mlonmcu_lite" / "data"
        for name in DATA_ROOTS:
            shutil.rmtree(target / name, ignore_errors=True)
            shutil.copytree(HERE / name, target / name, ignore=SKIP)


setup(cmdclass={"build_py": BuildWithData})
