"""One definition each (issue 13, point 6): the logger tree, the ``round:`` tag, the output names.

Each rule is checked twice: its one definition does what it should, and no other module of
``flows`` builds the same thing by hand (the source is scanned, so a second copy fails here).
"""

from __future__ import annotations

import ast
import logging
from pathlib import Path

import pytest

from flows import artifacts, notify, schedules
from flows.core.outputs import output_paths
from flows.core.tags import round_tag

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "flows"


def _modules() -> list[tuple[Path, ast.Module]]:
    return [(p, ast.parse(p.read_text(encoding="utf-8"))) for p in sorted(PACKAGE.rglob("*.py"))]


def _where(found: list[Path]) -> list[str]:
    return [str(p.relative_to(ROOT)) for p in found]


def test_every_logger_is_named_after_its_module() -> None:
    """``getLogger(__name__)`` everywhere; only the CLI names the tree's root, ``flows``."""
    odd = []
    for path, tree in _modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "getLogger":
                arg = node.args[0] if node.args else None
                is_name = isinstance(arg, ast.Name) and arg.id == "__name__"
                is_root = isinstance(arg, ast.Constant) and arg.value == "flows" and path.name == "cli.py"
                if not (is_name or is_root):
                    odd.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert odd == []


@pytest.mark.parametrize("module", [artifacts, notify, schedules], ids=lambda m: m.__name__)
def test_the_cli_handler_hears_the_dashboard_mail_and_schedule_warnings(module: object) -> None:
    """The CLI attaches its handler to ``flows``; these three logged under ``hoering.*``, past it."""
    log = module.log  # type: ignore[attr-defined]
    heard: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = heard.append  # type: ignore[method-assign]
    tree = logging.getLogger("flows")
    tree.addHandler(handler)
    try:
        log.warning("Could not tag the run")
    finally:
        tree.removeHandler(handler)

    assert [r.name for r in heard] == [module.__name__]  # type: ignore[attr-defined]


def test_the_round_tag() -> None:
    assert round_tag("sof-partnerskab-2025") == "round:sof-partnerskab-2025"


def test_no_module_builds_the_round_tag_by_hand() -> None:
    """``round:`` is written in ``flows/core/tags.py`` only (artifacts and schedules each had one)."""
    found = []
    for path, tree in _modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.JoinedStr) and node.values:
                head = node.values[0]
                if isinstance(head, ast.Constant) and str(head.value).startswith("round:"):
                    found.append(path)
    assert _where(found) == ["flows/core/tags.py"]


def test_the_output_names() -> None:
    """The five files ``assemble`` writes, by the names the README gives them."""
    paths = output_paths(Path("/srv/out"), "sof-2025")

    assert paths.all() == (
        Path("/srv/out/sof-2025-hoeringslog.xlsx"),
        Path("/srv/out/sof-2025-hoeringsnotat.docx"),
        Path("/srv/out/sof-2025-samlede-hoeringssvar.pdf"),
        Path("/srv/out/sof-2025-hoeringsnotat-offentlig.docx"),
        Path("/srv/out/sof-2025-samlede-hoeringssvar-offentlig.pdf"),
    )
    assert (paths.log, paths.note, paths.bundle, paths.public_note, paths.public_bundle) == paths.all()


def test_no_module_spells_an_output_name_but_the_one_function() -> None:
    """The log and note names live in ``flows/core/outputs.py`` (assembling and artifacts had them)."""
    found = set()
    for path, tree in _modules():
        for node in ast.walk(tree):
            names = ("-hoeringslog.xlsx", "-hoeringsnotat.docx", "-samlede-hoeringssvar.pdf")
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.endswith(names):
                found.add(path)
    assert _where(sorted(found)) == ["flows/core/outputs.py"]
