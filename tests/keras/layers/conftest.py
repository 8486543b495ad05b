"""Fixtures shared by the layer tests."""

from __future__ import annotations

import pytest

from savedflow.keras import backend


@pytest.fixture(autouse=True)
def _fresh_names() -> None:
    """Every test starts with fresh layer-name counters (``dense``, not ``dense_7``)."""
    backend.clear_session()
