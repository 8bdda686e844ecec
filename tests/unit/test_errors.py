"""The one-line errors a case worker reads: what is wrong and what to do."""

from __future__ import annotations

from datetime import datetime

from flows.core.errors import InvitationsWaitingError, PublicLeakError


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


def test_the_public_gate_names_where_and_what_in_one_line() -> None:
    assert str(PublicLeakError("Høringssvar 3", "et CPR-nummer", 1)) == (
        "Den offentlige version er ikke skrevet: Høringssvar 3 indeholder stadig et CPR-nummer "
        "(og ét sted mere). Fjern »Vis« i loggens fane »Offentliggørelse«, eller ret teksten, "
        "og kør hoering assemble igen."
    )
    assert "(og 2 steder mere)" in str(PublicLeakError("Høringssvar 3", "et CPR-nummer", 2))
