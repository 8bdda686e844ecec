"""The import graph of `flows` keeps the layering the code promises.

- `flows.core` imports no SQLAlchemy, Prefect, adapter, service or flow module;
- no service imports the ORM tables (`flows.adapters.db.tables`);
- nothing in `flows` imports the benchmark (the top-level `bench/`) or the tests;
- no import cycle between modules.

The breaches that stood when this check was written are listed in `KNOWN`; the one-house redesign
(issue 13) removes them. A new breach fails, and so does an entry of `KNOWN` that no longer holds,
so the list can only shrink.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "flows"
BESIDE = {"bench", "tests"}  # top-level folders beside the product, never imported by it

KNOWN: set[str] = set()


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every module a file imports, at any depth (imports inside functions count too)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, *([node.module] if node.module else [])])
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def graph() -> dict[str, set[str]]:
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {name: imports_of(path) for name, path in modules.items()}


def breaches(edges: dict[str, set[str]]) -> set[str]:
    flows_modules = {module_name(p) for p in PACKAGE.glob("*.py") if p.name != "__init__.py"}
    found: set[str] = set()
    for module, imported in edges.items():
        if module.startswith("flows.core") and any(
            i.split(".")[0] in {"sqlalchemy", "prefect"}
            or i.startswith(("flows.adapters", "flows.services"))
            or i in flows_modules
            for i in imported
        ):
            found.add(f"core: {module}")
        if module.startswith("flows.services") and any(
            i.startswith("flows.adapters.db.tables") for i in imported
        ):
            found.add(f"services: {module}")
        if any(i.split(".")[0] in BESIDE or i.startswith("flows.bench") for i in imported):
            found.add(f"bench: {module}")
    found |= {f"cycle: {' <-> '.join(c)}" for c in cycles(edges)}
    return found


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (a package and its own children aside)."""
    inner = {m: {i for i in imported if i in edges and i != m} for m, imported in edges.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in inner[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            component.sort()
            if len(component) > 1 and not all(m.startswith(component[0]) for m in component):
                found.append(component)

    for v in sorted(inner):
        if v not in index:
            visit(v)
    return found


def test_no_new_breach_of_the_layering() -> None:
    """Every breach of the rules is one already known (issue 13 removes those)."""
    assert breaches(graph()) - KNOWN == set()


def test_the_known_breaches_still_exist() -> None:
    """An entry of KNOWN that was mended is taken off the list, so it cannot come back unseen."""
    assert KNOWN - breaches(graph()) == set()


def test_the_benchmark_sits_beside_the_product() -> None:
    """The harness is the top-level `bench/` package; `flows/bench` is gone."""
    assert (ROOT / "bench" / "harness.py").is_file()
    assert not (PACKAGE / "bench").exists()


def test_the_check_sees_the_product_import_the_benchmark() -> None:
    """A product module importing `bench` (at any depth) or a test helper is a breach."""
    edges = graph()
    edges["flows.cli"] = edges["flows.cli"] | {"bench.harness"}
    edges["flows.services.status"] = edges["flows.services.status"] | {"tests.support.databases"}

    found = breaches(edges) - KNOWN

    assert {"bench: flows.cli", "bench: flows.services.status"} <= found


def test_the_check_sees_a_bad_import_in_the_core() -> None:
    """A core module importing SQLAlchemy or a service, and a two-module cycle, are caught."""
    edges = graph()
    edges["flows.core.model"] = edges["flows.core.model"] | {"sqlalchemy.orm", "flows.services.status"}
    edges["flows.core.danish"] = edges["flows.core.danish"] | {"flows.core.deadline"}
    edges["flows.core.deadline"] = edges["flows.core.deadline"] | {"flows.core.danish"}

    found = breaches(edges) - KNOWN

    assert "core: flows.core.model" in found
    assert "cycle: flows.core.danish <-> flows.core.deadline" in found
