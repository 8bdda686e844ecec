"""Wiring: the one place where real adapters are built from the settings.

Services receive an ``App``; unit tests build one with fakes (see ``App``). Nothing is built at
import time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property

from flows.adapters.db.session import Database
from flows.adapters.db.unit_of_work import SqlUnitOfWork, UnitOfWork
from flows.adapters.drop_source import DropSource
from flows.adapters.file_mailer import FileMailer
from flows.adapters.ports import Mailer, MailSource
from flows.adapters.raw_store import RawStore
from flows.settings import Settings


class NoDatabaseError(RuntimeError):
    """An ``App`` built for unit tests (no database) was asked for one."""


@dataclass
class App:
    """Settings plus the factories of everything with a side effect.

    ``bootstrap`` builds the real one. A unit test builds one without a database, from fakes::

        App(settings, uow_factory=FakeUnitOfWork(), mailer_factory=lambda: mailer, clock=lambda: NOON)

    ``uow_factory`` replaces the SQL unit of work, ``mailer_factory`` the SMTP (or file) mailer,
    ``source_factory`` the inbox, ``clock`` the service clock.
    """

    settings: Settings
    database: Database | None = None
    run_id: str = "cli"
    uow_factory: Callable[[], UnitOfWork] | None = None
    mailer_factory: Callable[[], Mailer] | None = None
    source_factory: Callable[[], MailSource] | None = None
    clock: Callable[[], datetime] | None = None

    @property
    def db(self) -> Database:
        """The database; code that still opens sessions itself uses it (services use ``uow``)."""
        if self.database is None:
            raise NoDatabaseError("this App has no database (built for a unit test): use app.uow()")
        return self.database

    def uow(self) -> UnitOfWork:
        """One transaction with the repositories (``flows.adapters.db.unit_of_work``)."""
        if self.uow_factory is not None:
            return self.uow_factory()
        return SqlUnitOfWork(self.db, self.run_id)

    def now(self) -> datetime:
        """The service clock: ``--now``/HOERING_NOW when set (replays, tests), else real time."""
        if self.clock is not None:
            return self.clock()
        if self.settings.now is not None:
            return self.settings.now.astimezone(UTC)
        return datetime.now(UTC)

    @cached_property
    def raw_store(self) -> RawStore:
        return RawStore(self.settings.raw_dir)

    @cached_property
    def file_store(self) -> RawStore:
        return RawStore(self.settings.files_dir)

    def mailer(self) -> Mailer:
        if self.mailer_factory is not None:
            return self.mailer_factory()
        if self.settings.smtp_url is None:
            return FileMailer(self.settings.outbox_dir)
        from flows.adapters.oauth import oauth_config, token_source, wants_oauth2
        from flows.adapters.smtp_mailer import SmtpMailer

        url = self.settings.smtp_url.get_secret_value()
        mailer = SmtpMailer(
            url,
            timeout=self.settings.socket_timeout,
            rate_per_minute=self.settings.send_rate_per_minute,
            tokens=token_source(oauth_config(self.settings)) if wants_oauth2(url) else None,
            secret_block=self.settings.secret_block,
            copies=self.settings.outbox_dir,
        )
        # A refused login ends the run here, in one line, before any outbox row is claimed.
        mailer.check_login()
        return mailer

    def inbox(self) -> MailSource:
        if self.source_factory is not None:
            return self.source_factory()
        from flows.adapters.mail_sources import open_source

        return open_source(self.settings.inbox(), self.settings, known=self._stored_maildir_names)

    def _stored_maildir_names(self) -> set[str]:
        with self.uow() as uow:
            return uow.batches.stored_maildir_names()

    def drop(self) -> MailSource:
        self.settings.resolved_drop_dir.mkdir(parents=True, exist_ok=True)
        return DropSource(self.settings.resolved_drop_dir, self.now)


def bootstrap(settings: Settings | None = None, *, run_id: str = "cli") -> App:
    settings = settings or Settings()
    data_dir = settings.resolved_data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    return App(settings=settings, database=Database(settings.resolved_database_url), run_id=run_id)
