"""Shared fixtures: a fresh data dir and App per test; the database on SQLite and PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from flows.bootstrap import App, bootstrap
from flows.settings import Settings
from tests.support.databases import fresh_database

CORPORA = Path(__file__).resolve().parents[1].parent / "shared" / "corpora"


def corpora_dir(*parts: str) -> Path:
    """A folder of ../shared/corpora, or a skip with the reason when the corpora are absent."""
    path = CORPORA.joinpath(*parts)
    if not path.is_dir():
        pytest.skip(f"{path} is absent: the real-world corpora are not checked out beside the repo")
    return path


def postgres_url() -> str | None:
    return os.environ.get("HOERING_TEST_PG_URL") or None


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each storage test runs on SQLite and on the PostgreSQL the test command starts."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'hoering.sqlite3'}"
        return
    base = postgres_url()
    if base is None:
        pytest.skip("HOERING_TEST_PG_URL is unset: run the suite with `make test`, which starts PostgreSQL")
    with fresh_database(base) as url:
        assert url is not None
        yield url


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "var")


@pytest.fixture
def app(settings: Settings) -> Iterator[App]:
    application = bootstrap(settings)
    yield application
    application.db.dispose()


@pytest.fixture
def any_db_app(tmp_path: Path, database_url: str) -> Iterator[App]:
    application = bootstrap(Settings(data_dir=tmp_path / "var", database_url=database_url))
    yield application
    application.db.dispose()
