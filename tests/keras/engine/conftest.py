"""Engine tests start from a fresh Keras session: name counters reset, learning phase unset."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from savedflow import keras


@pytest.fixture(autouse=True)
def _fresh_session() -> Iterator[None]:
    keras.backend.clear_session()
    yield
    keras.backend.set_learning_phase(None)
