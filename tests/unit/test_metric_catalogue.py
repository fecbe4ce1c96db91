"""One metric catalogue (dbguard/metric_catalogue.py): the template's alarms and dashboard name only
catalogued metrics of dbguard's namespace, the dashboard shows every one of them, every catalogued
metric is emitted somewhere, and each is emitted through it. The dashboard's body (written by
scripts/generate_dashboard.py, which cfn-lint does not look into) is JSON CloudWatch accepts."""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator
from itertools import product
from pathlib import Path
from typing import Any

import pytest

from dbguard import metric_catalogue
from dbguard_local.cfn import TEMPLATE_PATH, Template, load_template
from tests.scripts import load_script

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


def dashboard() -> dict[str, Any]:
    """The dashboard's body as CloudFormation hands it over: every resource's name is its logical id."""
    template = Template(TEMPLATE)
    for logical_id in TEMPLATE["Resources"]:
        arn = f"arn:aws:cloudwatch:eu-central-1:123456789012:alarm:{logical_id}"
        template.record(logical_id, logical_id, Arn=arn, QueueName=logical_id)
    return json.loads(
        template.resolve(TEMPLATE["Resources"]["OperationsDashboard"]["Properties"]["DashboardBody"])
    )


def dashboard_rows() -> Iterator[tuple[str, str, dict[str, str]]]:
    """(namespace, metric name, dimensions) of every metric line of every graph."""
    for widget in dashboard()["widgets"]:
        for row in widget["properties"].get("metrics", []) if widget["type"] == "metric" else []:
            names = [part for part in row if isinstance(part, str)]
            yield names[0], names[1], dict(zip(names[2::2], names[3::2], strict=True))


def dashboard_metrics() -> set[tuple[str, str | None]]:
    return {
        (name, dims.get("service")) for namespace, name, dims in dashboard_rows() if namespace == NAMESPACE
    }


def names_used(path: Path) -> set[str]:
    return {node.id for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.Name)}


def test_the_template_names_only_catalogued_metrics_of_their_services():
    catalogued = {(metric.name, service) for metric in CATALOGUE for service in metric.services}
    named = set(template_metrics(TEMPLATE["Resources"])) | dashboard_metrics()
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


# ---------------------------------------------------------------------------------------- the dashboard
generate_dashboard = load_script("generate_dashboard")
STATS = re.compile(r"^(SampleCount|Average|Sum|Minimum|Maximum|p\d{1,2}(\.\d{1,2})?)$")
VIEWS = {"timeSeries", "singleValue", "gauge", "bar", "pie", "table"}
RENDERING = {"label", "stat", "period", "yAxis", "visible", "color", "id", "region", "accountId"}


def test_every_catalogued_metric_is_shown_by_a_dashboard_widget():
    catalogued = {(metric.name, service) for metric in CATALOGUE for service in metric.services}
    assert sorted(catalogued - dashboard_metrics()) == []


def test_the_committed_dashboard_is_what_the_generator_writes():
    committed = TEMPLATE_PATH.read_text(encoding="utf-8")
    assert generate_dashboard.template_text(committed) == committed, "run `make dashboard`"


def test_the_dashboard_shows_every_function_and_every_alarm():
    resources = TEMPLATE["Resources"]
    functions = {name for name, r in resources.items() if r["Type"] == "AWS::Serverless::Function"}
    alarms = {name for name, r in resources.items() if r["Type"] == "AWS::CloudWatch::Alarm"}
    for metric in ("Errors", "Throttles", "Duration"):
        shown = {
            dims["FunctionName"]
            for ns, name, dims in dashboard_rows()
            if (ns, name) == ("AWS/Lambda", metric)
        }
        assert shown == functions, metric
    [alarm_widget] = [widget for widget in dashboard()["widgets"] if widget["type"] == "alarm"]
    assert {arn.rsplit(":", 1)[1] for arn in alarm_widget["properties"]["alarms"]} == alarms


def test_the_dashboard_body_is_json_with_widgets_cloudwatch_accepts():
    """docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html"""
    widgets = dashboard()["widgets"]
    assert 0 < len(widgets) <= 500
    taken: set[tuple[int, int]] = set()
    for widget in widgets:
        x, y, width, height = (widget[key] for key in ("x", "y", "width", "height"))
        assert all(isinstance(value, int) for value in (x, y, width, height)), widget
        assert x >= 0, widget
        assert y >= 0, widget
        assert 1 <= width <= 24 - x, widget
        assert 1 <= height <= 1000, widget
        cells = set(product(range(x, x + width), range(y, y + height)))
        assert not cells & taken, f"overlaps another widget: {widget}"
        taken |= cells
        check_widget(widget["type"], widget["properties"])


def check_widget(kind: str, properties: dict[str, Any]) -> None:
    if kind == "text":
        assert isinstance(properties["markdown"], str)
        assert properties["markdown"]
        return
    if kind == "alarm":
        assert 0 < len(properties["alarms"]) <= 100
        assert all(arn.startswith("arn:aws:cloudwatch:") for arn in properties["alarms"])
        return
    assert kind == "metric"
    assert properties["region"] == "eu-central-1"
    assert properties["view"] in VIEWS
    assert STATS.match(properties["stat"])
    assert properties["period"] >= 60
    assert properties["period"] % 60 == 0
    assert 0 < len(properties["metrics"]) <= 100
    for row in properties["metrics"]:
        names, options = row[:-1], row[-1]
        assert all(isinstance(part, str) and part for part in names), row  # namespace, name, dimensions
        assert len(names) % 2 == 0, row
        assert isinstance(options, dict), row
        assert set(options) <= RENDERING, row
        assert STATS.match(options.get("stat", "Sum")), row
        assert options.get("yAxis", "left") in ("left", "right"), row
    for line in properties.get("annotations", {}).get("horizontal", []):
        assert isinstance(line["value"], int | float), line
        assert isinstance(line["label"], str), line
    assert set(properties) <= {"title", "view", "stacked", "region", "stat", "period", "metrics", "yAxis",
                               "annotations"}  # fmt: skip


@pytest.mark.parametrize("parameter", ["RotationWindowSeconds", "JumpServerRequestsPerMinute"])
def test_a_parameter_a_line_is_drawn_at_becomes_a_number(parameter):
    values = [
        line["value"]
        for widget in dashboard()["widgets"]
        for line in widget["properties"].get("annotations", {}).get("horizontal", [])
    ]
    assert int(TEMPLATE["Parameters"][parameter]["Default"]) in values
