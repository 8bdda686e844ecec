"""The public version: the note and the bundle with personal data redacted, for publication.

``assemble`` calls three things here: ``absorb_public_edits`` before it rebuilds (what staff
wrote in ``Offentliggørelse`` is saved first, so it survives every rerun), ``prepare`` after the
Assembly is built (the redacted twin and the sheet's rows), and ``write_public`` after the
internal outputs are written. The public writers are the internal ones, given redacted inputs.

The gate refuses a public document that would still hold a CPR number or an e-mail address
that is not the administration's own (nor one staff chose to show): nothing public is written
then, and any earlier public version is removed so that a stale one is not published by mistake.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from flows.adapters.excel_public_sheet import Table, public_sheet, read_public_edits
from flows.adapters.line_spill import SpilledLines
from flows.adapters.pdf_bundle import remove_bundle, write_bundle
from flows.adapters.text_spill import TextSpill
from flows.adapters.word_note import write_note
from flows.bootstrap import App
from flows.core.assembly import Assembly
from flows.core.errors import PublicLeakError
from flows.core.model import Round
from flows.core.numbering import stored_number
from flows.core.outputs import output_paths
from flows.core.public_version import PublicVersion, gate, public_assembly
from flows.core.redaction import Own, Publish, Redactor, Term

log = logging.getLogger(__name__)
T = TypeVar("T")

PUBLIC_EDITION = " (offentlig version)"


def public_paths(out_dir: Path, round_id: str) -> tuple[Path, Path]:
    """Where the public note and the public bundle go (``flows.core.outputs`` names them).

    A round above one volume gets the bundle's volumes beside it instead (``write_bundle``).
    """
    outputs = output_paths(out_dir, round_id)
    return outputs.public_note, outputs.public_bundle


@dataclass
class Prepared:
    version: PublicVersion
    own: Own
    sheet: Table


def own_of(rnd: Round) -> Own:
    """The administration's own addresses and name, from the round."""
    return Own.of_round((rnd.reply_to, rnd.contact), (rnd.administration,))


def absorb_public_edits(app: App, round_id: str, log_path: Path) -> int:
    """Save what staff wrote in ``Offentliggørelse`` before the log is rewritten; the count."""
    with app.uow() as uow:
        added = {(d.place, d.found) for d in uow.publication.decisions(round_id) if d.added}
    decided, cleared = read_public_edits(log_path, added)
    with app.uow() as uow:
        uow.publication.save_decisions(round_id, decided, cleared, app.now())
    return len(decided)


def prepare(app: App, assembly: Assembly) -> Prepared:
    """The redacted twin of ``assembly`` and the rows of the sheet that record each redaction."""
    round_id = assembly.round.id
    # the repository knows the numbers ingest stored; the lines show 1, 2, 3 … in receipt order
    shown_of = {n: r.number for r in assembly.responses if (n := stored_number(r.reference)) is not None}
    with app.uow() as uow:
        decisions = uow.publication.decisions(round_id)
        senders = _shown(uow.publication.senders(round_id, shown_of), shown_of)
        persons = uow.publication.person_party_names(round_id)
        attachments = _shown(uow.publication.attachment_texts(round_id, shown_of), shown_of)
    own = own_of(assembly.round)
    added = [d for d in decisions if d.added]
    terms = [Term(d.found, d.replacement, d.reason, d.place) for d in added if d.decision is Publish.HIDE]
    shown = [(d.place, d.found) for d in decisions if d.decision is Publish.SHOW]
    redactor = Redactor(own, terms, shown)
    spill = TextSpill(app.settings.data_dir / "tmp")
    version = public_assembly(
        assembly, senders, persons, attachments, redactor, keep=spill.put, lines=lambda: SpilledLines(spill)
    )
    return Prepared(version, own, public_sheet(redactor.ledger.rows(), added))


def _shown(by_stored: Mapping[int, T], shown_of: Mapping[int, int]) -> dict[int, T]:
    """Keyed by the numbers the outputs show instead of the stored ones."""
    return {shown_of[stored]: value for stored, value in by_stored.items() if stored in shown_of}


def write_public(app: App, prepared: Prepared, out_dir: Path, letterhead: Path | None) -> tuple[Path, ...]:
    """Write the public note and bundle, or refuse (PublicLeakError) and remove stale ones.

    The files written: the note, then the bundle's one file or its volumes in order.
    """
    note_path, bundle_path = public_paths(out_dir, prepared.version.assembly.round.id)
    refusals = gate(prepared.version, prepared.own)
    if refusals:
        note_path.unlink(missing_ok=True)
        remove_bundle(bundle_path)  # every volume of it, too
        log.warning("public version refused: %d finds left (first in %s)", len(refusals), refusals[0].where)
        raise PublicLeakError(refusals[0].where, refusals[0].what, len(refusals) - 1)
    public = prepared.version.assembly
    write_note(public, note_path, letterhead=letterhead)
    bundle = write_bundle(
        public, bundle_path, attachment_texts=prepared.version.attachments, edition=PUBLIC_EDITION
    )
    return (note_path, *bundle)
