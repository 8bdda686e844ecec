"""The høringsnotat: a Word document in the structure of a real Danish note, written from an Assembly.

The note is composed as a stream of plain ``Para`` blocks (the quality gate checks the facts
gathered on the way, so it judges exactly what is written). Each block is rendered to
WordprocessingML as it comes (``word_docx``) and spilled to a temporary file; python-docx writes the document
around a marker paragraph, and the body is streamed into ``word/document.xml`` in its place.
The note of a national round (millions of paragraphs) therefore never exists in memory as
paragraphs, one XML string or an lxml tree, each of which costs gigabytes at 1,000,000 responses;
and python-docx's ``add_paragraph``, which slows down with every paragraph already there, is not
used for the body at all.

The base document is ``letterhead`` when given (its header, footer and styles are kept and the
note is appended), otherwise python-docx's default template. Wording lives in config/note_da.toml.
"""

from __future__ import annotations

import re
import tempfile
import tomllib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from string import Template

import docx

from flows.adapters.files import write_atomically
from flows.adapters.word_docx import (
    HEADING1,
    HEADING2,
    QUOTE,
    SUBTITLE,
    TITLE,
    Para,
    Run,
    ensure_styles,
    page_numbers,
    para_xml,
    save_with_body,
    set_language,
)
from flows.adapters.word_note_sections import compose_by_section, compose_changes_by_section
from flows.core.assembly import Assembly, PartyLine, RemarkLine, RemarksOf, ResponseLine, StaffNote
from flows.core.danish import (
    count_phrase,
    danish_key,
    deadline_text,
    period_text,
    responses_phrase,
    short_datetime,
)
from flows.core.model import LatePolicy, NoteLayout, PartyStatus
from flows.core.quality import NoteFacts, QualityReport, Quotes, check_note, clean_text
from flows.resources import required


@cache
def phrases() -> dict[str, dict[str, str]]:
    """The Danish wording, from the TOML template."""
    with required("config/note_da.toml").open("rb") as fh:
        data: dict[str, dict[str, str]] = tomllib.load(fh)
    return data


def _say(group: str, key: str, **values: object) -> str:
    return Template(phrases()[group][key]).substitute({k: str(v) for k, v in values.items()})


@dataclass
class _Compose:
    """Hands the note's paragraphs to ``emit`` in order and collects the facts the gate checks."""

    emit: Callable[[Para], None]
    quoted: Quotes = field(default_factory=Quotes)
    covered: set[int] = field(default_factory=set)
    listed: list[str] = field(default_factory=list)
    count_sentence: str = ""
    counted: int = 0
    placeholders: int = 0
    remarks_shown: list[str] = field(default_factory=list)  # by section: each remark once (the gate)

    def add(self, text: str, style: str | None = None, *, bold: bool = False) -> None:
        self.emit(Para.of(text, style, bold=bold))

    def heading(self, text: str, level: int = 1) -> None:
        self.add(text, HEADING1 if level == 1 else HEADING2)

    def quote(self, number: int, text: str) -> None:
        """The text verbatim between Danish quotation marks, one paragraph per paragraph of the text."""
        clean = clean_text(text).strip()
        self.quoted.add(number, clean)
        blocks = [b.strip("\n") for b in clean.replace("\r\n", "\n").split("\n\n")]
        blocks = [unwrap(b) for b in blocks if b.strip()] or [""]
        blocks[0], blocks[-1] = "”" + blocks[0], blocks[-1] + "”"
        if len(blocks) == 1:
            blocks = ["”" + unwrap(clean) + "”"]
        for block in blocks:
            self.emit(Para([Run(block)], QUOTE))

    def reply(self, note: StaffNote | None) -> None:
        """The staff reply from the log (or the standard phrase marked for review), then the change."""
        if note is not None and note.reply.strip():
            for line in clean_text(note.reply).strip().split("\n"):
                if line.strip():
                    self.add(line.strip())
        else:
            self.placeholders += 1
            self.emit(
                Para(
                    [
                        Run(_say("text", "placeholder_mark") + " ", bold=True, highlight=True),
                        Run(_say("text", "standard_reply"), highlight=True),
                    ]
                )
            )
        if note is not None and note.change.strip() and note.changes_draft:
            self.add(_say("text", "change_with_remark", change=unwrap(clean_text(note.change).strip())))


# --------------------------------------------------------------------------------------- composing


def compose(assembly: Assembly) -> tuple[list[Para], NoteFacts, int]:
    """The note's paragraphs, the facts for the quality gate, and the number of placeholders."""
    paras: list[Para] = []
    facts, placeholders = compose_into(assembly, paras.append)
    return paras, facts, placeholders


def compose_into(assembly: Assembly, emit: Callable[[Para], None]) -> tuple[NoteFacts, int]:
    """Hand the note's paragraphs to ``emit`` in order; return the gate's facts and the placeholders."""
    c = _Compose(emit)
    rnd = assembly.round
    c.add(_say("headings", "title"), TITLE)
    c.add(clean_text(rnd.title), SUBTITLE)
    _parties_section(c, assembly)
    _received_section(c, assembly)
    c.heading(_say("headings", "remarks", subject=rnd.subject))
    if not assembly.on_time:
        c.add(_say("text", "remarks_none"))
    by_section = rnd.note_layout is NoteLayout.BY_SECTION and bool(assembly.sections)
    if by_section:  # the draft's own sections in order (word_note_sections)
        compose_by_section(c, assembly, _say)
        compose_changes_by_section(c, assembly, _say)
    else:
        _responses(c, assembly, assembly.on_time)
    if rnd.late_policy is LatePolicy.FLAG and assembly.late:
        _late_section(c, assembly)
    _silent_section(c, assembly.parties)
    if not by_section:
        _changes_section(c, assembly)
    facts = NoteFacts(
        count_sentence=c.count_sentence,
        counted=c.counted,
        listed=tuple(c.listed),
        quoted=c.quoted,
        covered=frozenset(c.covered),
        remarks_shown=tuple(c.remarks_shown) if by_section else None,
    )
    return facts, c.placeholders


def _parties_section(c: _Compose, assembly: Assembly) -> None:
    rnd = assembly.round
    c.heading(_say("headings", "parties"))
    c.add(_say("text", "sent_to", title=clean_text(rnd.title), consulted_body=clean_text(rnd.consulted_body)))
    if assembly.parties:
        c.add(_say("text", "sent_to_list"))
        for p in sorted(assembly.parties, key=lambda p: danish_key(p.name)):
            c.add(clean_text(p.name))


def _received_section(c: _Compose, assembly: Assembly) -> None:
    rnd = assembly.round
    on_time = assembly.on_time
    c.heading(_say("headings", "received"))
    c.add(_say("text", "period", period=period_text(rnd.opens, rnd.deadline)))
    c.counted = len(on_time)
    if not on_time:
        # the same count phrase as any other round ("ingen skriftlige høringssvar"), which the gate checks
        c.count_sentence = _say("text", "received_none", count=responses_phrase(0))
        c.add(c.count_sentence)
        return
    c.count_sentence = _say("text", "received", count=responses_phrase(len(on_time)))
    c.add(c.count_sentence)
    c.listed = list(dict.fromkeys(r.party for r in on_time))
    for number, name in enumerate(c.listed, start=1):
        c.add(_say("text", "list_item", number=number, party=clean_text(name)))


def _responses(
    c: _Compose, assembly: Assembly, responses: Iterable[ResponseLine], *, late: bool = False
) -> None:
    """Each response in order of receipt; a campaign is quoted once, where its first copy arrived."""
    remarks = RemarksOf(assembly.remarks)
    groups = _campaign_groups(responses)
    for r in responses:
        if r.campaign is not None:
            group = groups[r.campaign]
            if group.first == r.number:
                _campaign(c, assembly, r, group, remarks.of(r.number))
            continue
        c.covered.add(r.number)
        label = (
            _say("text", "late_label", party=clean_text(r.party), received=short_datetime(r.received_at))
            if late
            else _say("text", "party_label", party=clean_text(r.party))
        )
        c.heading(label, 2)
        if r.no_remarks:
            c.add(_say("text", "no_remarks", party=clean_text(r.party)))
            continue
        _body(c, assembly, r, remarks.of(r.number))


@dataclass
class _Campaign:
    """What the note shows of a campaign's copies: who sent them and their numbers, not the lines."""

    first: int
    numbers: list[int] = field(default_factory=list)
    parties: list[str] = field(default_factory=list)


def _campaign_groups(responses: Iterable[ResponseLine]) -> dict[str, _Campaign]:
    groups: dict[str, _Campaign] = {}
    for r in responses:
        if r.campaign is not None:
            group = groups.setdefault(r.campaign, _Campaign(r.number))
            group.numbers.append(r.number)
            group.parties.append(r.party)
    return groups


def _body(c: _Compose, assembly: Assembly, r: ResponseLine, remarks: Sequence[RemarkLine]) -> None:
    """One remark: the text and its reply. Several (an Excel template): each with section and reply."""
    if len(remarks) <= 1:
        c.quote(r.number, r.text)
        c.reply(assembly.notes.get(remarks[0].number) if remarks else None)
        return
    for m in remarks:
        if m.section.strip():
            c.add(_say("text", "section", section=clean_text(m.section)), bold=True)
        c.quote(r.number, m.text)
        if m.proposal.strip():
            c.add(_say("text", "proposal", proposal=clean_text(m.proposal)))
        c.reply(assembly.notes.get(m.number))


def _campaign(
    c: _Compose, assembly: Assembly, first: ResponseLine, group: _Campaign, remarks: Sequence[RemarkLine]
) -> None:
    senders = list(dict.fromkeys(group.parties + list(first.campaign_parties)))
    count = max(len(group.numbers), first.campaign_size, len(senders))
    c.covered.update(group.numbers)
    c.heading(_say("text", "campaign_label", count=count), 2)
    c.add(_say("text", "campaign_senders", parties=clean_text(", ".join(senders))))
    _body(c, assembly, first, remarks)


def _late_section(c: _Compose, assembly: Assembly) -> None:
    late = assembly.late
    c.heading(_say("headings", "late"))
    count = count_phrase(len(late), "høringssvar", "høringssvar")
    c.add(_say("text", "late_intro", deadline=deadline_text(assembly.round.deadline), count=count))
    _responses(c, assembly, late, late=True)


def _silent_section(c: _Compose, parties: Sequence[PartyLine]) -> None:

    silent = [p for p in parties if p.status in (PartyStatus.NOT_ANSWERED, PartyStatus.UNDELIVERED)]
    c.heading(_say("headings", "silent"))
    if not silent:
        c.add(_say("text", "silent_none"))
        return
    c.add(_say("text", "silent_intro"))
    for p in sorted(silent, key=lambda p: danish_key(p.name)):
        name = clean_text(p.name)
        c.add(_say("text", "undelivered", party=name) if p.status is PartyStatus.UNDELIVERED else name)


def _changes_section(c: _Compose, assembly: Assembly) -> None:
    c.heading(_say("headings", "changes"))
    changes = [
        (m, assembly.notes[m.number])
        for m in assembly.remarks
        if m.number in assembly.notes and assembly.notes[m.number].changes_draft
    ]
    if not changes:
        c.add(_say("text", "changes_none"))
        return
    c.add(_say("text", "changes_intro"))
    for m, note in changes:
        change = clean_text(note.change).strip() or clean_text(note.reply).strip()
        c.add(_say("text", "change_item", party=clean_text(m.party), number=m.number, change=change))


# --------------------------------------------------------------------------------------- writing


def _quality_box(report: QualityReport) -> list[Para]:
    title = Para([Run(_say("text", "quality_title"), bold=True)], boxed=True)
    return [title] + [Para([Run("• " + problem)], boxed=True) for problem in report.problems]


LEAD = 2  # the title and the subtitle: the quality box goes right under them, on the first page


def write_note(assembly: Assembly, path: Path, *, letterhead: Path | None = None) -> QualityReport:
    """Write the draft note to ``path`` (atomically) and return the quality gate's report.

    Problems the gate finds are also shown in a box on the note's first page.
    """
    with tempfile.TemporaryFile("w+", encoding="utf-8") as body:
        lead: list[Para] = []

        def emit(para: Para) -> None:
            if len(lead) < LEAD:
                lead.append(para)
            else:
                body.write(para_xml(para))

        facts, placeholders = compose_into(assembly, emit)
        report = check_note(assembly, facts, include_late=assembly.round.late_policy is LatePolicy.FLAG)
        report.placeholders = placeholders
        if report.problems:
            lead.extend(_quality_box(report))
        doc = docx.Document(str(letterhead)) if letterhead is not None else docx.Document()
        ensure_styles(doc)
        set_language(doc)
        doc.core_properties.title = f"{_say('headings', 'title')} – {clean_text(assembly.round.title)}"
        page_numbers(doc, _say("text", "page"))
        write_atomically(path, lambda tmp: save_with_body(doc, tmp, lead, body))
    return report


_LIST_ITEM = re.compile(r"\s*(?:[-•*–]|\d+[.)])\s")


def unwrap(block: str) -> str:
    """Join a paragraph that a mail program hard-wrapped (lines of 40–100 characters).

    Only the display changes: the quality gate compares the stored text, and lists or short
    lines (addresses, poems, bullet points) keep their breaks.
    """
    lines = block.split("\n")
    if len(lines) < 2 or any(_LIST_ITEM.match(line) for line in lines[1:]):
        return block
    if all(40 <= len(line.rstrip()) <= 100 for line in lines[:-1]):
        return " ".join(line.strip() for line in lines)
    return block
