"""Engine creation and migrations (the Alembic scripts of ``sql/``, found by ``flows.resources``)."""

from __future__ import annotations

from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event

from flows.resources import required


def make_engine(url: str) -> Engine:
    """An engine; SQLite gets WAL, NORMAL sync, foreign keys, a busy timeout, BEGIN IMMEDIATE.

    ``hide_parameters``: a failed statement's exception text (which our warnings and a row's
    ``error`` column carry) must not hold its bound values, which are response texts and
    sender addresses: personal data never reaches a log.
    """
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30}, hide_parameters=True)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            # The driver's own implicit BEGIN is turned off; "begin" below issues ours.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin_immediate(connection: Any) -> None:
            # A deferred transaction that has read and then writes fails at once with
            # "database is locked" when another writer committed in between (WAL snapshot);
            # taking the write lock up front makes concurrent runs wait their turn instead.
            connection.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    # Bulk INSERTs without RETURNING as multi-row VALUES too: psycopg would otherwise send one
    # statement per row (pipelined, but each parsed and executed on its own by the server).
    # (SQLAlchemy's psycopg2 dialect does this; its psycopg 3 dialect leaves it off.)
    engine = create_engine(url, pool_pre_ping=True, hide_parameters=True)
    engine.dialect.use_insertmanyvalues_wo_returning = True
    return engine


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(required("sql")))
    config.attributes["engine"] = engine
    return config


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (a no-op when it is there)."""
    command.upgrade(alembic_config(engine), "head")
