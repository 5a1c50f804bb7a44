"""The real node's load balancer: LoadBalancer Services get their IP, and kube-proxy forwards it.

A cloud's public endpoints are virtual IPs that a load-balancer implementation (MetalLB, a
cloud's LB) announces; kube-proxy then forwards each to its Service's pods. On the local
cluster the real node routes LOAD_BALANCER_RANGE to its bridge, and this program is the
announcing half: it writes each LoadBalancer Service's IP (its loadBalancerIP when that lies in
the range, else the lowest free one) into the Service's status, which is what kube-proxy
programs. Run by the real node as one of its processes (`python -m localcluster.loadbalancer`).
"""

from __future__ import annotations

import argparse
import ipaddress
import sys
import time
from typing import Any

from kubernetes import client, config, watch

RESYNC_SECONDS = 60
RETRY_SECONDS = 2


def wanted_ip(service: Any, network: ipaddress.IPv4Network, taken: set[str]) -> str | None:
    """The IP a LoadBalancer Service gets: its own request when in the range, else the lowest
    free address from the top half (the bottom half is left for fixed requests); None when it
    asks for an address outside the range (this balancer cannot announce it)."""
    requested = service.spec.load_balancer_ip
    if requested:
        return requested if ipaddress.ip_address(requested) in network else None
    current = [entry.ip for entry in (service.status.load_balancer.ingress or [])] if service.status.load_balancer else []
    if current and ipaddress.ip_address(current[0]) in network:
        return current[0]
    hosts = list(network.hosts())
    return next((str(ip) for ip in hosts[len(hosts) // 2:] if str(ip) not in taken), None)


def published(service: Any) -> list[str]:
    balancer = service.status.load_balancer if service.status else None
    return [entry.ip for entry in (balancer.ingress or [])] if balancer else []


def sync(api: client.CoreV1Api, network: ipaddress.IPv4Network) -> str:
    """Publishes the IP of every LoadBalancer Service whose status lacks it; returns the list's
    resourceVersion (to watch from)."""
    listed = api.list_service_for_all_namespaces()
    balanced = [service for service in listed.items if service.spec.type == "LoadBalancer"]
    taken = {ip for service in balanced for ip in published(service)}
    for service in balanced:
        ip = wanted_ip(service, network, taken)
        if ip and published(service) != [ip]:
            api.patch_namespaced_service_status(service.metadata.name, service.metadata.namespace,
                                                {"status": {"loadBalancer": {"ingress": [{"ip": ip}]}}})
            taken.add(ip)
            print(f"{service.metadata.namespace}/{service.metadata.name}: {ip}", flush=True)
    return listed.metadata.resource_version


def run(kubeconfig: str, network: ipaddress.IPv4Network) -> None:
    configuration = client.Configuration()
    config.load_kube_config(kubeconfig, client_configuration=configuration)
    api = client.CoreV1Api(client.ApiClient(configuration))
    while True:
        try:
            version = sync(api, network)
            # Any change of a Service wakes a full sync: there are few Services, and a sync is one list.
            for _ in watch.Watch().stream(api.list_service_for_all_namespaces, resource_version=version,
                                          timeout_seconds=RESYNC_SECONDS):
                version = sync(api, network)
        except Exception as exc:  # the API server restarting, a watch expiring: list again shortly
            print(f"retrying after: {exc}", file=sys.stderr, flush=True)
            time.sleep(RETRY_SECONDS)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kubeconfig", required=True)
    parser.add_argument("--range", required=True, type=ipaddress.IPv4Network)
    args = parser.parse_args(argv)
    run(args.kubeconfig, args.range)


if __name__ == "__main__":
    main()
