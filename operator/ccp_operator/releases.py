"""OpenStack releases the operator knows: each service's version in each series, and the rules
for moving between series.

The package versions are the newest final releases of each series; they pin the oslo.config
namespaces the rendered configuration is validated against, and they document what the default
images of a series contain.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_RELEASE = "2026.1"


@dataclass(frozen=True)
class Release:
    series: str        # "2026.1"
    name: str          # "gazpacho"
    slurp: bool        # a "skip level upgrade release process" release: upgrades may skip to the next SLURP
    packages: dict[str, str]  # PyPI distribution -> version


RELEASES: dict[str, Release] = {r.series: r for r in (
    Release("2025.1", "epoxy", True, {
        "keystone": "27.1.0", "nova": "31.3.1", "glance": "30.2.0", "cinder": "26.3.0",
        "neutron": "26.0.6", "openstack-placement": "13.0.1", "horizon": "25.3.2"}),
    Release("2025.2", "flamingo", False, {
        "keystone": "28.1.0", "nova": "32.2.1", "glance": "31.1.0", "cinder": "27.0.0",
        "neutron": "27.0.4", "openstack-placement": "14.0.0", "horizon": "25.5.2"}),
    Release("2026.1", "gazpacho", True, {
        "keystone": "29.1.0", "nova": "33.0.2", "glance": "32.0.0", "cinder": "28.0.0",
        "neutron": "28.0.2", "openstack-placement": "15.0.0", "horizon": "25.7.3"}),
    Release("2026.2", "hibiscus", False, {
        "keystone": "30.0.0", "nova": "34.0.0", "glance": "33.0.0", "cinder": "29.0.0",
        "neutron": "29.0.0", "openstack-placement": "16.0.0", "horizon": "27.0.0"}),
)}

SERIES = sorted(RELEASES)


def get(series: str) -> Release:
    try:
        return RELEASES[series]
    except KeyError:
        raise KeyError(f"release {series} is not supported (supported: {', '.join(SERIES)})") from None
