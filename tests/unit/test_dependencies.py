"""pyproject.toml declares what the code uses, and the code uses only what is declared.

The product (``flows``, ``deployments``, ``sql``) imports only the plain dependencies, which a
``pip install hoering`` brings; the benchmark (``bench/``) and the tests may use an extra
(``test``, or ``bench`` should one be declared): aiosmtpd is one.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ("flows", "deployments", "sql")
SOURCES = (*PRODUCT, "bench", "tests")
OWN = {"flows", "bench", "tests", "__future__", "_typeshed"}
# Declared but never imported by name, each for a reason a reader can check.
INDIRECT = {
    "defusedxml": "openpyxl parses workbooks through it when it is installed (test_attachments checks)",
    "tzdata": "zoneinfo's Europe/Copenhagen where the system has no time zone database",
    "pytest-timeout": "a pytest plugin: the `timeout` setting and marker",
    "pytest-xdist": "a pytest plugin: the test command runs two pytest workers (`-n 2`)",
    "ruff": "a tool the checks run",
    "mypy": "a tool the checks run",
    "types-openpyxl": "type stubs for mypy",
}


def declared(extras: tuple[str, ...] | None = None) -> set[str]:
    """The plain dependencies and those of ``extras`` (of every extra when None)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    groups = project["optional-dependencies"]
    wanted = project["dependencies"] + [
        d for name, group in groups.items() if extras is None or name in extras for d in group
    ]
    return {re.split(r"[\[<>=!~; ]", spec, maxsplit=1)[0].lower().replace("_", "-") for spec in wanted}


def imported_modules(folders: tuple[str, ...] = SOURCES) -> set[str]:
    """Top-level names of every absolute import in the Python files of ``folders``."""
    names: set[str] = set()
    for folder in folders:
        for path in (ROOT / folder).rglob("*.py"):
            if ".venv" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names.update(alias.name.split(".")[0] for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    names.add(node.module.split(".")[0])
    return names


# Import names of packages of an extra the test command does not install, by distribution.
NOT_INSTALLED = {"mailparser_reply": "mail-parser-reply", "quotequail": "quotequail"}


def distributions_of(modules: set[str]) -> set[str]:
    owners = packages_distributions()
    found: set[str] = set()
    for module in modules - set(sys.stdlib_module_names) - OWN:
        found.update(
            d.lower().replace("_", "-") for d in owners.get(module, [NOT_INSTALLED.get(module, module)])
        )
    return found


def test_every_declared_dependency_is_used() -> None:
    """Nothing is declared that no code imports (pandas and XlsxWriter were, unused)."""
    used = distributions_of(imported_modules())

    assert declared() - used - set(INDIRECT) == set()


def test_every_imported_package_is_declared() -> None:
    """Every third-party package the code imports is declared, not merely installed by another."""
    assert distributions_of(imported_modules()) - declared() == set()


def test_the_product_needs_no_extra() -> None:
    """What a plain install runs imports only the plain dependencies (aiosmtpd was the bench's)."""
    assert distributions_of(imported_modules(PRODUCT)) - declared(()) == set()


def test_the_benchmark_needs_at_most_the_test_or_bench_extra() -> None:
    """``python -m bench`` runs in the venv ``make venv`` makes (the test extra)."""
    assert distributions_of(imported_modules(("bench",))) - declared(("test", "bench")) == set()
