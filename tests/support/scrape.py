"""Samples of a Prometheus text exposition, looked up by name and labels."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families


def samples(text: str) -> list[tuple[str, dict[str, str], float]]:
    return [(s.name, s.labels, s.value) for family in text_string_to_metric_families(text) for s in family.samples]


def value(text: str, metric: str, /, **labels: str) -> float | None:
    """The value of the one sample of `metric` whose labels include `labels`; None when absent."""
    found = [v for n, sample_labels, v in samples(text) if n == metric and labels.items() <= sample_labels.items()]
    assert len(found) <= 1, f"{len(found)} samples of {metric} match {labels}"
    return found[0] if found else None
