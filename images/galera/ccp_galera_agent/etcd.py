"""An etcd client over every member of the etcd cluster, not one.

The agent must keep its reports and the writer lease alive when one etcd member (even the
leader) dies or is cut off: a request that cannot reach a member, times out on it, or finds it
without a leader goes to the next member, and the client stays there. Leases are state of the
etcd cluster, not of a member, so a lease granted through one member is renewed through another.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from etcd3gw import exceptions
from etcd3gw.client import Etcd3Client

# etcd >= 3.4 serves its gRPC gateway here; no discovery request is needed.
API_PATH = "/v3/"
UNREACHABLE = (exceptions.ConnectionFailedError, exceptions.ConnectionTimeoutError)


@dataclass(frozen=True)
class EtcdSettings:
    """Where etcd is and how to authenticate: endpoints as host:port, TLS files when it uses TLS."""

    endpoints: tuple[str, ...]
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    timeout: float = 2.0

    @classmethod
    def from_config(cls, data: dict[str, Any]) -> "EtcdSettings":
        return cls(tuple(data["endpoints"]), data.get("ca_file"), data.get("cert_file"), data.get("key_file"),
                   float(data.get("timeout", 2.0)))


def split_endpoint(endpoint: str) -> tuple[str, int]:
    host, _, port = endpoint.removeprefix("http://").removeprefix("https://").rpartition(":")
    return host.strip("[]"), int(port)


class MultiEndpointClient(Etcd3Client):
    def __init__(self, settings: EtcdSettings):
        if not settings.endpoints:
            raise ValueError("at least one etcd endpoint is needed")
        self.members = [split_endpoint(endpoint) for endpoint in settings.endpoints]
        host, port = self.members[0]
        super().__init__(host=host, port=port, protocol="https" if settings.ca_file else "http",
                         ca_cert=settings.ca_file, cert_cert=settings.cert_file, cert_key=settings.key_file,
                         timeout=settings.timeout, api_path=API_PATH)
        self.current = 0

    def get_url(self, path: str) -> str:
        # Relative: post() puts the member in front, so a retry can go to another member.
        return API_PATH + path.lstrip("/")

    def post(self, url: str, *args: Any, **kwargs: Any) -> Any:
        last: Exception | None = None
        for _ in range(len(self.members)):
            self.host, self.port = self.members[self.current]
            try:
                return super().post(self.base_url + url, *args, **kwargs)
            except UNREACHABLE as exc:
                last = exc
                self.current = (self.current + 1) % len(self.members)
        assert last is not None
        raise last
