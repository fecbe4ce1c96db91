"""docs/operations.md has a section for every alarm in template.yaml and every event dbguard puts on
a bus: a heading naming it (`AlarmLogicalId`, or Event `<detail-type>`) with what it means and what
to do under it. Events are found by their constant: a module-level `<...>_DETAIL_TYPE` string of the
dbguard package."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from dbguard_local.cfn import load_template

ROOT = Path(__file__).resolve().parents[2]
RUNBOOK = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
SECTIONS = dict(re.findall(r"^#{2,4} (.+)\n((?:(?!#{1,4} ).*\n?)*)", RUNBOOK, re.MULTILINE))
ALARMS = sorted(
    name
    for name, resource in load_template()["Resources"].items()
    if resource["Type"] == "AWS::CloudWatch::Alarm"
)


def detail_types() -> list[str]:
    found = []
    for path in sorted((ROOT / "layers" / "common" / "dbguard").rglob("*.py")):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if (
                isinstance(node, ast.Assign)
                and any(isinstance(t, ast.Name) and t.id.endswith("DETAIL_TYPE") for t in node.targets)
                and isinstance(node.value, ast.Constant)
                and isinstance(node.value.value, str)
            ):
                found.append(node.value.value)
    return sorted(found)


def section_naming(name: str) -> str:
    bodies = [body for heading, body in SECTIONS.items() if f"`{name}`" in heading]
    assert bodies, f"docs/operations.md has no heading naming `{name}`"
    return bodies[0]


@pytest.mark.parametrize("alarm", ALARMS)
def test_every_alarm_has_a_runbook_section(alarm):
    assert len(section_naming(alarm).split()) >= 25, f"say what {alarm} means and what to do"


@pytest.mark.parametrize("detail_type", detail_types())
def test_every_event_dbguard_emits_has_a_runbook_section(detail_type):
    assert len(section_naming(detail_type).split()) >= 25, f"say what {detail_type} means and what to do"


def test_the_events_are_found():
    assert "Direct Database Connection Detected" in detail_types()
