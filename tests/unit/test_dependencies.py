"""pyproject.toml declares what the code uses, and the code uses only what is declared."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("flows", "tests", "deployments", "sql")
# Declared but never imported by name, each for a reason a reader can check.
INDIRECT = {
    "defusedxml": "openpyxl parses workbooks through it when it is installed (test_attachments checks)",
    "tzdata": "zoneinfo's Europe/Copenhagen where the system has no time zone database",
    "pytest-timeout": "a pytest plugin: the `timeout` setting and marker",
    "ruff": "a tool the checks run",
    "mypy": "a tool the checks run",
    "types-openpyxl": "type stubs for mypy",
}


def declared() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = project["dependencies"] + [
        d for group in project["optional-dependencies"].values() for d in group
    ]
    return {re.split(r"[\[<>=!~; ]", spec, maxsplit=1)[0].lower().replace("_", "-") for spec in wanted}


def imported_modules() -> set[str]:
    """Top-level names of every absolute import in the project's Python files."""
    names: set[str] = set()
    for folder in SOURCES:
        for path in (ROOT / folder).rglob("*.py"):
            if ".venv" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names.update(alias.name.split(".")[0] for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    names.add(node.module.split(".")[0])
    return names


def distributions_of(modules: set[str]) -> set[str]:
    owners = packages_distributions()
    found: set[str] = set()
    for module in modules - set(sys.stdlib_module_names) - {"flows", "tests", "__future__", "_typeshed"}:
        found.update(d.lower().replace("_", "-") for d in owners.get(module, [module]))
    return found


def test_every_declared_dependency_is_used() -> None:
    """Nothing is declared that no code imports (pandas and XlsxWriter were, unused)."""
    used = distributions_of(imported_modules())

    assert declared() - used - set(INDIRECT) == set()


def test_every_imported_package_is_declared() -> None:
    """Every third-party package the code imports is declared, not merely installed by another."""
    assert distributions_of(imported_modules()) - declared() == set()
