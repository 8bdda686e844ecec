"""Every quote traceable: from the note's quote to the log row to the stored raw message.

``trace`` answers for one response (``ROUND_ID-NNNN``) or one remark (``N.M``);
``services.chain.attach_chain`` gives ``assemble`` each counted response's sha256 (the log's column) and the
links the quality gate checks (stored file there, bytes unchanged).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from flows.adapters.case_file import file_sha256
from flows.adapters.db.record import RawLink
from flows.bootstrap import App
from flows.core.assembly import Assembly
from flows.core.danish import short_datetime
from flows.core.errors import HoeringError
from flows.core.model import LatePolicy
from flows.core.quality import clean_text
from flows.services.assembling import build_assembly

QUOTE_CHARS = 300


class UnknownReferenceError(HoeringError):
    def __init__(self, round_id: str, reference: str) -> None:
        super().__init__(
            f"høringen {round_id!r} har intet høringssvar {reference!r} "
            f"(skriv fx {round_id}-0001 eller et bemærkningsnummer som 1.1)"
        )


@dataclass(frozen=True)
class Chain:
    """The chain behind one response or remark, as ``hoering trace`` prints it."""

    round_id: str
    reference: str
    number: int
    party: str
    note: str  # where the note quotes it, or why it does not
    quote: str
    log: str  # the log's sheet and row
    path: str | None
    sha256: str | None
    found_sha256: str | None
    received_at: str
    source: str  # IMAP UID, Maildir file, dropped file
    received_from: str | None
    matched_by: str

    @property
    def intact(self) -> bool:
        return self.sha256 is not None and self.sha256 == self.found_sha256


def trace(app: App, round_id: str, reference: str) -> Chain:
    wanted = reference.strip()
    with app.uow() as uow:
        rnd = uow.rounds.get(round_id)
        remark = uow.records.remark_of(round_id, wanted) if "-" not in wanted else None
        links = uow.records.raw_links(round_id)
    by_reference = {link.reference: link for link in links}
    link = by_reference.get(wanted)
    if link is None and remark is not None:
        link = next((x for x in links if x.number == remark[0]), None)
    if link is None:
        raise UnknownReferenceError(round_id, wanted)
    assembly = build_assembly(app, round_id)
    counted = [r.number for r in assembly.responses]
    quote = remark[1] if remark is not None else link.text
    if link.number not in counted:
        note = "Ikke i notatet: svaret er ikke talt med (se loggens ark »Til gennemsyn«)"
        log = _review_place(assembly, link.reference)
    else:
        response = assembly.responses[counted.index(link.number)]
        excluded = response.late and rnd.late_policy is LatePolicy.EXCLUDE
        section = "modtaget efter fristen" if response.late else f"Bemærkninger til {rnd.subject}"
        note = (
            'Ikke i notatet: for sent (late_policy = "exclude")'
            if excluded
            else f"Høringsnotatet, »{section}«: {response.party}"
        )
        log = f"Høringslog, ark »Høringssvar«, række {counted.index(link.number) + 2} (Nr. {link.number})"
        if remark is not None:
            rows = [m.number for m in assembly.remarks]
            if wanted in rows:
                log += f"; ark »Bemærkninger«, række {rows.index(wanted) + 2} (Nr. {wanted})"
    found = file_sha256(Path(link.path)) if link.path else None
    return Chain(
        round_id=round_id,
        reference=link.reference,
        number=link.number,
        party=clean_text(link.party or link.sender or "Ukendt afsender"),
        note=note,
        quote=_shorten(clean_text(quote)),
        log=log,
        path=link.path or None,
        sha256=link.sha256,
        found_sha256=found,
        received_at=short_datetime(link.received_at),
        source=_source(link),
        received_from=link.received_from,
        matched_by=_matched(link),
    )


def _review_place(assembly: Assembly, reference: str) -> str:
    rows = [v.reference for v in assembly.review]
    if reference in rows:
        return f"Høringslog, ark »Til gennemsyn«, række {rows.index(reference) + 2} ({reference})"
    return "Høringslog: ikke vist (sorteret fra som dublet, løkke eller afvist)"


def _shorten(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= QUOTE_CHARS else flat[: QUOTE_CHARS - 1] + "…"


def _source(link: RawLink) -> str:
    if link.raw_id is None:
        return "ingen råbesked (indtastet af en medarbejder)"
    if link.source == "imap":
        return f"IMAP-mappen {link.mailbox}, UIDVALIDITY {link.uidvalidity}, UID {link.uid}"
    if link.source == "maildir":
        return f"Maildir-filen {link.source_name}"
    return f"{link.source}: {link.source_name}"


def _matched(link: RawLink) -> str:
    if link.party is None:
        return "ikke genkendt som en høringspart"
    how = link.matched_by or "medarbejderens beslutning (Medtag)"
    return f"{link.party}, genkendt på {how}"


def chain_lines(chain: Chain) -> list[str]:
    """The text form of ``hoering trace``: Danish, Copenhagen time."""
    if chain.path is None:
        stored = (
            "Råbesked: ingen gemt fil"
            if chain.sha256 is None
            else "Råbesked: slettet (opbevaringsfristen udløb)"
        )
    else:
        stored = f"Råbesked: {chain.path}"
    if chain.sha256 is None:
        check = "SHA-256: ingen"
    elif chain.found_sha256 is None:
        check = f"SHA-256: {chain.sha256} (filen findes ikke)"
    else:
        check = (
            f"SHA-256: {chain.sha256} ({'passer' if chain.intact else 'PASSER IKKE: ' + chain.found_sha256})"
        )
    return [
        f"{chain.reference} – {chain.party}",
        f"Notat: {chain.note}",
        f"Citat: »{chain.quote}«" if chain.quote else "Citat: (teksten er slettet eller tom)",
        f"Log: {chain.log}",
        stored,
        check,
        f"Modtaget: {chain.received_at} (tidspunkt fra {chain.received_from or 'indtastning'})",
        f"Kilde: {chain.source}",
        f"Afsender: {chain.matched_by}",
    ]
