"""A generated round driven through the ``hoering`` command, as an operator's cron would run it.

``CliRound`` makes a fresh data dir (and, for PostgreSQL, a fresh database), a seeded corpus
(round file, party list, Maildir), and runs ``hoering`` subprocesses against them with a clean
environment. Each run's environment carries ``HOERING_TEST_MARK=<unique>``, so the processes a
test started (and everything they started) can be found in ``/proc`` without touching anyone
else's. ``counts`` reads what exactly-once is asserted on.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bench.corpus import CorpusInfo, generate
from bench.stages import COLLECT_NOW, OPEN_NOW
from flows.bootstrap import App, bootstrap
from flows.settings import Settings
from tests.support.databases import fresh_database

HOERING = str(Path(sys.executable).with_name("hoering"))
# Steps before the deadline run at the opening's clock; the rest after it.
_NOW = {"open": OPEN_NOW, "invite": OPEN_NOW}


@dataclass(frozen=True)
class Counts:
    """What must come out exactly once, however often a step was killed and rerun."""

    stored: int
    counted: int
    responses: int
    remarks: int
    outbox: int
    outbox_sent: int
    eml_files: int
    attempts: int

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


class CliRound:
    def __init__(
        self,
        tmp_path: Path,
        backend: str = "sqlite",
        *,
        messages: int = 80,
        seed: int = 1,
        env: dict[str, str] | None = None,
        prefect: str = "ephemeral",
    ) -> None:
        self.tmp_path, self.backend, self.messages, self.seed = tmp_path, backend, messages, seed
        self.extra_env = env or {}
        self.prefect = prefect
        self.mark = f"e2-{uuid.uuid4().hex}"
        self.data_dir = tmp_path / "var"
        self._stack = ExitStack()
        self._apps: list[App] = []
        self.database_url: str | None = None
        self.corpus: CorpusInfo

    def __enter__(self) -> CliRound:
        self.tmp_path.mkdir(parents=True, exist_ok=True)
        if self.backend == "postgresql":
            base = os.environ.get("HOERING_TEST_PG_URL")
            if not base:
                pytest.skip(
                    "HOERING_TEST_PG_URL is unset: run the suite with `make test`, which starts PostgreSQL"
                )
            self.database_url = self._stack.enter_context(fresh_database(base))
        if self.prefect == "server" and not os.environ.get("HOERING_TEST_PREFECT_API_URL"):
            pytest.skip(
                "HOERING_TEST_PREFECT_API_URL is unset: run `make test`, which starts a prefect server"
            )
        self.corpus = generate(self.messages, self.tmp_path / "corpus", seed=self.seed, parties=12)
        return self

    def __exit__(self, *_exc: object) -> None:
        for app in self._apps:
            app.db.dispose()
        self._stack.close()

    @property
    def round_id(self) -> str:
        return self.corpus.round_id

    @property
    def distinct(self) -> int:
        """Messages that must be stored: identical re-sends (same bytes) are one message."""
        lines = self.corpus.truth.read_text(encoding="utf-8").splitlines()
        return len({json.loads(line)["sha256"] for line in lines})

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("HOERING_", "PREFECT_"))}
        env |= {
            "HOERING_DATA_DIR": str(self.data_dir),
            "HOERING_INBOX_URL": f"maildir://{self.corpus.maildir}",
            "HOERING_DROP_DIR": str(self.data_dir / "drop"),
            "HOERING_TEST_MARK": self.mark,
            "DO_NOT_TRACK": "1",
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        }
        if self.database_url:
            env["HOERING_DATABASE_URL"] = self.database_url
        # One Prefect home per test session, so the temporary server's database is migrated once;
        # per pytest-xdist worker, so two modules at once never share that SQLite database.
        home = os.environ.get("PREFECT_HOME") or str(Path(self.tmp_path).parent / "prefect-home")
        if worker := os.environ.get("PYTEST_XDIST_WORKER"):
            home = f"{home}-{worker}"
        env["PREFECT_HOME"] = home
        if self.prefect == "server":
            env["PREFECT_API_URL"] = os.environ["HOERING_TEST_PREFECT_API_URL"]
        return env | self.extra_env

    def argv(self, *args: str) -> list[str]:
        return [HOERING, "--now", _NOW.get(args[0], COLLECT_NOW), *args]

    def hoering(
        self, *args: str, check: bool = True, timeout: float = 600
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            self.argv(*args),
            capture_output=True,
            text=True,
            env=self.env(),
            cwd=self.tmp_path,
            timeout=timeout,
            check=False,
        )
        if check and result.returncode != 0:
            pytest.fail(f"hoering {' '.join(args)} exited {result.returncode}: {result.stderr[-2000:]}")
        return result

    def start(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            self.argv(*args),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=self.env(),
            cwd=self.tmp_path,
        )

    def app(self) -> App:
        app = bootstrap(Settings(data_dir=self.data_dir, database_url=self.database_url))
        self._apps.append(app)
        return app

    def counts(self) -> Counts:
        from flows.adapters.db.tables import OutboxRow, RawMessageRow, RemarkRow, ResponseRow

        app = self._apps[0] if self._apps else self.app()
        with app.db.transaction() as session:

            def count(query: Any) -> int:
                return int(session.scalar(query) or 0)

            return Counts(
                stored=count(select(func.count()).select_from(RawMessageRow)),
                counted=count(
                    select(func.count()).select_from(ResponseRow).where(ResponseRow.kind == "response")
                ),
                responses=count(select(func.count()).select_from(ResponseRow)),
                remarks=count(select(func.count()).select_from(RemarkRow)),
                outbox=count(select(func.count()).select_from(OutboxRow)),
                outbox_sent=count(
                    select(func.count()).select_from(OutboxRow).where(OutboxRow.state == "sent")
                ),
                eml_files=sum(1 for _ in (self.data_dir / "outbox").rglob("*.eml")),
                attempts=count(select(func.coalesce(func.sum(RawMessageRow.attempts), 0))),
            )

    def marked_processes(self) -> list[int]:
        return marked_processes(self.mark)


def marked_processes(mark: str) -> list[int]:
    """Live processes whose environment carries ``HOERING_TEST_MARK=mark`` (zombies excluded)."""
    needle = f"HOERING_TEST_MARK={mark}".encode()
    found: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z" and needle in environ.split(b"\0"):
            found.append(int(entry.name))
    return found


def personal_data(truth: Path, app: App) -> list[str]:
    """Sender addresses of the corpus, and a slice of every stored response text."""
    from flows.adapters.db.tables import ResponseRow

    secrets = {json.loads(line)["sender"] for line in truth.read_text(encoding="utf-8").splitlines()}
    with app.db.transaction() as session:
        for text in session.scalars(select(ResponseRow.full_text)):
            words = (text or "").split()
            if len(words) >= 8:
                secrets.add(" ".join(words[2:8]))
    return sorted(s for s in secrets if s)
