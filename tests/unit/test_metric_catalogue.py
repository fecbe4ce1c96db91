"""One metric catalogue (dbguard/metric_catalogue.py): the template names only catalogued metrics of
dbguard's namespace, every catalogued metric is emitted somewhere, and each is emitted through it."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from dbguard import metric_catalogue
from dbguard_local.cfn import load_template

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = load_template()
NAMESPACE = TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]["POWERTOOLS_METRICS_NAMESPACE"]
CATALOGUE = metric_catalogue.catalogue()
SOURCES = [
    *sorted((ROOT / "functions").glob("*/app.py")),
    *sorted((ROOT / "layers/common/dbguard").rglob("*.py")),
]


def template_metrics(node: Any) -> Iterator[tuple[str, str | None]]:
    """(metric name, service dimension) of every alarm or widget of dbguard's namespace."""
    if isinstance(node, dict):
        if node.get("Namespace") == NAMESPACE and isinstance(node.get("MetricName"), str):
            service = next(
                (d["Value"] for d in node.get("Dimensions", []) if d.get("Name") == "service"), None
            )
            yield node["MetricName"], service
        for value in node.values():
            yield from template_metrics(value)
    elif isinstance(node, list):
        for value in node:
            yield from template_metrics(value)


def names_used(path: Path) -> set[str]:
    return {node.id for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.Name)}


def test_the_template_names_only_catalogued_metrics_of_their_services():
    catalogued = {(metric.name, service) for metric in CATALOGUE for service in metric.services}
    named = set(template_metrics(TEMPLATE["Resources"]))
    assert named, "the template names no dbguard metric: has the namespace moved?"
    assert sorted(pair for pair in named if pair not in catalogued) == []


def test_every_catalogued_metric_is_emitted_and_nothing_bypasses_the_catalogue():
    constants = {
        name for name, value in vars(metric_catalogue).items() if isinstance(value, metric_catalogue.Metric)
    }
    used = set().union(*(names_used(path) for path in SOURCES if path.name != "metric_catalogue.py"))
    assert sorted(constants - used) == []
    direct = [str(path.relative_to(ROOT)) for path in SOURCES if "add_metric(" in path.read_text()]
    assert direct == ["layers/common/dbguard/observability.py"]  # emit() is the only way in


def test_a_name_means_one_thing_and_one_unit():
    by_name: dict[str, set[tuple[str, ...]]] = {}
    for metric in CATALOGUE:
        by_name.setdefault(metric.name, set()).add((metric.unit, *metric.services))
    assert {name: len(kinds) for name, kinds in by_name.items() if len(kinds) > 1} == {}
