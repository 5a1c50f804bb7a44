"""Shared test setup: integration tests are marked by their folder."""

from pathlib import Path

import pytest


def pytest_collection_modifyitems(config, items):
    integration_dir = Path(__file__).parent / "integration"
    for item in items:
        if integration_dir in Path(item.fspath).parents:
            item.add_marker(pytest.mark.integration)
