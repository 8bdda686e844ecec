"""Errors that say whose fault it is and carry the facts.

``HoeringError`` messages are what the command line prints as its one line, so they are
written for a case worker (in Danish where a case worker reads them).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import ClassVar

from flows.core.danish import deadline_text, short_datetime


class HoeringError(Exception):
    """Something the user can act on; printed without a traceback."""


class TransientError(Exception):
    """Trouble that may pass by itself (a server that did not answer): worth a retry.

    Retries are decided by ``isinstance`` against this class (``flows.runtime``), never by a
    class's name. It is never also a ``HoeringError``: what a person must fix is not retried.
    """


class CollectRunningError(HoeringError):
    """Another collect holds the lease: nothing was fetched or processed by this run.

    The CLI prints the line and exits 75 (EX_TEMPFAIL): the next collect does the work."""

    def __init__(self, round_id: str | None, acquired_at: datetime) -> None:
        self.round_id, self.acquired_at = round_id, acquired_at
        where = f" for høringen {round_id}" if round_id else ""
        super().__init__(
            f"en anden indsamling kører allerede{where} (startet {short_datetime(acquired_at)}); "
            "denne kørsel gjorde intet, og næste indsamling henter posten"
        )


class RoundFileError(HoeringError):
    """A round file or party list that cannot be used; nothing was changed."""

    def __init__(self, path: str, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        super().__init__(f"{path}: " + "; ".join(problems))


class OpenRefusedError(HoeringError):
    """A valid round file that ``open`` will not apply without ``--force``; nothing was changed."""


class DeadlineNotPassedError(HoeringError):
    """``close`` before the round's deadline: nothing was closed."""

    def __init__(self, round_id: str, deadline: datetime) -> None:
        super().__init__(f"fristen for {round_id} er ikke udløbet endnu ({deadline_text(deadline)})")


class UnknownRoundError(HoeringError):
    def __init__(self, round_id: str) -> None:
        self.round_id = round_id
        super().__init__(f"ukendt høring: {round_id!r} (kør 'hoering open' først)")


class UnknownPartyError(HoeringError):
    def __init__(self, round_id: str, party: str) -> None:
        self.round_id, self.party = round_id, party
        super().__init__(f"høringen {round_id!r} har ingen høringspart {party!r}")


class LogEditConflictError(HoeringError):
    """Staff edits in the log cannot be matched to remarks; nothing is written."""

    def __init__(self, path: str, problems: list[str]) -> None:
        self.path, self.problems = path, problems
        super().__init__(
            f"{path} er ændret, så rettelserne ikke kan genkendes ("
            + "; ".join(problems[:5])
            + "). Intet er skrevet; ret loggen eller flyt den væk og kør igen."
        )


class InvitationsWaitingError(HoeringError):
    """Invitations (reminders, final notes) left in the outbox for a retry: the run did not do
    its whole job."""

    WORDS: ClassVar[dict[str, tuple[str, str]]] = {
        "invite": ("invitation", "invitationer"),
        "remind": ("påmindelse", "påmindelser"),
        "conclude": ("mail med høringsnotatet", "mails med høringsnotatet"),
    }

    def __init__(
        self, waiting: int, sent: int, retry_at: datetime | None, *, unreached: bool, command: str = "invite"
    ) -> None:
        self.waiting, self.sent, self.retry_at = waiting, sent, retry_at
        one, many = self.WORDS[command]
        what, them = (f"{one} venter", "den") if waiting == 1 else (f"{many} venter", "de")
        why = "mailserveren ikke kunne nås" if unreached else "mailserveren bad om at prøve igen senere"
        # rounded up to the minute shown: a rerun at the minute named must find them due
        when = "" if retry_at is None else f" fra {deadline_text(_next_minute(retry_at))}"
        super().__init__(
            f"{waiting} {what} på at blive sendt, fordi {why} ({sent} sendt). "
            f"Kør hoering {command} igen{when}, så sendes {them}."
        )


def _next_minute(moment: datetime) -> datetime:
    whole = moment.replace(second=0, microsecond=0)
    return whole if whole == moment else whole + timedelta(minutes=1)


class DraftUnavailableError(HoeringError):
    """A document of the round is gone, or is no longer a regular file, at send time."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(
            f"Udkastet {name!r} kan ikke vedhæftes: filen findes ikke længere, eller den er skiftet ud "
            "med et link eller en mappe. Intet er sendt; læg filen tilbage og kør hoering open og "
            "derefter kommandoen igen."
        )


class PublicLeakError(HoeringError):
    """The public gate found what may never be published; no public document was written."""

    def __init__(self, where: str, what: str, more: int = 0) -> None:
        self.where, self.what, self.more = where, what, more
        others = "" if not more else (" (og ét sted mere)" if more == 1 else f" (og {more} steder mere)")
        super().__init__(
            f"Den offentlige version er ikke skrevet: {where} indeholder stadig {what}{others}. "
            "Fjern »Vis« i loggens fane »Offentliggørelse«, eller ret teksten, og kør hoering assemble igen."
        )


class ConclusionDocumentError(HoeringError):
    """The final note given to ``hoering conclude`` cannot be read as a regular file."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(
            f"Høringsnotatet {name!r} kan ikke vedhæftes: filen findes ikke, er tom eller er ikke en "
            "almindelig fil. Intet er sendt."
        )


class RoundNotClosedError(HoeringError):
    """``hoering conclude`` before the round is closed: the note cannot be final yet."""

    def __init__(self, round_id: str) -> None:
        self.round_id = round_id
        super().__init__(
            f"Høringen {round_id} er ikke lukket endnu, så notatet kan ikke være det endelige: "
            f"kør 'hoering close {round_id}' først. Intet er sendt."
        )
