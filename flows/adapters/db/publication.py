"""The SQL of the public version: who wrote each response, the attachments' texts, and the
decisions staff made in the log's ``Offentliggørelse`` sheet.

``uow.publication`` (``SqlPublicationRepository``), so ``services.publishing`` builds no SQL and
never sees the tables.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Protocol

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from flows.adapters.db.tables import AttachmentRow, PartyRow, PublicationDecisionRow, ResponseRow
from flows.core.model import Kind
from flows.core.public_version import Sender
from flows.core.redaction import PublicDecision, Publish

CHUNK = 500


class PublicationRepository(Protocol):
    """What the public version needs: senders, attachments' texts, staff's decisions."""

    def senders(self, round_id: str, numbers: Iterable[int]) -> dict[int, Sender]:
        """For each response number: whether a private person wrote it, and the names they go by."""
        ...

    def person_party_names(self, round_id: str) -> list[str]:
        """The names of the round's active parties that are private persons, in the list's order."""
        ...

    def attachment_texts(self, round_id: str, numbers: Iterable[int]) -> dict[int, list[tuple[str, str]]]:
        """The extracted text of every attachment (not inline images) of the given responses."""
        ...

    def decisions(self, round_id: str) -> list[PublicDecision]:
        """Staff's decisions of the round, in the order first made."""
        ...

    def save_decisions(
        self,
        round_id: str,
        decided: Iterable[PublicDecision],
        cleared: Iterable[tuple[str, str]],
        now: datetime,
    ) -> None:
        """Store what staff wrote (one row per place and text) and forget the ``Vis`` taken back."""
        ...


class SqlPublicationRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def senders(self, round_id: str, numbers: Iterable[int]) -> dict[int, Sender]:
        """For each response number: whether a private person wrote it, and the names they go by.

        A party marked ``person`` is one; so is every sender who is not a party (the contract: a
        sender staff include without naming a party is a private person)."""
        wanted = sorted(set(numbers))
        found: dict[int, Sender] = {}
        organisations: dict[int, Sender] = {}
        for start in range(0, len(wanted), CHUNK):
            query = (
                select(
                    ResponseRow.number,
                    ResponseRow.party_id,
                    ResponseRow.sender,
                    ResponseRow.sender_display,
                    PartyRow.name,
                    PartyRow.person,
                )
                .outerjoin(PartyRow, PartyRow.id == ResponseRow.party_id)
                .where(
                    ResponseRow.round_id == round_id, ResponseRow.number.in_(wanted[start : start + CHUNK])
                )
            )
            for number, party_id, sender, display, party_name, person in self._session.execute(query):
                if party_id is None:
                    names = tuple(n for n in (display.strip(),) if n)
                    found[number] = Sender(f"sender:{sender.lower()}", True, names)
                elif not person:  # an organisation's many responses share one Sender
                    if party_id not in organisations:
                        organisations[party_id] = Sender(f"party:{party_id}", False, ())
                    found[number] = organisations[party_id]
                else:
                    names = tuple(dict.fromkeys(n for n in (party_name, display.strip()) if n))
                    found[number] = Sender(f"party:{party_id}", True, names)
        return found

    def person_party_names(self, round_id: str) -> list[str]:
        query = (
            select(PartyRow.name)
            .where(PartyRow.round_id == round_id, PartyRow.person.is_(True), PartyRow.active.is_(True))
            .order_by(PartyRow.position, PartyRow.id)
        )
        return list(self._session.scalars(query))

    def attachment_texts(self, round_id: str, numbers: Iterable[int]) -> dict[int, list[tuple[str, str]]]:
        """The extracted text of every attachment (not inline images) of the given responses."""
        wanted = sorted(set(numbers))
        texts: dict[int, list[tuple[str, str]]] = {}
        for start in range(0, len(wanted), CHUNK):
            query = (
                select(ResponseRow.number, AttachmentRow.display_name, AttachmentRow.text)
                .join(ResponseRow, ResponseRow.id == AttachmentRow.response_id)
                .where(
                    ResponseRow.round_id == round_id,
                    ResponseRow.kind == Kind.RESPONSE.value,
                    ResponseRow.number.in_(wanted[start : start + CHUNK]),
                    AttachmentRow.status != "inline",
                )
                .order_by(ResponseRow.number, AttachmentRow.id)
            )
            for number, name, text in self._session.execute(query):
                texts.setdefault(number, []).append((name, text or ""))
        return texts

    def decisions(self, round_id: str) -> list[PublicDecision]:
        query = (
            select(PublicationDecisionRow)
            .where(PublicationDecisionRow.round_id == round_id)
            .order_by(PublicationDecisionRow.id)
        )
        return [
            PublicDecision(r.place, r.found, Publish(r.decision), r.replacement, r.reason, r.added)
            for r in self._session.scalars(query)
        ]

    def save_decisions(
        self,
        round_id: str,
        decided: Iterable[PublicDecision],
        cleared: Iterable[tuple[str, str]],
        now: datetime,
    ) -> None:
        """Store what staff wrote (one row per place and text) and forget the ``Vis`` they took back."""
        for place, found in cleared:
            self._session.execute(
                delete(PublicationDecisionRow).where(
                    PublicationDecisionRow.round_id == round_id,
                    PublicationDecisionRow.place == place,
                    PublicationDecisionRow.found == found,
                    PublicationDecisionRow.added.is_(False),
                )
            )
        for d in decided:
            row = self._session.scalars(
                select(PublicationDecisionRow).where(
                    PublicationDecisionRow.round_id == round_id,
                    PublicationDecisionRow.place == d.place,
                    PublicationDecisionRow.found == d.found,
                )
            ).first() or PublicationDecisionRow(round_id=round_id, place=d.place, found=d.found)
            row.decision, row.replacement, row.reason = d.decision.value, d.replacement, d.reason
            row.added = row.added or d.added
            row.updated_at = now
            self._session.add(row)
