"""Shared test configuration."""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Everything under tests/integration talks to real services: mark it so it can be selected.
    for item in items:
        if "/integration/" in str(item.path):
            item.add_marker(pytest.mark.pbx)
