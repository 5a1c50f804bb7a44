"""The operator's kopf module: settings, the API types, and every handler.

Run by `ccp-operator` (ccp_operator.cli), which adds leader election, metrics and probes.
"""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
import kopf

from . import handlers  # noqa: F401  (registers the handlers)
from .api.kinds import register_api_types
from .kube import write_check

READS = frozenset({"GET", "HEAD", "OPTIONS"})

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


@kopf.on.login()
async def login(logger, settings: kopf.OperatorSettings, **kwargs: Any) -> kopf.ConnectionInfo | kopf.AiohttpSession | None:
    """kopf's credentials as usual (in-cluster, or $KUBECONFIG), and, under leader election, a
    session that runs the Lease check before every request that is not a read: kopf's own
    writes (its progress in the status, Events) are gated like the reconcilers'."""
    info = kopf.login_via_client(logger=logger, settings=settings, **kwargs)
    check = write_check()
    if info is None or check is None:
        return info

    async def on_request_start(_session: Any, context: Any, params: aiohttp.TraceRequestStartParams) -> None:
        context.writes = params.method not in READS
        if context.writes:
            check()

    async def on_connection(_session: Any, context: Any, _params: Any) -> None:
        # Again once the connection is at hand, just before the request goes out: getting one
        # (a TLS handshake) takes round trips, during which the Lease may have gone.
        if context.writes:
            check()

    tracing = aiohttp.TraceConfig()
    tracing.on_request_start.append(on_request_start)
    tracing.on_connection_create_end.append(on_connection)
    tracing.on_connection_reuseconn.append(on_connection)
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0, ssl=info.as_ssl_context()),
                                    headers=info.as_http_headers(), trace_configs=[tracing])
    return kopf.AiohttpSession(aiohttp_session=session, server=info.server, priority=info.priority,
                               default_namespace=info.default_namespace, expiration=info.expiration)
