"""Where hoering's own files live: the Danish wording (``config/``) and the migrations (``sql/``).

Every lookup of ``config/`` or ``sql/`` goes through :func:`resource`, so the code runs the same
from a checkout and from an installed wheel:

* a built wheel (``pip install .``, ``pip install hoering-….whl``) carries both folders inside
  the package, as ``flows/_resources/config`` and ``flows/_resources/sql`` (``setup.py`` copies
  them there at build time: the repo keeps them at its root);
* an editable install or a plain checkout has no ``_resources``; the folders are then found at
  the root of the checkout, beside ``flows/``.

Paths are real files on disk, not just ``Traversable`` handles: Alembic needs a directory for its
``script_location``, and python-docx opens the letterhead by name. pip always unpacks a wheel, so
``importlib.resources.files`` gives a filesystem path.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

#: the top-level folders of the repo that are shipped inside the package
SHIPPED = ("config", "sql")

_PACKAGE = "flows"
_INSTALLED = "_resources"


class ResourceMissingError(RuntimeError):
    """hoering's own files are missing: the installation is broken, not the user's input."""


def resource(name: str) -> Path:
    """The path of ``name`` under ``config/`` or ``sql/`` ("config/mail_da.toml", "sql").

    It may not exist (``config/letterhead.docx`` is optional): callers that need it say so with
    :func:`required`.
    """
    top, _, rest = name.strip("/").partition("/")
    if top not in SHIPPED:
        msg = f"{name!r} is not one of hoering's shipped folders {SHIPPED}"
        raise ValueError(msg)
    base = _root() / top
    return base / rest if rest else base


def required(name: str) -> Path:
    """As :func:`resource`, but a missing file or folder is an error naming what is missing."""
    path = resource(name)
    if not path.exists():
        msg = f"hoering er ikke installeret helt: {name} mangler ({path})"
        raise ResourceMissingError(msg)
    return path


@cache
def _root() -> Path:
    """The folder holding ``config/`` and ``sql/``: inside the package, else the checkout's root."""
    package = resources.files(_PACKAGE)
    installed = package / _INSTALLED
    if isinstance(installed, Path) and installed.is_dir():
        return installed
    if isinstance(package, Path):
        checkout = package.parent
        if all((checkout / top).is_dir() for top in SHIPPED):
            return checkout
    msg = (
        f"hoering er ikke installeret helt: hverken {installed} eller config/ og sql/ ved siden af "
        f"{package} findes"
    )
    raise ResourceMissingError(msg)
