"""The product's own stages, driven through its services on a fresh data dir and database.

open → invite (to a loopback SMTP sink) → ingest (fetch into the raw store while the stored rows
are parsed, classified, matched and persisted in batches of ``ingest_batch``) → template
extraction → campaign grouping over the counted texts → the assembly read → the log → the note. The log and the note each get their
floor (§4) on exactly the same cells and paragraphs, in the same run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from bench.corpus import CorpusInfo
from flows.bootstrap import App, bootstrap
from flows.core.assembly import LazyText
from flows.settings import Settings

# The corpus round runs 2024-10-16 to 2024-10-25 23:59:59 +02:00; late mail arrives up to a day after.
OPEN_NOW = "2024-10-15T09:00:00+02:00"
COLLECT_NOW = "2024-10-27T12:00:00+01:00"


@dataclass
class Product:
    """One fresh installation of hoering reading the corpus's Maildir."""

    corpus: CorpusInfo
    data_dir: Path
    database_url: str | None
    apps: list[App] = field(default_factory=list)

    def settings(self, now: str, smtp_port: int | None = None) -> Settings:
        return Settings(
            data_dir=self.data_dir,
            database_url=self.database_url,
            inbox_url=SecretStr(f"maildir://{self.corpus.maildir}"),
            smtp_url=SecretStr(f"smtp://127.0.0.1:{smtp_port}") if smtp_port else None,
            drop_dir=self.data_dir / "drop",
            send_rate_per_minute=0.0,  # no throttle towards the loopback sink
            now=datetime.fromisoformat(now),
        )

    def app(self, now: str, smtp_port: int | None = None) -> App:
        app = bootstrap(self.settings(now, smtp_port), run_id="bench")
        self.apps.append(app)
        return app

    def close(self) -> None:
        for app in self.apps:
            app.db.dispose()
        self.apps.clear()


def open_round(product: Product) -> int:
    from flows.services.opening import open_round as open_service

    return open_service(product.app(OPEN_NOW), product.corpus.round_file).parties


def invitation_addresses(app: App, round_id: str) -> int:
    from sqlalchemy import select

    from flows.adapters.db.tables import PartyRow

    with app.db.transaction() as session:
        rows = session.scalars(select(PartyRow).where(PartyRow.round_id == round_id, PartyRow.active))
        return sum(len(p.emails) for p in rows)


def invite(product: Product, detail: dict[str, Any]) -> int:
    """Invitations through SMTP to the sink; every party address must arrive exactly once."""
    from bench.smtp_sink import SmtpSink
    from flows.services.inviting import invite as invite_service

    with SmtpSink() as sink:
        app = product.app(OPEN_NOW, sink.port)
        summary = invite_service(app, product.corpus.round_id)
        received = sink.count
    expected = invitation_addresses(app, product.corpus.round_id)
    detail.update(expected=expected, received=received, queued=summary.queued, sent=summary.delivery.sent)
    if received != expected:
        msg = f"the SMTP sink received {received} invitations, expected {expected} (parties × addresses)"
        raise AssertionError(msg)
    return received


@dataclass
class IngestResult:
    fetched: int = 0
    stored: int = 0
    processed: int = 0
    quarantined: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    fetch_s: float = 0.0
    fetch_cpu_s: float = 0.0
    process_s: float = 0.0  # wall seconds inside process_batch


def ingest(product: Product, result: IngestResult, clock: Callable[[], float]) -> int:
    """Fetch everything into the raw store while processing the stored rows in ingest batches."""
    from flows.services.ingesting import process_batch
    from flows.services.overlap import fetch_and_process

    app = product.app(COLLECT_NOW)

    def process(ids: list[int]) -> None:
        began = clock()
        batch = process_batch(app, product.corpus.round_id, ids)
        result.process_s += clock() - began
        result.processed += batch.processed
        result.quarantined += batch.quarantined
        result.problems.extend(batch.problems[:5])
        for kind, n in batch.by_kind.items():
            result.by_kind[kind] = result.by_kind.get(kind, 0) + n

    report, _ = fetch_and_process(app, process, app.settings.ingest_batch)
    result.fetch_s, result.fetch_cpu_s = report.seconds, report.cpu_seconds
    result.fetched, result.stored = report.fetched, report.stored
    return report.fetched


def counted_texts(product: Product) -> dict[int, tuple[str | LazyText, str]]:
    """What the product groups: counted responses with remarks, by id, with the raw sha256.

    Columns only (ORM rows would keep every full body in the session: 8 GB at 1M), and the texts
    spilled to a file as the product's assembly does, so the bench's own copy is not counted
    as the product's memory.
    """
    from sqlalchemy import select

    from flows.adapters.db.responses import counted_clause
    from flows.adapters.db.tables import RawMessageRow, ResponseRow
    from flows.adapters.text_spill import TextSpill

    app = product.app(COLLECT_NOW)
    spill = TextSpill(product.data_dir / "tmp")
    query = (
        select(ResponseRow.id, ResponseRow.text, RawMessageRow.sha256)
        .outerjoin(RawMessageRow, RawMessageRow.id == ResponseRow.raw_message_id)
        .where(
            ResponseRow.round_id == product.corpus.round_id,
            counted_clause(),
            ResponseRow.no_remarks.is_(False),
        )
        .execution_options(yield_per=5_000)
    )
    with app.db.transaction() as session:
        return {rid: (spill.put(text), sha or "") for rid, text, sha in session.execute(query)}


def build_assembly(product: Product) -> Any:
    from flows.services.assembling import build_assembly as build

    return build(product.app(COLLECT_NOW), product.corpus.round_id)


def log_cells(assembly: Any) -> list[list[str]]:
    """The log's cells as text: the floor's input (converted before its clock starts)."""
    from flows.adapters.excel_log import log_rows

    return [["" if v is None else str(v) for v in row] for row in log_rows(assembly)]


def write_log(assembly: Any, path: Path) -> None:
    from flows.adapters.excel_log import write_log as write

    write(assembly, path)


def note_paragraphs(assembly: Any) -> list[str]:
    from flows.adapters.word_note import compose

    paras, _facts, _placeholders = compose(assembly)
    return ["".join(run.text for run in para.runs) for para in paras]


def write_note(product: Product, assembly: Any, path: Path) -> list[str]:
    from flows.adapters.word_note import write_note as write
    from flows.services.assembling import letterhead

    report = write(assembly, path, letterhead=letterhead(product.app(COLLECT_NOW)))
    return list(report.problems)


def floor_in_child(product: Product, kind: str, path: Path) -> Any:
    """The log's (``kind="log"``) or the note's floor, its input built in a spawned child process
    from the same database: the cells and paragraphs (a copy of every text at 1M) then never
    count in the product's peak memory, which this process measures."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        job = pool.submit(_floor_child, product.corpus, product.data_dir, product.database_url, kind, path)
        return job.result()


def _floor_child(corpus: CorpusInfo, data_dir: Path, database_url: str | None, kind: str, path: Path) -> Any:
    from bench import floors

    product = Product(corpus, data_dir, database_url)
    try:
        assembly = build_assembly(product)
        if kind == "log":
            return floors.excel_floor(log_cells(assembly), path)
        return floors.word_floor(note_paragraphs(assembly), path)
    finally:
        product.close()
