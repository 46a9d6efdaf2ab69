"""Fixtures shared by the whole suite (helper code lives in tests/helpers/, imported as
`tests.helpers.<module>`; tests/ is a package so test files in different folders may share a name)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.e2e import REPO


@pytest.fixture(scope="session")
def repo() -> Path:
    """The checkout's root (models/, platform/, peripherals/, reports/)."""
    return REPO


@pytest.fixture(scope="module")
def out_root(tmp_path_factory, request) -> Path:
    """A scratch folder per test module for the firmware it builds (reused by its tests)."""
    return tmp_path_factory.mktemp(request.module.__name__.rsplit(".", 1)[-1])
