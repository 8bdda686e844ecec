"""Assembly objects built in code, for the log, note and bundle tests and the benchmarks."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flows.core.assembly import Assembly, PartyLine, RemarkLine, ResponseLine, ReviewLine, StaffNote
from flows.core.model import Channel, LatePolicy, PartyStatus, Round

CPH = ZoneInfo("Europe/Copenhagen")
OPENS = datetime(2025, 10, 16, 0, 0, tzinfo=CPH)
DEADLINE = datetime(2025, 10, 24, 23, 59, 59, tzinfo=CPH)

SAMPLE_TEXTS = {
    "SAND Hovedstaden": "jeg har en bemærkning. Brugerorganisationerne er en vigtig part i et samarbejde.",
    "Røde Kors Hovedstaden": "Her har I vores korte bemærkninger.\n\nDet er virkelig positivt, at der er "
    "igangsat en proces.",
    "WeShelter": "Tak for muligheden for at kommentere udkastet.",
    "Red Barnet Ungdom": "Tak for det fremragende og godt opsamlende materiale.",
    "Kirkens Korshær": "Blot stor ros herfra",
}


def make_round(*, late_policy: LatePolicy = LatePolicy.FLAG, round_id: str = "sof-partnerskab-2025") -> Round:
    """The reference note's round."""
    return Round(
        id=round_id,
        title="Ét SOF's strategi for partnerskabende samarbejde med civilsamfundet",
        subject="strategien",
        administration="Socialforvaltningen",
        consulted_body="medlemmerne i Frivillig- og Udsatterådet",
        opens=OPENS,
        deadline=DEADLINE,
        reply_to="hoering-sof@kk.example",
        documents=("udkast.pdf",),
        reminders=("3d", "1d"),
        late_policy=late_policy,
        source_dir=".",
    )


def response(
    number: int, party: str, text: str, *, late: bool = False, minutes: int | None = None, **extra: object
) -> ResponseLine:
    """A response received ``minutes`` after the round opened (default: one hour per number)."""
    received = OPENS + timedelta(minutes=60 * number if minutes is None else minutes)
    if late:
        received = DEADLINE + timedelta(hours=number)
    return ResponseLine(
        number=number,
        reference=f"HS-{number:05d}",
        party=party,
        sender=f"svar{number}@example.org",
        received_at=received,
        channel=Channel.EMAIL,
        late=late,
        subject=f"Høringssvar fra {party}",
        content=text,
        **extra,  # type: ignore[arg-type]
    )


def remark(
    response_line: ResponseLine,
    index: int = 1,
    *,
    text: str | None = None,
    section: str = "",
    proposal: str = "",
) -> RemarkLine:
    """Remark ``index`` of a response; its number is "N.I" and the text defaults to the response's."""
    return RemarkLine(
        number=f"{response_line.number}.{index}",
        response_number=response_line.number,
        party=response_line.party,
        section=section,
        content=response_line.text if text is None else text,
        proposal=proposal,
        late=response_line.late,
    )


def party(
    name: str, status: PartyStatus = PartyStatus.ANSWERED, responses: int = 1, latest: datetime | None = None
) -> PartyLine:
    """An invited party with a status."""
    return PartyLine(
        name=name,
        emails=(f"{name.split()[0].lower()}@example.org",),
        invited_at=OPENS + timedelta(hours=1),
        status=status,
        responses=responses,
        latest=latest,
    )


def make_assembly(
    n_responses: int = 5,
    *,
    late: int = 0,
    silent: int = 1,
    review: int = 1,
    late_policy: LatePolicy = LatePolicy.FLAG,
    notes: dict[str, StaffNote] | None = None,
) -> Assembly:
    """A round like the reference: ``n_responses`` on-time responses, some late, some silent parties."""
    names = list(SAMPLE_TEXTS)
    responses: list[ResponseLine] = []
    for i in range(1, n_responses + 1):
        name = names[i - 1] if i <= len(names) else f"Forening nr. {i}"
        responses.append(response(i, name, SAMPLE_TEXTS.get(name, f"Bemærkning {i} fra {name}.")))
    for j in range(1, late + 1):
        number = n_responses + j
        responses.append(response(number, f"Sen forening {j}", f"Vi kommer lidt for sent, {j}.", late=True))
    remarks = [remark(r) for r in responses]
    parties = [party(r.party, latest=r.received_at) for r in responses]
    parties += [party(f"Tavs forening {k}", PartyStatus.NOT_ANSWERED, 0) for k in range(1, silent + 1)]
    reviews = [
        ReviewLine(
            reference=f"GS-{k:04d}",
            received_at=OPENS + timedelta(days=1, hours=k),
            sender=f"ukendt{k}@example.net",
            subject="Høringssvar",
            reason="Ukendt afsender",
        )
        for k in range(1, review + 1)
    ]
    return Assembly(
        round=make_round(late_policy=late_policy),
        generated_at=DEADLINE + timedelta(days=1),
        parties=parties,
        responses=responses,
        remarks=remarks,
        review=reviews,
        notes=dict(notes or {}),
    )


_WORDS = (
    "borgerne",
    "forvaltningen",
    "udkastet",
    "partnerskab",
    "civilsamfundet",
    "frivillige",
    "æblerne",
    "økonomi",
    "årsplan",
    "samarbejde",
    "ressourcer",
    "strategien",
    "målgruppen",
    "indsatsen",
)


def _danish_text(seed: int, chars: int) -> str:
    words: list[str] = []
    size = 0
    k = seed
    while size < chars:
        k = (k * 1103515245 + 12345) % 2**31
        word = _WORDS[k % len(_WORDS)]
        words.append(word)
        size += len(word) + 1
    return " ".join(words).capitalize() + "."


def make_big_assembly(
    remarks: int,
    *,
    per_response: int = 5,
    campaigns: int = 0,
    campaign_share: float = 0.0,
) -> Assembly:
    """A large round for benchmarks: ``remarks`` remarks of ~300 characters, ``per_response`` per response.

    With ``campaigns`` > 0, ``campaign_share`` of the responses are copies of that many campaign texts.
    """
    n_responses = max(1, remarks // per_response)
    n_campaign = int(n_responses * campaign_share)
    responses: list[ResponseLine] = []
    for i in range(1, n_responses + 1):
        name = f"Borger {i:06d}"
        if campaigns and i <= n_campaign:
            key = f"kampagne-{i % campaigns}"
            responses.append(response(i, name, _danish_text(i % campaigns, 450), minutes=i, campaign=key))
        else:
            responses.append(response(i, name, _danish_text(i, 450), minutes=i))
    lines: list[RemarkLine] = []
    for r in responses:
        for j in range(1, per_response + 1):
            lines.append(
                remark(
                    r,
                    j,
                    text=_danish_text(r.number * 7 + j, 300),
                    section=f"Afsnit {j}",
                    proposal=_danish_text(r.number * 11 + j, 200),
                )
            )
            if len(lines) == remarks:
                break
    parties = [party(r.party, latest=r.received_at) for r in responses[:2000]]
    notes = {
        m.number: StaffNote(reply="Forvaltningen tager bemærkningen til efterretning.") for m in lines[::3]
    }
    return Assembly(
        round=make_round(),
        generated_at=DEADLINE,
        parties=parties,
        responses=responses,
        remarks=lines,
        review=[],
        notes=notes,
    )
