"""The one-line errors a case worker reads: what is wrong and what to do."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError, OperationalError

from flows.adapters.imap_source import MailAuthError, MailServerError
from flows.adapters.oauth import TokenEndpointUnreachable
from flows.adapters.secrets import SecretBlockUnreachable
from flows.core.errors import (
    DeadlineNotPassedError,
    HoeringError,
    InvitationsWaitingError,
    OpenRefusedError,
    PublicLeakError,
    RoundFileError,
    TransientError,
)
from flows.runtime import is_transient
from flows.services import closing, opening


def test_waiting_invitations_name_the_copenhagen_minute_a_rerun_sends_them() -> None:
    """The retry time in Danish, Copenhagen time (winter time after 26 October), rounded up to the minute."""
    error = InvitationsWaitingError(
        10, 0, datetime.fromisoformat("2025-10-26T01:30:20+00:00"), unreached=True
    )
    assert str(error) == (
        "10 invitationer venter på at blive sendt, fordi mailserveren ikke kunne nås (0 sendt). "
        "Kør hoering invite igen fra søndag den 26. oktober 2025 kl. 02.31, så sendes de."
    )


def test_one_invitation_refused_for_now_and_due_at_once() -> None:
    """Singular, a 4xx reason, and no time when a rerun may send it straight away."""
    error = InvitationsWaitingError(1, 4, None, unreached=False)
    assert str(error) == (
        "1 invitation venter på at blive sendt, fordi mailserveren bad om at prøve igen senere (4 sendt). "
        "Kør hoering invite igen, så sendes den."
    )


def test_retry_is_decided_by_class_never_by_a_class_name() -> None:
    """hoering's transient errors are retried as ``TransientError``s; a stranger's class that merely
    bears the name of one (the old rule matched ``MailServerError``/``OperationalError`` by name) is not."""
    lookalikes = [type(name, (Exception,), {})("x") for name in ("MailServerError", "OperationalError")]

    assert [is_transient(exc) for exc in lookalikes] == [False, False]
    assert is_transient(TransientError("the server did not answer"))


def test_the_adapters_transient_errors_are_transient_errors() -> None:
    """A mail server, token endpoint or Prefect API that does not answer is worth a retry, by its base."""
    for cls in (MailServerError, TokenEndpointUnreachable, SecretBlockUnreachable):
        assert issubclass(cls, TransientError), cls
        assert is_transient(cls("x")), cls
    assert issubclass(TokenEndpointUnreachable, ConnectionError)  # callers catching OSError still do


def test_a_locked_database_is_retried_a_broken_statement_is_not() -> None:
    """SQLAlchemy's OperationalError (locked, unreachable) is transient; an IntegrityError is a bug."""
    locked = OperationalError("INSERT …", {}, Exception("database is locked"))
    duplicate = IntegrityError("INSERT …", {}, Exception("UNIQUE constraint failed"))

    assert is_transient(locked)
    assert not is_transient(duplicate)


def test_what_a_person_must_fix_is_never_retried() -> None:
    """A refused login is a MailSourceError and a HoeringError: its line is shown, no retry."""
    assert not is_transient(MailAuthError("login refused"))
    assert not is_transient(RoundFileError("runde.toml", ["deadline mangler"]))


def test_the_errors_services_raise_live_in_the_core() -> None:
    """``open`` and ``close`` raise the core's classes (one home for error types), HoeringErrors both."""
    assert closing.DeadlineNotPassedError is DeadlineNotPassedError
    assert opening.OpenRefusedError is OpenRefusedError
    error = DeadlineNotPassedError("sof-2025", datetime.fromisoformat("2025-10-24T23:59:00+02:00"))
    assert isinstance(error, HoeringError)
    assert str(error) == "fristen for sof-2025 er ikke udløbet endnu (fredag den 24. oktober 2025 kl. 23.59)"


def test_the_public_gate_names_where_and_what_in_one_line() -> None:
    assert str(PublicLeakError("Høringssvar 3", "et CPR-nummer", 1)) == (
        "Den offentlige version er ikke skrevet: Høringssvar 3 indeholder stadig et CPR-nummer "
        "(og ét sted mere). Fjern »Vis« i loggens fane »Offentliggørelse«, eller ret teksten, "
        "og kør hoering assemble igen."
    )
    assert "(og 2 steder mere)" in str(PublicLeakError("Høringssvar 3", "et CPR-nummer", 2))
