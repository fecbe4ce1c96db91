"""Writes the CloudWatch dashboard into template.yaml (OperationsDashboard's DashboardBody): dbguard's
own metrics placed from the metric catalogue, AWS's (API Gateway, SQS, Lambda per function) and an
alarm status widget of every alarm from the template itself (`make dashboard`).

The body is JSON inside `!Sub`, so `${AWS::Region}`, a parameter or `${Resource}`/`${Resource.Attr}`
resolve at deployment (no AWS::LanguageExtensions transform needed). It refuses to write a body
that leaves a catalogued metric off, and tests/unit/test_metric_catalogue.py fails when the
committed body is not what this writes, when a catalogued metric is on no widget, when a widget
names a metric the catalogue does not hold, or when a widget is not one CloudWatch accepts.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO_ROOT), str(REPO_ROOT / "layers" / "common")]

from dbguard import metric_catalogue as mc  # noqa: E402
from dbguard_local.cfn import TEMPLATE_PATH, load_template  # noqa: E402

DASHBOARD = "OperationsDashboard"
BODY_LINE = "      DashboardBody: !Sub |"
BODY_INDENT = " " * 8
GRID, GRAPH_WIDTH, GRAPH_HEIGHT = 24, 8, 6
Row = list[Any]  # one metric of a widget: [namespace, name, dimension, value, ..., {options}]


@dataclass(frozen=True)
class Graph:
    title: str
    rows: list[Row]
    stat: str = "Sum"
    period: int = 300
    annotations: list[dict[str, Any]] = field(default_factory=list)  # horizontal lines

    def properties(self) -> dict[str, Any]:
        found: dict[str, Any] = {
            "title": self.title, "view": "timeSeries", "stacked": False, "region": "${AWS::Region}",
            "stat": self.stat, "period": self.period, "metrics": self.rows,
            "yAxis": {"left": {"min": 0}},
        }  # fmt: skip
        if self.annotations:
            found["annotations"] = {"horizontal": self.annotations}
        return found


@dataclass(frozen=True)
class Section:
    title: str
    graphs: list[Graph] = field(default_factory=list)
    note: str = ""


def ours(metric: mc.Metric, *services: str, label: str | None = None, **options: Any) -> list[Row]:
    """A catalogued metric, one line per emitting function (all of them unless named)."""
    variables = _template()["Globals"]["Function"]["Environment"]["Variables"]
    rows = []
    for service in services or metric.services:
        text = label or metric.name
        text += f" ({service})" if len(metric.services) > 1 else ""
        rows.append(
            [
                variables["POWERTOOLS_METRICS_NAMESPACE"],
                metric.name,
                "service",
                service,
                {"label": text, **options},
            ]
        )
    return rows


def api(name: str) -> Row:
    return ["AWS/ApiGateway", name, "ApiName", "dbguard-audit-${EnvironmentName}", "Stage", "${StageName}",
            {"label": name}]  # fmt: skip


def queue(
    logical_id: str, label: str, name: str = "ApproximateNumberOfMessagesVisible", **options: Any
) -> Row:
    return ["AWS/SQS", name, "QueueName", f"${{{logical_id}.QueueName}}", {"label": label, **options}]


def per_function(name: str) -> list[Row]:
    return [
        ["AWS/Lambda", name, "FunctionName", f"${{{logical_id}}}", {"label": _function_name(logical_id)}]
        for logical_id in functions()
    ]


def functions() -> list[str]:
    resources = _template()["Resources"]
    return [logical_id for logical_id, r in resources.items() if r["Type"] == "AWS::Serverless::Function"]


def alarms() -> list[str]:
    resources = _template()["Resources"]
    return [logical_id for logical_id, r in resources.items() if r["Type"] == "AWS::CloudWatch::Alarm"]


def layout() -> list[Section]:
    return [
        Section("Audit ingest (POST /audit/events)", [
            Graph("Events stored, and duplicates (retries)",
                  [*ours(mc.EVENTS_STORED), *ours(mc.EVENTS_DUPLICATE)]),
            Graph("Ingest refused, by reason", [
                *ours(mc.INGEST_TOKEN_MISSING, label="no ?token="),
                *ours(mc.INGEST_TOKEN_REJECTED, label="wrong token"),
                *ours(mc.REQUESTS_REJECTED, "audit_ingest", label="bad input (4xx)"),
                *ours(mc.STORAGE_THROTTLED, "audit_ingest", label="storage busy (503)"),
            ]),
            Graph("API answers 4xx and 5xx (every route)", [api("4XXError"), api("5XXError")]),
            Graph("API latency p99 (ms)", [api("Latency"), api("IntegrationLatency")], stat="p99"),
        ]),
        Section("Reads: audit query and rotation status (IAM)", [
            Graph("Audit query: events answered, index items read",
                  [*ours(mc.QUERY_EVENTS_RETURNED), *ours(mc.QUERY_INDEX_ITEMS_READ)]),
            Graph("Reads refused", [
                *ours(mc.REQUESTS_REJECTED, "audit_query", "rotation_status"),
                *ours(mc.STORAGE_THROTTLED, "audit_query", label="storage busy (503)"),
            ]),
        ]),
        Section("Direct connections (around the JumpServer DB proxy)", [
            Graph("Direct connections", ours(mc.DIRECT_CONNECTIONS)),
            Graph("Announcements not delivered", [
                *ours(mc.DIRECT_CONNECTIONS_DEAD_LETTERED, label="dead-lettered"),
                *ours(mc.DIRECT_CONNECTIONS_UNANNOUNCED, label="lost"),
                queue("DirectConnectionDeadLetterQueue", "waiting in the DLQ", stat="Maximum"),
            ]),
        ]),
        Section("Audit CSV files and silent sources", [
            Graph("CSV rows", [
                *ours(mc.CSV_ROWS_IMPORTED, label="imported"),
                *ours(mc.CSV_ROWS_DUPLICATE, label="read again, stored before"),
                *ours(mc.CSV_ROWS_REFUSED, label="quarantined"),
                *ours(mc.CSV_FILES_REFUSED, label="files refused", yAxis="right"),
            ]),
            Graph("CSV queue: backlog and dead letters", [
                queue("AuditCsvQueue", "waiting"),
                queue("AuditCsvDeadLetterQueue", "dead-letter queue"),
            ], stat="Maximum"),
            Graph("Silent sources (GET /audit/sources names them)", ours(mc.SILENT_SOURCES), stat="Maximum"),
        ]),
        Section("Tamper-evident audit trail (audit_digest)", [
            Graph("Hourly digests written, events covered", [
                *ours(mc.DIGESTS_WRITTEN, label="digests written"),
                *ours(mc.DIGEST_EVENTS, label="events covered", yAxis="right"),
            ], period=3600),
            Graph("Digests behind, signing key unusable", [
                *ours(mc.DIGEST_HOURS_BEHIND, label="closed hours left to the next run"),
                *ours(mc.DIGEST_KEY_UNUSABLE, label="key pending deletion or disabled"),
            ], stat="Maximum", period=3600),
        ]),
        Section("CMDB registration (cmdb_sync)", [
            Graph("Changes applied", [
                *ours(mc.DATABASES_REGISTERED, label="registered"),
                *ours(mc.DATABASES_UPDATED, label="updated"),
                *ours(mc.DATABASES_RETIRED, label="retired"),
                *ours(mc.CHANGES_IGNORED_STALE, label="stale, ignored"),
            ]),
            Graph("Changes failed", [
                *ours(mc.CHANGES_FAILED, label="failed (SQS retries)"),
                *ours(mc.CHANGES_REJECTED, label="rejected (DLQ at once)"),
                *ours(mc.CHANGES_DEFERRED, label="deferred (near the timeout)"),
            ]),
            Graph("Queues: dead letters and backlog", [
                queue("CmdbDeadLetterQueue", "dead-letter queue"),
                queue("CmdbQueue", "waiting"),
                queue("CmdbQueue", "oldest waiting (s)", "ApproximateAgeOfOldestMessage", yAxis="right"),
            ], stat="Maximum"),
        ]),
        Section("Token rotation (token_rotation)", [
            Graph("Rotations", [
                *ours(mc.TOKENS_ROTATED, label="rotated"),
                *ours(mc.ROTATION_FAILED, label="failed"),
                *ours(mc.ROTATION_DEFERRED, label="deferred to the next run"),
                *ours(mc.ROTATION_SKIPPED, label="not due"),
                *ours(mc.TOKENS_EXPIRED, label="old tokens expired"),
            ], period=3600),
            Graph("Soonest expiry: seconds left (TokenExpiryNearAlarm below half the window)",
                  ours(mc.TOKEN_SECONDS_LEFT, label="the token closest to expiry"), stat="Minimum",
                  period=3600, annotations=[_line("RotationWindowSeconds: due", "RotationWindowSeconds")]),
            Graph("JumpServer requests against the budget", [
                *ours(mc.JUMPSERVER_BUSIEST_MINUTE, label="busiest minute"),
                *ours(mc.JUMPSERVER_REQUESTS, label="requests", stat="Sum", yAxis="right"),
            ], stat="Maximum", annotations=[
                _line("JumpServerRequestsPerMinute (each function)", "JumpServerRequestsPerMinute"),
            ]),
            Graph("Run duration (ms)", [
                *ours(mc.ROTATION_RUN_DURATION, label="longest run"),
                *ours(mc.ROTATION_RUN_DURATION, label="average run", stat="Average"),
            ], stat="Maximum", period=3600, annotations=[
                _line("RotationTimeoutSeconds", "RotationTimeoutSeconds", "000"),  # in ms
            ]),
        ]),
        Section("Functions", [
            Graph("Errors", per_function("Errors")),
            Graph("Throttles", per_function("Throttles")),
            Graph("Duration p99 (ms)", per_function("Duration"), stat="p99"),
        ]),
    ]  # fmt: skip


NUMBER = "<number>"  # marks a parameter substituted as a JSON number, not a string


def _line(label: str, parameter: str, digits: str = "") -> dict[str, Any]:
    """A horizontal line at a Number parameter's value (`digits` appended: 000 for seconds in ms)."""
    return {"label": label, "value": f"{NUMBER}${{{parameter}}}{digits}"}


def widgets() -> list[dict[str, Any]]:
    """Each section's title (with its note), then its graphs three to a row; the alarms last."""
    placed: list[dict[str, Any]] = []
    y = 0
    for section in layout():
        text = f"## {section.title}" + (f"\n{section.note}" if section.note else "")
        height = 2 if section.note else 1
        placed.append({"type": "text", "x": 0, "y": y, "width": GRID, "height": height,
                       "properties": {"markdown": text}})  # fmt: skip
        y += height
        for index, graph in enumerate(section.graphs):
            x = index % (GRID // GRAPH_WIDTH) * GRAPH_WIDTH
            if index and not x:
                y += GRAPH_HEIGHT
            placed.append({"type": "metric", "x": x, "y": y, "width": GRAPH_WIDTH, "height": GRAPH_HEIGHT,
                           "properties": graph.properties()})  # fmt: skip
        y += GRAPH_HEIGHT if section.graphs else 0
    arns = [f"${{{logical_id}.Arn}}" for logical_id in alarms()]
    placed.append({"type": "alarm", "x": 0, "y": y, "width": GRID, "height": 2 + len(arns) // 4,
                   "properties": {"title": "Alarms (docs/operations.md)", "alarms": arns}})  # fmt: skip
    return placed


def body() -> str:
    """The dashboard's JSON, one widget a line; numbers from parameters are substituted unquoted."""
    unplaced = _unplaced()
    if unplaced:
        raise SystemExit(f"no widget shows {', '.join(unplaced)}: place them in layout()")
    lines = [json.dumps(widget, separators=(", ", ": ")) for widget in widgets()]
    text = '{"widgets": [\n' + ",\n".join(lines) + "\n]}"
    return re.sub(rf'"{NUMBER}([^"]*)"', r"\1", text)


def _unplaced() -> list[str]:
    shown = {(row[1], row[3]) for section in layout() for graph in section.graphs for row in graph.rows}
    wanted = [(metric.name, service) for metric in mc.catalogue() for service in metric.services]
    return [f"{name} ({service})" for name, service in wanted if (name, service) not in shown]


def template_text(current: str) -> str:
    """template.yaml with the dashboard body as body() writes it."""
    lines = current.split("\n")
    start = lines.index(BODY_LINE) + 1
    end = start
    while end < len(lines) and (lines[end].startswith(BODY_INDENT) or not lines[end].strip()):
        end += 1
    while end > start and not lines[end - 1].strip():  # the blank line before the next resource stays
        end -= 1
    return "\n".join([*lines[:start], *(BODY_INDENT + line for line in body().split("\n")), *lines[end:]])


def _function_name(logical_id: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", logical_id.removesuffix("Function")).lower()


_TEMPLATE: dict[str, Any] = {}


def _template() -> dict[str, Any]:
    if not _TEMPLATE:
        _TEMPLATE.update(load_template())
    return _TEMPLATE


def main(paths: Iterable[Path] = (TEMPLATE_PATH,)) -> None:
    for path in paths:
        path.write_text(template_text(path.read_text(encoding="utf-8")), encoding="utf-8")


if __name__ == "__main__":
    main()
