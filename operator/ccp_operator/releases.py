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
        "neutron": "26.0.6", "openstack-placement": "13.0.1", "horizon": "25.3.2", "openstack-heat": "24.1.2"}),
    Release("2025.2", "flamingo", False, {
        "keystone": "28.1.0", "nova": "32.2.1", "glance": "31.1.0", "cinder": "27.0.0",
        "neutron": "27.0.4", "openstack-placement": "14.0.0", "horizon": "25.5.2", "openstack-heat": "25.0.2"}),
    Release("2026.1", "gazpacho", True, {
        "keystone": "29.1.0", "nova": "33.0.2", "glance": "32.0.0", "cinder": "28.0.0",
        "neutron": "28.0.2", "openstack-placement": "15.0.0", "horizon": "25.7.3", "openstack-heat": "26.0.2"}),
    Release("2026.2", "hibiscus", False, {
        "keystone": "30.0.0", "nova": "34.0.0", "glance": "33.0.0", "cinder": "29.0.0",
        "neutron": "29.0.0", "openstack-placement": "16.0.0", "horizon": "27.0.0", "openstack-heat": "27.0.1"}),
)}

SERIES = sorted(RELEASES)


def get(series: str) -> Release:
    try:
        return RELEASES[series]
    except KeyError:
        raise KeyError(f"release {series} is not supported (supported: {', '.join(SERIES)})") from None


def upgrade_refusal(current: str, target: str) -> str | None:
    """Why OpenStack does not support moving a service from `current` to `target` (None: it does).

    Each series upgrades to the next one; a SLURP series also to the next SLURP series, skipping
    the one between (OpenStack's "skip level upgrade release process"). Nothing else: not two
    series at once from a non-SLURP series, and never backwards once a step is contracted."""
    for series in (current, target):
        if series not in RELEASES:
            return f"release {series} is not supported (supported: {', '.join(SERIES)})"
    if target == current:
        return None
    position, goal = SERIES.index(current), SERIES.index(target)
    if goal < position:
        return f"{current} -> {target} is a downgrade; OpenStack database schemas only move forward"
    if goal == position + 1:
        return None
    if RELEASES[current].slurp and RELEASES[target].slurp and goal == position + 2:
        return None
    allowed = [SERIES[position + 1]] if position + 1 < len(SERIES) else []
    if RELEASES[current].slurp and position + 2 < len(SERIES) and RELEASES[SERIES[position + 2]].slurp:
        allowed.append(SERIES[position + 2])
    return (f"{current} -> {target} skips more than OpenStack supports (SLURP rules); from {current} upgrade to "
            + (" or ".join(allowed) if allowed else "nothing newer yet") + " first")
