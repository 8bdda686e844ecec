"""Build hook: ship the repo's ``config/`` and ``sql/`` inside the package.

The repo keeps the Danish wording (``config/``) and the Alembic migrations (``sql/``) at its root;
an installed hoering finds them as ``flows/_resources/config`` and ``flows/_resources/sql``
(``flows/resources.py`` looks both places up). Everything else is declared in ``pyproject.toml``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
# what each shipped folder contributes; nothing else (no caches, no local letterhead drafts)
SHIPPED = {
    "config": ("*.toml", "hoering.example.env", "letterhead.docx"),
    "sql": ("env.py", "script.py.mako", "versions/*.py"),
}


class BuildPyWithResources(build_py):
    """``build_py`` that also copies ``config/`` and ``sql/`` into ``flows/_resources/``."""

    def run(self) -> None:
        super().run()
        if self.editable_mode:  # an editable install reads the checkout's folders in place
            return
        target = Path(self.build_lib) / "flows" / "_resources"
        # build/ outlives a build: without this a renamed migration would ship twice (two heads)
        shutil.rmtree(target, ignore_errors=True)
        for folder, patterns in SHIPPED.items():
            for pattern in patterns:
                for source in sorted((ROOT / folder).glob(pattern)):
                    destination = target / source.relative_to(ROOT)
                    destination.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(source, destination)
        if not (target / "sql" / "env.py").is_file() or not (target / "config" / "mail_da.toml").is_file():
            msg = f"config/ and sql/ were not found beside setup.py in {ROOT}"
            raise SystemExit(msg)


setup(cmdclass={"build_py": BuildPyWithResources})
