"""The operator's kopf entry point: settings, the API types, and every handler.

Run with `kopf run -m ccp_operator.main` (or `python -m ccp_operator`).
"""

from __future__ import annotations

import logging

import kopf

from . import handlers  # noqa: F401  (registers the handlers)
from .api.kinds import register_api_types

register_api_types()


@kopf.on.startup()
def configure(settings: kopf.OperatorSettings, **_) -> None:
    # kopf's bookkeeping goes to status.kopf, not to annotations (which are limited to 256 KiB).
    settings.persistence.diffbase_storage = kopf.StatusDiffBaseStorage()
    settings.persistence.progress_storage = kopf.StatusProgressStorage()
    settings.posting.level = logging.INFO
    settings.execution.max_workers = 16
    settings.networking.error_backoffs = [1, 2, 5, 10, 20, 30]
    settings.watching.server_timeout = 600
    settings.watching.client_timeout = 660
