"""Fixtures shared by the compose unit tests."""

import pytest

from reelflow.compose.fonts import FontSet, find_fonts


@pytest.fixture(scope="session")
def fonts() -> FontSet:
    return find_fonts()
