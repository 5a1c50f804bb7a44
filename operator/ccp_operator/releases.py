"""OpenStack releases the operator knows, and the rules for moving between series.

Each service's package version per series is in its declaration (services/<service>.py): the
newest final release of the series, which pins the oslo.config namespaces its rendered files are
validated against and says what the default images of a series contain.
"""

from __future__ import annotations

from dataclasses import dataclass

from .services import catalog

DEFAULT_RELEASE = "2026.1"


@dataclass(frozen=True)
class Release:
    series: str        # "2026.1"
    name: str          # "gazpacho"
    slurp: bool        # a "skip level upgrade release process" release: upgrades may skip to the next SLURP

    @property
    def packages(self) -> dict[str, str]:
        """PyPI distribution -> version of every service in this series (from each service's
        declaration)."""
        return {definition.pypi_package: definition.package_versions[self.series]
                for definition in catalog.SERVICES if definition.pypi_package}


RELEASES: dict[str, Release] = {r.series: r for r in (
    Release("2025.1", "epoxy", True),
    Release("2025.2", "flamingo", False),
    Release("2026.1", "gazpacho", True),
    Release("2026.2", "hibiscus", False),
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
