"""Shared test setup: integration tests are marked by their folder, and each module's line in
the log ends with the minutes since the session started (where a slow CI run spends its time)."""

import time
from pathlib import Path

import pytest

SESSION_START = time.monotonic()
_session = {"last_of_module": set(), "config": None}


def pytest_collection_modifyitems(config, items):
    integration_dir = Path(__file__).parent / "integration"
    for item in items:
        if integration_dir in Path(item.fspath).parents:
            item.add_marker(pytest.mark.integration)
    _session["config"] = config
    _session["last_of_module"] = {item.nodeid for item, after in zip(items, [*items[1:], None])
                                  if after is None or after.fspath != item.fspath}


@pytest.hookimpl(trylast=True)
def pytest_runtest_logfinish(nodeid, location):
    """After the terminal ends a module's line with its progress, adds the clock."""
    config = _session["config"]
    reporter = config.pluginmanager.get_plugin("terminalreporter") if config else None
    if nodeid in _session["last_of_module"] and reporter is not None and reporter.verbosity == 0:
        reporter.write(f" {(time.monotonic() - SESSION_START) / 60:.1f} min")
