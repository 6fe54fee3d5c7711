"""Shared test configuration: the fixtures of the tests on real services (the real Asterisk,
scratch PostgreSQL databases, the web pages) come from ``tests.integration.fixtures``."""

from __future__ import annotations

import pytest

pytest_plugins = ["tests.integration.fixtures"]

# Everything under these talks to real services: marked so it can be selected (-m pbx).
_REAL_SERVICES = ("/integration/", "/abuse/")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if any(part in str(item.path) for part in _REAL_SERVICES):
            item.add_marker(pytest.mark.pbx)
