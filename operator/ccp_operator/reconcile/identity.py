"""What a service registers in keystone, by a Kolla toolbox Job acting as keystone's admin: its
service user and its catalog entries (OpenStack services and radosgw)."""

from __future__ import annotations

import json
from typing import Any

from .. import images
from ..endpoints import IdentityEndpoint
from ..services.base import Endpoint
from .jobs import from_secret


REGISTRATION_PROGRAM = """
import json, os
import openstack

wanted = json.loads(WANTED)
identity = openstack.connect().identity  # keystone's admin, from the OS_* environment
user_name = wanted["user"]
if user_name:
    # keystone's bootstrap makes the admin project only: the service users' project comes first.
    project = (identity.find_project("service", domain_id="default")
               or identity.create_project(name="service", domain_id="default", description="Service users"))
    password = os.environ["SERVICE_PASSWORD"]
    user = identity.find_user(user_name, domain_id="default")
    if user is None:
        user = identity.create_user(name=user_name, domain_id="default", password=password)
    else:
        identity.update_user(user, password=password)
    for role in ("admin", "service"):
        identity.assign_project_role_to_user(project, user, identity.find_role(role, ignore_missing=False))
region = os.environ["OS_REGION_NAME"]
for entry in wanted["endpoints"]:
    service = (identity.find_service(entry["name"])
               or identity.create_service(name=entry["name"], type=entry["type"],
                                          description=entry["description"]))
    for interface, url in entry["urls"].items():
        found = list(identity.endpoints(service_id=service.id, interface=interface, region_id=region))
        if not found:
            identity.create_endpoint(service_id=service.id, interface=interface, url=url, region_id=region)
        elif found[0].url != url:  # a load balancer added, a port changed
            identity.update_endpoint(found[0], url=url)
        print(f"{entry['name']} {interface} {url}")
"""


def registration_script(user: str | None, entries: list[tuple[Endpoint, dict[str, str]]]) -> str:
    """A step that creates a service user (password from $SERVICE_PASSWORD) and catalog entries
    (an internal and a public URL each); re-runnable: existing ones are kept, a URL that changed
    is updated. The password stays in the environment, never on a command line."""
    wanted = {"user": user, "endpoints": [
        {"name": endpoint.service_name, "type": endpoint.service_type, "description": endpoint.description,
         "urls": {interface: urls[interface] for interface in ("internal", "public")}}
        for endpoint, urls in entries]}
    return images.toolbox_python(f"WANTED = {json.dumps(json.dumps(wanted))}\n{REGISTRATION_PROGRAM}")


def keystone_admin_env(keystone: IdentityEndpoint) -> list[dict[str, Any]]:
    """The environment of openstacksdk and the openstack CLI acting as keystone's admin."""
    return [{"name": "OS_AUTH_URL", "value": keystone["internalURL"]},
            {"name": "OS_REGION_NAME", "value": keystone["region"]},
            {"name": "OS_INTERFACE", "value": "internal"},
            {"name": "OS_IDENTITY_API_VERSION", "value": "3"},
            {"name": "OS_USERNAME", "value": "admin"},
            {"name": "OS_PROJECT_NAME", "value": "admin"},
            {"name": "OS_USER_DOMAIN_NAME", "value": "Default"},
            {"name": "OS_PROJECT_DOMAIN_NAME", "value": "Default"},
            from_secret("OS_PASSWORD", keystone["adminSecret"], keystone["adminPasswordKey"])]
