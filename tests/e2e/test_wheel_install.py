"""A real install: build the wheel, install it into a fresh venv, run `hoering demo` from there.

This is what an operator does (`pip install hoering-….whl`, or `pip install .`, which builds the
same wheel), so it checks what the wheel carries: the Alembic migrations and the Danish wording
from the repo's top-level ``sql/`` and ``config/``, found through ``flows.resources``.

The fresh venv gets hoering itself from the wheel and nothing from the checkout: the demo runs
with an empty temp dir as its working directory, without PYTHONPATH, and the test asserts that
``flows`` and its resources resolve inside the fresh venv. Only the *dependencies* (Prefect,
SQLAlchemy, …) are borrowed from the test's own venv, through a ``.pth`` line that appends its
site-packages after the fresh venv's own: installing them again would take minutes and test pip,
not hoering. That line adds a path only; ``.pth`` files inside it (the editable install's finder)
are not run, so the checkout stays out of reach.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.install

# run by the fresh venv's python: where flows, its modules and its resources come from
WHERE_FROM = """
import json, sys
import flows, flows.cli, flows.demo
from flows.resources import resource
modules = [m.__file__ for n, m in list(sys.modules.items()) if n.startswith("flows") and getattr(m, "__file__", None)]
print(json.dumps({
    "package": flows.__file__,
    "sql": str(resource("sql")),
    "wording": str(resource("config/mail_da.toml")),
    "modules": modules,
    "path": sys.path,
}))
"""


def _run(args: list[str], cwd: Path, env: dict[str, str], timeout: float = 600) -> str:
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, timeout=timeout, check=False)
    output = done.stdout.decode("utf-8", "replace") + done.stderr.decode("utf-8", "replace")
    assert done.returncode == 0, f"{args[:3]} failed ({done.returncode}):\n{output[-4000:]}"
    return done.stdout.decode("utf-8")


def _clean_env(tmp: Path) -> dict[str, str]:
    """The environment of a fresh shell: no PYTHONPATH, no hoering settings, Prefect on its own."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PREFECT_API_URL"}
        and not k.startswith("HOERING_")
    }
    env["PREFECT_HOME"] = str(tmp / "prefect-home")
    env["PATH"] = os.pathsep.join(
        p for p in env.get("PATH", "").split(os.pathsep) if not p.startswith(str(ROOT))
    )
    return env


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dist = tmp_path_factory.mktemp("dist")
    _run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(dist), str(ROOT)],
        ROOT,
        dict(os.environ),
    )
    [built] = dist.glob("hoering-*.whl")
    return built


def test_the_wheel_carries_migrations_and_wording(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {
        "flows/_resources/sql/env.py",
        "flows/_resources/sql/script.py.mako",
        "flows/_resources/config/mail_da.toml",
        "flows/_resources/config/note_da.toml",
        "flows/_resources/config/hoering.example.env",
    }
    expected |= {f"flows/_resources/sql/versions/{p.name}" for p in (ROOT / "sql" / "versions").glob("*.py")}
    if (ROOT / "config" / "letterhead.docx").is_file():
        expected.add("flows/_resources/config/letterhead.docx")
    assert expected <= names, sorted(expected - names)
    assert not [n for n in names if "__pycache__" in n or n.startswith(("sql/", "config/"))]


def test_the_wheel_carries_no_benchmark_and_no_tests(wheel: Path) -> None:
    """The benchmark sits beside the product (``bench/``): neither it nor the tests are installed."""
    names = zipfile.ZipFile(wheel).namelist()

    assert "flows/cli.py" in names
    assert not [n for n in names if n.startswith(("bench/", "flows/bench/", "tests/"))]


def test_demo_runs_from_a_fresh_install_in_an_empty_folder(wheel: Path, tmp_path: Path) -> None:
    venv, work = tmp_path / "venv", tmp_path / "empty"
    work.mkdir()
    env = _clean_env(tmp_path)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    fresh_site = Path(
        _run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], work, env
        ).strip()
    )
    (fresh_site / "zz_hoering_test_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    _run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps", str(wheel)],
        work,
        env,
    )

    report = _run([str(python), "-c", WHERE_FROM], work, env)
    where = json.loads(report)
    for located in (where["package"], where["sql"], where["wording"], *where["modules"]):
        assert Path(located).is_relative_to(fresh_site), located
    assert str(ROOT) not in where["path"] and str(work) not in where["path"], where["path"]

    out = _run([str(venv / "bin" / "hoering"), "demo"], work, env, timeout=900)
    outputs = dict(line.split(":", 1) for line in out.splitlines() if ":" in line)
    log, note, bundle = (
        Path(outputs[k].strip()) for k in ("Høringslog", "Høringsnotat", "Samlede høringssvar")
    )
    for made in (log, note, bundle):
        assert made.is_relative_to(work), made
        assert made.is_file() and made.stat().st_size > 0, made
    assert log.suffix == ".xlsx" and zipfile.is_zipfile(log)
    assert note.suffix == ".docx" and zipfile.is_zipfile(note)
    assert bundle.read_bytes().startswith(b"%PDF-")
    # the Danish wording came along: the note's headings are those of config/note_da.toml
    document = zipfile.ZipFile(note).read("word/document.xml").decode("utf-8")
    assert "Høringsnotat" in document
