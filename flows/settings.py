"""Every setting of hoering, in one typed model read from the environment (prefix ``HOERING_``).

The defaults make a fresh clone run a whole round with no configuration at all: a SQLite file,
a Maildir inbox and an ``.eml`` outbox, all under ``./var``.
"""

from __future__ import annotations

import os
import re
from datetime import datetime
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Settings, validated at load. See ``config/hoering.example.env`` for each with a comment."""

    model_config = SettingsConfigDict(env_prefix="HOERING_", extra="ignore")

    data_dir: Path = Field(Path("./var"), description="raw messages, attachments, outputs, the db")
    database_url: str | None = Field(None, description="SQLAlchemy URL; default SQLite in data_dir")
    smtp_url: SecretStr | None = Field(None, description="smtp:// or smtps://; unset: .eml outbox")
    inbox_url: SecretStr | None = Field(None, description="imap://, imaps:// or maildir://")
    drop_dir: Path | None = Field(None, description="files staff drop in; default data_dir/drop")
    now: datetime | None = Field(None, description="replay clock (as --now); never a receipt time")
    authserv_id: str | None = Field(None, description="our receiving server's authserv-id")
    mail_domain: str = Field("hoering.invalid", description="domain of our Message-IDs")
    sender_address: str | None = Field(None, description="From of our mail; default reply_to")
    send_rate_per_minute: float = Field(30.0, description="SMTP send rate (Exchange Online: 30)")
    smtp_max_attempts: int = Field(5, description="attempts before a 4xx becomes perm_failed")
    socket_timeout: float = Field(30.0, description="seconds; every SMTP/IMAP socket has one")
    imap_batch: int = Field(200, description="UIDs per UID FETCH")
    imap_processed_folder: str = Field("Processed", description="where collected mail is moved")
    ingest_batch: int = Field(500, description="raw messages parsed per Prefect task")
    batch_processes: int = Field(0, description="processes that parse batches; 0: two threads")
    parse_workers: int = Field(
        default_factory=lambda: os.cpu_count() or 1,
        description="processes that parse a large batch; 0 or 1: in the calling process",
    )
    work_pool: str | None = Field(
        None, description="Prefect work pool whose workers run a collect's batches (process-batch)"
    )
    work_pool_runs: int = Field(4, ge=1, description="process-batch runs of one collect at a time")
    work_pool_batch: int = Field(
        5000,
        ge=1,
        description="raw messages per process-batch run on a work pool (a run's start costs seconds)",
    )
    batch_run_timeout: float = Field(
        3600.0, gt=0, description="seconds a running process-batch run may take before it is retried"
    )
    collect_lease_seconds: float = Field(
        120.0, description="a collect's lease; a killed collect blocks the next for at most this"
    )
    collect_wait_seconds: float = Field(5.0, description="how long a collect waits for another to end")
    max_message_bytes: int = Field(25 * 1024 * 1024, description="larger items: kept whole, not parsed")
    letterhead: Path | None = Field(None, description="base .docx for the note; default config/")
    oauth_tenant: str | None = Field(None, description="Entra ID tenant (GUID or domain) for ?auth=oauth2")
    oauth_client_id: str | None = Field(None, description="application (client) id of the app registration")
    oauth_client_secret: SecretStr | None = Field(None, description="client secret, or block:NAME")
    oauth_certificate: Path | None = Field(None, description="PEM with private key and certificate")
    oauth_authority: str = Field(
        "https://login.microsoftonline.com/{tenant}", description="token endpoint base ({tenant} filled in)"
    )
    secret_block: str | None = Field(None, description="Prefect Secret block: client secret or password")

    @field_validator("now")
    @classmethod
    def _now_has_offset(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            msg = "HOERING_NOW needs a UTC offset, e.g. 2025-10-25T08:00:00+02:00"
            raise ValueError(msg)
        return value

    @property
    def parse_workers_in_use(self) -> int:
        """No parse pool inside a process-pool task runner: its processes already fill the cores."""
        return 0 if self.batch_processes > 0 else self.parse_workers

    @property
    def resolved_data_dir(self) -> Path:
        return self.data_dir.expanduser().resolve()

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.resolved_data_dir / 'hoering.sqlite3'}"

    @property
    def resolved_drop_dir(self) -> Path:
        return (self.drop_dir or self.resolved_data_dir / "drop").expanduser().resolve()

    @property
    def outbox_dir(self) -> Path:
        return self.resolved_data_dir / "outbox"

    @property
    def raw_dir(self) -> Path:
        return self.resolved_data_dir / "raw"

    @property
    def files_dir(self) -> Path:
        return self.resolved_data_dir / "files"

    def inbox(self) -> str:
        """The inbox URL, defaulting to the Maildir under the data dir."""
        if self.inbox_url is not None:
            return self.inbox_url.get_secret_value()
        return f"maildir://{self.resolved_data_dir / 'inbox'}"

    def out_dir(self, round_id: str) -> Path:
        return self.resolved_data_dir / "out" / round_id


# scheme://user:password@ anywhere in a text; the password is everything up to the last "@" of
# the authority (an unencoded "@" or ":" in a password must not leak its tail).
_URL_PASSWORD = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^:/@\s]*):[^/\s]*@", re.IGNORECASE)


def redact_url(text: str) -> str:
    """Every URL password in ``text`` replaced by ``***``: the one redactor for logs, artifacts, mail."""
    return _URL_PASSWORD.sub(r"\g<head>:***@", text)
