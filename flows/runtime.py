"""What every flow shares: the App for this run, run names, tags, retry rules."""

from __future__ import annotations

import imaplib
import os
import smtplib
import socket
import threading
import tomllib
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from prefect import runtime
from prefect.cache_policies import NO_CACHE
from prefect.task_runners import ProcessPoolTaskRunner, ThreadPoolTaskRunner
from prefect.tasks import exponential_backoff
from sqlalchemy.exc import OperationalError

from flows.adapters.lifeline import watch_parent
from flows.bootstrap import App, bootstrap
from flows.core.errors import HoeringError, TransientError
from flows.settings import Settings

_apps: dict[str, App] = {}


def get_app(now: str | None = None) -> App:
    """One App (engine, migrations checked) per process and clock setting."""
    settings = Settings()
    if now:
        settings = settings.model_copy(update={"now": datetime.fromisoformat(now)})
    key = settings.model_dump_json()
    if key not in _apps:
        _apps[key] = bootstrap(settings)
    app = _apps[key]
    app.run_id = str(runtime.flow_run.id or "cli")
    return app


def forget_apps(data_dir: Path) -> None:
    """Dispose of the Apps cached for ``data_dir`` (their engines close, so its database can go)."""
    for key, app in list(_apps.items()):
        if app.settings.resolved_data_dir == data_dir.resolve():
            app.db.dispose()
            del _apps[key]


def run_name(step: str) -> Callable[[], str]:
    """Flow run names that say which round and which step, e.g. "collect · sof-partnerskab-2025"."""

    def name() -> str:
        parameters: dict[str, Any] = runtime.flow_run.parameters or {}
        round_id = parameters.get("round_id") or _id_in_file(parameters.get("round_file")) or "demo"
        return f"{step} · {round_id}"

    return name


def _id_in_file(path: str | None) -> str | None:
    """The round id inside a round file, for naming the open run (the file is validated later)."""
    if not path:
        return None
    try:
        with Path(path).open("rb") as handle:
            value = tomllib.load(handle).get("id")
    except (OSError, tomllib.TOMLDecodeError):
        return Path(path).stem
    return str(value) if isinstance(value, str) else Path(path).stem


TRANSIENT = (
    TransientError,  # hoering's own: a mail server or token endpoint that did not answer
    socket.timeout,
    TimeoutError,
    ConnectionError,
    imaplib.IMAP4.abort,
    smtplib.SMTPServerDisconnected,
    # the database locked by another writer, or not answering (SQLAlchemy wraps the driver's
    # error in this class; a constraint or programming error is another class, never retried)
    OperationalError,
)


def is_transient(exc: BaseException) -> bool:
    """Network trouble is worth a retry; a bad round file or a wrong password is not.

    Decided by class, never by a class's name. A ``HoeringError`` is someone's to fix (a refused
    login, a Microsoft 365 step not done): never retried, whatever else it also is.
    """
    if isinstance(exc, HoeringError):
        return False
    return isinstance(exc, TRANSIENT)


def retry_transient(_task: Any, _task_run: Any, state: Any) -> bool:
    try:
        state.result()
    except Exception as exc:
        return is_transient(exc)
    return False


# Side-effect tasks must run every time, and hashing their inputs costs time on large batches:
# no cache, no persisted result. Idempotency lives in the database, not in Prefect's cache.
PLAIN: dict[str, Any] = {"cache_policy": NO_CACHE, "persist_result": False}

RETRY: dict[str, Any] = {
    **PLAIN,
    "retries": 3,
    "retry_delay_seconds": exponential_backoff(backoff_factor=5),
    "retry_jitter_factor": 0.5,
    "retry_condition_fn": retry_transient,
}


def batch_runner() -> Any:
    """Task runner for flows that fan batches out (collect, close).

    Two threads by default; with HOERING_BATCH_PROCESSES=N a pool of N processes, so parsing a
    national round's mailbox uses every core (deployments/README.md). Read when the flow module
    is imported, which is when a served or worker run starts. Typed ``Any`` because Prefect's
    runner generics do not line up with the flow decorator's.
    """
    settings = Settings()
    if settings.batch_processes > 0:
        # Each worker ends itself once this process is gone (a SIGKILLed run leaves none behind).
        return ProcessPoolTaskRunner(
            max_workers=settings.batch_processes, initializer=watch_parent, initargs=(os.getpid(),)
        )
    # SQLite has one writer: a second thread would only wait in SQLite's busy handler.
    threads = 1 if settings.resolved_database_url.startswith("sqlite") else 2
    return ThreadPoolTaskRunner(max_workers=threads)


def start_temporary_server() -> None:
    """Start Prefect's temporary server now, from the main thread, when a run will need one.

    Prefect would start it on first use from whichever thread asks first; started here it gets
    ``PR_SET_PDEATHSIG`` tied to the main thread, so it dies with the command even on a SIGKILL
    (``flows/adapters/lifeline.py``). A no-op with ``PREFECT_API_URL`` set or ephemeral mode off.
    """
    from prefect.settings import PREFECT_API_URL, PREFECT_SERVER_EPHEMERAL_ENABLED

    if PREFECT_API_URL.value() or not PREFECT_SERVER_EPHEMERAL_ENABLED.value():
        return
    if threading.current_thread() is not threading.main_thread():
        return  # the death signal would follow this thread, not the process: leave it to Prefect
    from flows.adapters.temporary_server import TemporaryServer

    TemporaryServer().start()
