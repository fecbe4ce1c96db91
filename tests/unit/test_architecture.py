"""The dependency rules of docs/architecture.md, read from the source (imports under TYPE_CHECKING and
inside functions included). A module's layer is its place: dbguard/composition/ (composition roots),
dbguard/services/ (application services), dbguard/adapters/, http_api and http_openapi (the HTTP
entry helpers), and everything else in the package (the domain: models, rules, ports).

handler -> its own composition root, entry helpers, domain; composition -> anything; service ->
services, domain; adapter -> adapters, domain; domain -> domain. No import cycle between modules,
and none between the package's top-level packages."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
PACKAGE = ROOT / "layers" / "common"
HANDLERS = sorted((ROOT / "functions").glob("*/app.py"))

MAY_IMPORT = {
    "composition": {"composition", "service", "adapter", "entry", "domain"},
    "entry": {"domain"},  # http_api (proxy answers, error bodies) and http_openapi (their documentation)
    "service": {"service", "domain"},
    "adapter": {"adapter", "domain"},
    "domain": {"domain"},
    "handler": {"composition", "entry", "domain"},  # the composition root: its own only (below)
}
PLACES = {"dbguard.composition": "composition", "dbguard.services": "service", "dbguard.adapters": "adapter"}
ENTRY = {"dbguard.http_api", "dbguard.http_openapi"}
MAX_HANDLER_LINES = 80


def layer_of(module: str) -> str:
    if module in ENTRY:
        return "entry"
    package = ".".join(module.split(".")[:2])
    return PLACES.get(package, "domain")


def package_of(module: str) -> str:
    """dbguard.audit.records -> dbguard.audit; a top-level module is its own package."""
    return ".".join(module.split(".")[:2])


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


def test_no_import_cycle_between_modules():
    assert cycles(GRAPH) == []


def test_no_import_cycle_between_packages():
    packages: dict[str, set[str]] = {}
    for importer, targets in GRAPH.items():
        edges = packages.setdefault(package_of(importer), set())
        edges.update(package_of(target) for target in targets if package_of(target) != package_of(importer))
    assert cycles({package: sorted(targets) for package, targets in packages.items()}) == []


@pytest.mark.parametrize("handler", HANDLERS, ids=lambda path: path.parent.name)
def test_handlers_are_thin_and_use_only_their_own_composition_root_entry_helpers_and_the_domain(handler):
    lines = [line for line in handler.read_text().splitlines() if line.strip()]
    assert len(lines) <= MAX_HANDLER_LINES
    targets = set(imported(handler, "app"))
    wrong = [target for target in targets if layer_of(target) not in MAY_IMPORT["handler"]]
    assert wrong == []
    roots = {target for target in targets if layer_of(target) == "composition"}
    assert roots == {f"dbguard.composition.{handler.parent.name}"}


def test_every_function_has_a_composition_root_of_its_name():
    assert {path.parent.name for path in HANDLERS} <= {
        name.rsplit(".", 1)[1] for name in MODULES if layer_of(name) == "composition"
    }


def test_the_places_hold_what_the_rules_name():
    """Each place exists and holds modules: a renamed folder must not turn every rule off."""
    layers = {layer_of(name) for name in MODULES}
    assert layers == {"composition", "service", "adapter", "entry", "domain"}


def cycles(graph: dict[str, list[str]]) -> list[list[str]]:
    """Strongly connected components of more than one node (Tarjan), each sorted."""
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


def test_a_module_s_layer_is_its_place():
    assert layer_of("dbguard.services.rotator") == "service"
    assert layer_of("dbguard.composition.cmdb_sync") == "composition"
    assert layer_of("dbguard.adapters.jumpserver.client") == "adapter"
    assert (layer_of("dbguard.http_api"), layer_of("dbguard.rotation.policy")) == ("entry", "domain")


TOOLS = ("bench", "chaos", "scripts", "dbguard_local", "dbguard_verify", "dbguard_testkit", "jumpserver_sim")


@pytest.mark.parametrize("folder", TOOLS)
def test_the_tools_import_nothing_from_the_tests(folder):
    """Benchmarks, chaos runs, scripts and the local stack build from dbguard_testkit, never from tests/:
    a test may change its helpers without breaking them."""
    wrong = []
    for path in sorted((ROOT / folder).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module or ""]
            wrong += [f"{path.relative_to(ROOT)}: {name}" for name in names if name.split(".")[0] == "tests"]
    assert wrong == []


INIT_PHASE = "dbguard.init_phase"


def test_only_handlers_import_the_init_phase():
    """Importing dbguard/init_phase.py turns the garbage collector off until the handler's
    init_finished(): imported by anything else (a module of the package, a tool, a test), it would
    leave that process without collection."""
    ours = sorted(path for path in ROOT.rglob("*.py") if not path.relative_to(ROOT).parts[0].startswith("."))
    others = [path for path in ours if path not in HANDLERS]  # venvs and build output start with "."
    wrong = [str(path.relative_to(ROOT)) for path in others if INIT_PHASE in imported(path, "tool")]
    assert wrong == []
    assert all(INIT_PHASE in imported(handler, "app") for handler in HANDLERS)
