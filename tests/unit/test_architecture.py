"""The dependency rules of docs/architecture.md, read from the source (imports under TYPE_CHECKING and
inside functions included): handlers -> composition -> services -> domain (ports included);
adapters implement ports and import only the domain; no import cycle anywhere in the package."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
PACKAGE = ROOT / "layers" / "common"
HANDLERS = sorted((ROOT / "functions").glob("*/app.py"))

# The application services: they drive a use case through ports. Everything in the area packages
# that is not listed here is domain (models, rules, ports) and may import only the domain.
SERVICES = {
    "dbguard.audit.ingest",
    "dbguard.audit.query",
    "dbguard.cmdb.sync",
    "dbguard.rotation.rotator",
    "dbguard.rotation.runner",
    "dbguard.rotation.secrets_manager",
}
MAY_IMPORT = {
    "composition": {"composition", "service", "adapter", "domain"},
    "entry": {"domain"},  # http_api (proxy answers, error bodies) and http_openapi (their documentation)
    "service": {"service", "domain"},
    "adapter": {"adapter", "domain"},
    "domain": {"domain"},
    "handler": {"composition", "entry", "service", "domain"},
}
MAX_HANDLER_LINES = 80


def layer_of(module: str) -> str:
    if module.startswith("dbguard.composition"):
        return "composition"
    if module.startswith("dbguard.adapters"):
        return "adapter"
    if module in {"dbguard.http_api", "dbguard.http_openapi"}:
        return "entry"
    return "service" if module in SERVICES else "domain"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted((PACKAGE / "dbguard").rglob("*.py"))}


def imported(path: Path, importer: str) -> Iterator[str]:
    """The dbguard modules a file imports, resolved to modules (`from dbguard import aws` -> dbguard.aws)."""
    package = importer if path.name == "__init__.py" else importer.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            names = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base for alias in node.names
            ]
        else:
            continue
        yield from (name for name in names if name.split(".")[0] == "dbguard")


GRAPH = {name: sorted(set(imported(path, name)) - {name}) for name, path in MODULES.items()}


def test_every_imported_dbguard_module_exists():
    missing = {f"{importer} -> {target}" for importer, targets in GRAPH.items() for target in targets}
    assert sorted(edge for edge in missing if edge.split(" -> ")[1] not in MODULES) == []


@pytest.mark.parametrize("importer", sorted(MODULES))
def test_imports_point_one_way(importer):
    layer = layer_of(importer)
    wrong = [target for target in GRAPH[importer] if layer_of(target) not in MAY_IMPORT[layer]]
    assert wrong == [], f"{importer} ({layer}) may import only {sorted(MAY_IMPORT[layer])}"


def test_no_import_cycle():
    assert cycles(GRAPH) == []


@pytest.mark.parametrize("handler", HANDLERS, ids=lambda path: path.parent.name)
def test_handlers_are_thin_and_use_their_own_composition_root(handler):
    lines = [line for line in handler.read_text().splitlines() if line.strip()]
    assert len(lines) <= MAX_HANDLER_LINES
    targets = set(imported(handler, "app"))
    wrong = [target for target in targets if layer_of(target) not in MAY_IMPORT["handler"]]
    assert wrong == []
    roots = {target for target in targets if layer_of(target) == "composition"}
    assert roots <= {f"dbguard.composition.{handler.parent.name}"}


def cycles(graph: dict[str, list[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in graph.get(node, []):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while (member := stack.pop()) != node:
                component.append(member)
            if component:
                found.append(sorted([node, *component]))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def test_the_cycle_finder_finds_a_type_only_cycle():
    assert cycles({"a": ["b"], "b": ["a"], "c": ["a"]}) == [["a", "b"]]
    assert cycles({"a": ["b"], "b": []}) == []
