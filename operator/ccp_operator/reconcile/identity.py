"""What a service registers in keystone, as the openstack CLI of a Kolla toolbox Job acting as
keystone's admin: its service user and its catalog entries (OpenStack services and radosgw)."""

from __future__ import annotations

from typing import Any

from ..endpoints import IdentityEndpoint
from ..services.base import Endpoint
from .jobs import from_secret


def registration_script(user: str | None, entries: list[tuple[Endpoint, dict[str, str]]]) -> str:
    """openstack CLI commands that create a service user (password from $SERVICE_PASSWORD) and
    catalog entries (an internal and a public URL each); re-runnable: existing ones are kept,
    a URL that changed (a load balancer added) is updated. A password is given as --password=...:
    a generated one may begin with "-", which the CLI would take for an option."""
    lines = ["set -e"]
    if user:
        # keystone's bootstrap makes the admin project only: the service users' project comes first.
        lines += ["openstack project create --or-show --domain default "
                  "--description 'Service users' service >/dev/null"]
        lines += [f'openstack user create --or-show --domain default --password="$SERVICE_PASSWORD" {user} >/dev/null',
                  f'openstack user set --password="$SERVICE_PASSWORD" {user}',
                  f"openstack role add --project service --user {user} admin",
                  f"openstack role add --project service --user {user} service"]
    for endpoint, urls in entries:
        lines.append(f"openstack service show {endpoint.service_name} >/dev/null 2>&1 || "
                     f"openstack service create --name {endpoint.service_name} "
                     f"--description '{endpoint.description}' {endpoint.service_type}")
        for interface in ("internal", "public"):
            url = urls[interface]
            lines += [
                f"found=\"$(openstack endpoint list --service {endpoint.service_name} --interface {interface} "
                f"--region \"$OS_REGION_NAME\" -f value -c ID -c URL)\"",
                f"if [ -z \"$found\" ]; then openstack endpoint create --region \"$OS_REGION_NAME\" "
                f"{endpoint.service_name} {interface} '{url}' >/dev/null; "
                f"elif [ \"${{found#* }}\" != '{url}' ]; then openstack endpoint set --url '{url}' \"${{found%% *}}\"; fi"]
    return "\n".join(lines)


def keystone_admin_env(keystone: IdentityEndpoint) -> list[dict[str, Any]]:
    """The environment of the openstack CLI acting as keystone's admin."""
    return [{"name": "OS_AUTH_URL", "value": keystone["internalURL"]},
            {"name": "OS_REGION_NAME", "value": keystone["region"]},
            {"name": "OS_INTERFACE", "value": "internal"},
            {"name": "OS_IDENTITY_API_VERSION", "value": "3"},
            {"name": "OS_USERNAME", "value": "admin"},
            {"name": "OS_PROJECT_NAME", "value": "admin"},
            {"name": "OS_USER_DOMAIN_NAME", "value": "Default"},
            {"name": "OS_PROJECT_DOMAIN_NAME", "value": "Default"},
            from_secret("OS_PASSWORD", keystone["adminSecret"], keystone["adminPasswordKey"])]
