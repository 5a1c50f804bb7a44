"""The operator's kopf module: settings, the API types, and every handler.

Run by `ccp-operator` (ccp_operator.cli), which adds leader election, metrics and probes.
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
    # Least privilege: no watching of CRDs and namespaces (the CLI waits for the CRDs before kopf
    # starts, and the namespaces are given), so no permission for them is needed.
    settings.scanning.disabled = True
