"""Errors that say whose fault it is and carry the facts.

``HoeringError`` messages are what the command line prints as its one line, so they are
written for a case worker (in Danish where a case worker reads them).
"""

from __future__ import annotations


class HoeringError(Exception):
    """Something the user can act on; printed without a traceback."""


class RoundFileError(HoeringError):
    """A round file or party list that cannot be used; nothing was changed."""

    def __init__(self, path: str, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        super().__init__(f"{path}: " + "; ".join(problems))


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
