"""The case file for the records system (ESDH): every document received and sent, with a manifest.

``DIR/ROUND_ID-sagsakt/`` and ``DIR/ROUND_ID-sagsakt.zip``: the note and the log (as the last
``assemble`` wrote them), each received message as its original ``.eml`` with a PDF rendition
and its attachments beside it, each message sent, ``manifest.json``/``manifest.csv`` and
``SHA256SUMS``. Written in a staging folder first and moved into place, so a reader never sees
half a case file. Nothing in it depends on when it was exported: an unchanged round gives the
same manifest and the same zip, byte for byte.
"""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from pathlib import Path

from flows.adapters import case_file
from flows.adapters.case_file import Document, file_sha256, safe_name
from flows.adapters.db.record import AttachmentFile, RawLink, SentMessage
from flows.adapters.message_pdf import MessageView, read_headers, write_message_pdf
from flows.adapters.pdf_bundle import bundle_files
from flows.bootstrap import App
from flows.core.danish import local, short_datetime
from flows.core.errors import HoeringError
from flows.core.model import Kind, OutboxPurpose, Round
from flows.core.outputs import bundle_labels, output_paths
from flows.core.quality import clean_text
from flows.core.retention import RecordEvent
from flows.services.outbox import render
from flows.services.purging import ensure_not_purged

IN, OUT, INTERNAL = "Indgående", "Udgående", "Internt"
MAIN, ATTACHMENT, RENDITION = "Hoveddokument", "Bilag", "Gengivelse"
SENT_TITLES = {
    OutboxPurpose.INVITATION: "Høringsbrev",
    OutboxPurpose.REMINDER: "Påmindelse",
    OutboxPurpose.RECEIPT: "Kvittering for høringssvar",
    OutboxPurpose.EXTENSION: "Ny frist",
    OutboxPurpose.TEMPLATE_REJECTED: "Høringsskema kunne ikke læses",
    OutboxPurpose.FAILURE_ALERT: "Driftsbesked",
}
EML, PDF = "message/rfc822", "application/pdf"


class NothingAssembledError(HoeringError):
    def __init__(self, round_id: str) -> None:
        super().__init__(f"høringslog og notat findes ikke: kør 'hoering assemble {round_id}' først")


@dataclass(frozen=True)
class ExportReport:
    folder: Path
    zip: Path
    documents: int
    manifest_sha256: str


def export(app: App, round_id: str, out_dir: Path | None = None) -> ExportReport:
    ensure_not_purged(app, round_id)
    out_dir = out_dir or app.settings.out_dir(round_id)
    with app.uow() as uow:
        rnd = uow.rounds.get(round_id)
        assembled = uow.records.latest_event(round_id, "assemble", "written")
        links = [x for x in uow.records.raw_links(round_id) if x.kind != Kind.LOOP.value]
        attachments = uow.records.attachments_of([x.response_id for x in links])
        sent = uow.records.sent_messages(round_id)
    internal = _internal_files(round_id, assembled)
    out_dir.mkdir(parents=True, exist_ok=True)
    folder = out_dir / f"{round_id}-sagsakt"
    staging = Path(tempfile.mkdtemp(prefix=f".{round_id}-sagsakt-", dir=out_dir))
    documents: list[Document] = []
    stamp = _stamp(rnd)
    for title, path, when in internal:
        documents.append(_place(staging, path.name, path.read_bytes(), stamp(title, INTERNAL, when, "")))
    by_response: dict[int, list[AttachmentFile]] = {}
    for item in attachments:
        if item.status != "inline" and item.path:
            by_response.setdefault(item.response_id, []).append(item)
    for link in links:
        documents += _received(staging, link, by_response.get(link.response_id, []), stamp)
    for n, message in enumerate(sent, start=1):
        documents.append(_sent(app, staging, n, message, stamp))
    info = {"round": rnd.id, "title": clean_text(rnd.title), "kle": rnd.kle, "facet": rnd.facet}
    case_file.write_manifest(staging, info, documents)
    case_file.write_sha256sums(staging)
    staging.chmod(0o755)
    case_file.replace_folder(staging, folder)
    zip_path = out_dir / f"{round_id}-sagsakt.zip"
    case_file.write_zip(folder, zip_path)
    manifest_sha = file_sha256(folder / "manifest.json") or ""
    with app.uow() as uow:
        uow.events.add(
            round_id,
            "export",
            RecordEvent.EXPORTED.value,
            recorded_at=max(datetime.now(UTC), app.now()),  # the real moment: purge compares it with changes
            folder=str(folder),
            zip=str(zip_path),
            documents=len(documents),
            manifest_sha256=manifest_sha,
        )
    return ExportReport(folder, zip_path, len(documents), manifest_sha)


def _internal_files(
    round_id: str, assembled: tuple[datetime, dict[str, object]] | None
) -> list[tuple[str, Path, datetime]]:
    if assembled is None:
        raise NothingAssembledError(round_id)
    when, detail = assembled
    note = Path(str(detail.get("note", "")))
    outputs = output_paths(note.parent, round_id)
    log_path, note_path, bundle_path = outputs.log, outputs.note, outputs.bundle
    if not (log_path.is_file() and note_path.is_file()):
        raise NothingAssembledError(round_id)
    files = [("Høringsnotat (udkast)", note_path, when), ("Høringslog", log_path, when)]
    volumes = bundle_files(bundle_path)  # the one PDF, or every volume in order
    files += [(title, path, when) for title, path in bundle_labels("Samlede høringssvar", volumes).items()]
    return files


class _Stamp:
    """The manifest fields every document of the round shares (KLE number and facet)."""

    def __init__(self, rnd: Round) -> None:
        self.kle, self.facet = rnd.kle or "", rnd.facet or ""

    def __call__(
        self, title: str, direction: str, when: datetime, party: str, role: str = MAIN, of: str = ""
    ) -> dict[str, str]:
        return {
            "title": clean_text(title),
            "direction": direction,
            "date": local(when).isoformat(timespec="seconds"),
            "party": clean_text(party),
            "role": role,
            "attachment_of": of,
            "kle": self.kle,
            "facet": self.facet,
        }


def _stamp(rnd: Round) -> _Stamp:
    return _Stamp(rnd)


def _place(folder: Path, name: str, data: bytes, fields: dict[str, str], media_type: str = "") -> Document:
    case_file.write_bytes(folder / name, data)
    return Document(
        file=name,
        media_type=media_type or _media_type(name),
        sha256=hashlib.sha256(data).hexdigest(),
        **fields,
    )


def _media_type(name: str) -> str:
    suffix = name.rsplit(".", 1)[-1].lower()
    return {
        "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "pdf": PDF,
        "eml": EML,
    }.get(suffix, "application/octet-stream")


def _received(
    folder: Path, link: RawLink, attachments: list[AttachmentFile], stamp: _Stamp
) -> list[Document]:
    if not link.path:
        return []
    base = f"indgaaende/{safe_name(link.reference, f'svar-{link.number:04d}')}"
    party = link.party or link.sender
    title = f"Høringssvar fra {party}" if link.kind == Kind.RESPONSE.value else f"Modtaget: {link.subject}"
    data = Path(link.path).read_bytes()
    eml = f"{base}/{base.rsplit('/', 1)[-1]}.eml"
    documents = [_place(folder, eml, data, stamp(title, IN, link.received_at, party), EML)]
    names = [clean_text(a.display_name) for a in attachments]
    view = MessageView(
        title=clean_text(title),
        headers=read_headers(data),
        received=short_datetime(link.received_at),
        body=clean_text(link.full_text or link.text),
        attachments=tuple(names),
    )
    pdf_name = eml.removesuffix(".eml") + ".pdf"
    write_message_pdf(view, folder / pdf_name, link.received_at)
    pdf_bytes = (folder / pdf_name).read_bytes()
    fields = stamp(f"{title} (PDF)", IN, link.received_at, party, RENDITION, eml)
    documents.append(
        Document(file=pdf_name, media_type=PDF, sha256=hashlib.sha256(pdf_bytes).hexdigest(), **fields)
    )
    for i, item in enumerate(attachments, start=1):
        name = f"{base}/bilag-{i:02d}-{safe_name(item.display_name, 'bilag')}"
        fields = stamp(names[i - 1] or f"Bilag {i}", IN, link.received_at, party, ATTACHMENT, eml)
        assert item.path is not None
        documents.append(_place(folder, name, Path(item.path).read_bytes(), fields, item.content_type))
    return documents


def _sent(app: App, folder: Path, n: int, message: SentMessage, stamp: _Stamp) -> Document:
    purpose = OutboxPurpose(message.purpose)
    name = f"udgaaende/{n:04d}-{purpose.value}.eml"
    location = Path(message.location) if message.location else None
    if location is not None and location.is_file():
        data = location.read_bytes()  # the very file the embedded outbox wrote
    else:
        data = _render_again(app, message)
    party = message.party or message.address
    title = f"{SENT_TITLES.get(purpose, purpose.value)} til {party}"
    return _place(folder, name, data, stamp(title, OUT, message.sent_at, party), EML)


def _render_again(app: App, message: SentMessage) -> bytes:
    """A message sent by SMTP, composed again from its row: same Message-ID, text and attachments.

    Its Date is the time it was sent and its MIME boundaries derive from the Message-ID, so the
    bytes are the same on every export.
    """
    with app.uow() as uow:
        stored = uow.outbox.get(message.id)
        assert stored is not None  # listed by sent_messages in this round a moment ago
        composed: EmailMessage = render(app, stored, uow.rounds.get(stored.round_id))
    del composed["Date"]
    composed["Date"] = format_datetime(message.sent_at.astimezone(UTC), usegmt=True)
    seed = hashlib.sha256(message.message_id.encode()).hexdigest()
    for i, part in enumerate(composed.walk()):
        if part.is_multipart():
            part.set_boundary(f"=_hoering_{seed[:24]}_{i}")
    return composed.as_bytes(policy=SMTP)
