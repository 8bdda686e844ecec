"""Output lines kept in the spill file: read back equal, replaced in place, shared tuples kept once."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from flows.adapters.line_spill import SHARE_FROM, SpilledLines
from flows.adapters.text_spill import SpilledText, TextSpill
from flows.core.assembly import Assembly, RemarkLine, RemarksOf, ResponseLine, in_receipt_order
from flows.core.model import Channel

WHEN = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
LONG = "Vi er imod planen, fordi stien skærer gennem engen. " * 5


def _line(number: int, text: str, **kw: object) -> ResponseLine:
    return ResponseLine(
        number=number,
        reference=f"R-{number:04d}",
        party=f"Part {number}",
        sender=f"p{number}@example.dk",
        received_at=WHEN,
        channel=Channel.EMAIL,
        late=number % 3 == 0,
        subject="Høringssvar",
        content=text,
        **kw,  # type: ignore[arg-type]
    )


def test_lines_read_back_equal_and_their_texts_stay_in_the_file(tmp_path) -> None:
    spill = TextSpill(tmp_path)
    lines = SpilledLines(spill, (_line(n, spill.put(f"{LONG} nr. {n}")) for n in range(1, 101)))
    assert len(lines) == 100
    first = lines[0]
    assert isinstance(first.content, SpilledText)  # the text's place came back, not a copy
    assert first.text == f"{LONG} nr. 1"
    assert [r.number for r in lines] == list(range(1, 101))
    assert lines[-1].number == 100 and [r.number for r in lines[2:4]] == [3, 4]
    with pytest.raises(IndexError):
        lines[100]


def test_a_replaced_line_is_read_in_its_place(tmp_path) -> None:
    spill = TextSpill(tmp_path)
    lines = SpilledLines(spill, (_line(n, "kort") for n in range(1, 6)))
    for index, line in enumerate(lines):  # replacing while walking, as placements and the chain do
        if line.number % 2:
            lines[index] = _line(line.number, "kort", sha256=f"sha-{line.number}")
    assert [r.sha256 for r in lines] == ["sha-1", "", "sha-3", "", "sha-5"]
    assert lines == [_line(n, "kort", sha256=f"sha-{n}" if n % 2 else "") for n in range(1, 6)]


def test_a_campaign_tuple_is_kept_once_not_copied_into_every_line(tmp_path) -> None:
    spill = TextSpill(tmp_path)
    names = tuple(f"Borger {i}" for i in range(5_000))
    lines = SpilledLines(
        spill, (_line(n, "ens", campaign="k", campaign_parties=names) for n in range(1, 201))
    )
    assert len(names) >= SHARE_FROM
    assert lines[0].campaign_parties is lines[199].campaign_parties == names
    # 200 lines × 5,000 names copied would be megabytes; shared, each line is a few hundred bytes
    assert spill.size < 200 * 1_000


def test_the_lateness_views_walk_the_lines_without_a_list(tmp_path) -> None:
    spill = TextSpill(tmp_path)
    lines = SpilledLines(spill, (_line(n, "x") for n in range(1, 10)))
    assembly = Assembly(None, WHEN, [], lines, SpilledLines(spill), [])  # type: ignore[arg-type]
    assert [r.number for r in assembly.late] == [3, 6, 9]
    assert len(assembly.on_time) == 6 and assembly.on_time[1].number == 2 and bool(assembly.late)
    assert assembly.late is assembly.late  # one view per list: its count is made once


def _remark(number: str, response: int) -> RemarkLine:
    return RemarkLine(number, response, "Part", "", "tekst", "")


def test_remarks_of_each_response_in_one_walk_or_grouped_when_out_of_order() -> None:
    ordered = [_remark("1.1", 1), _remark("1.2", 1), _remark("3.1", 3), _remark("4.1", 4)]
    walk = RemarksOf(ordered)
    assert [m.number for m in walk.of(1)] == ["1.1", "1.2"]
    assert walk.of(2) == [] and [m.number for m in walk.of(4)] == ["4.1"]  # 3 skipped: not asked
    shuffled = RemarksOf([ordered[2], ordered[0], ordered[3], ordered[1]])
    assert [m.number for m in shuffled.of(3)] == ["3.1"]
    assert [m.number for m in shuffled.of(1)] == ["1.1", "1.2"]


def test_receipt_order_is_kept_without_a_sort_and_restored_when_broken() -> None:
    early = datetime(2026, 3, 1, tzinfo=UTC)
    ordered = [_line(1, "a"), _line(2, "b")]
    assert in_receipt_order(ordered) is ordered
    broken = [_line(2, "b"), ResponseLine(1, "R", "P", "s", early, Channel.EMAIL, False, "", "a")]
    assert [r.number for r in in_receipt_order(broken)] == [1, 2]


@dataclass(frozen=True)
class _Odd:
    """Not slotted, with a field of a type the rows do not know (a set) and a tuple of dates."""

    when: datetime
    tags: frozenset[str]
    dates: tuple[datetime, ...]
    text: object = None


@dataclass
class _Checked:
    value: int

    def __post_init__(self) -> None:
        if self.value < 0:
            raise ValueError("negative")


class _Plain:
    def __init__(self, value: str) -> None:
        self.value = value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Plain) and other.value == self.value


def test_every_kind_of_field_reads_back_exactly(tmp_path) -> None:
    copenhagen = ZoneInfo("Europe/Copenhagen")
    # the hour that occurs twice when summer time ends: only ``fold`` tells the two apart
    second = datetime(2026, 10, 25, 2, 30, 0, 123456, tzinfo=copenhagen, fold=1)
    naive = datetime(2026, 3, 2, 9, 30)
    fixed = datetime(2026, 3, 2, 9, 30, tzinfo=timezone(timedelta(hours=-3, minutes=-30)))
    spill = TextSpill(tmp_path)
    text = spill.put(LONG)
    lines: SpilledLines[object] = SpilledLines(spill)
    lines.append(_line(7, text, attachments=("a.pdf", "b.xlsx"), campaign=None, full_content=text))
    lines.append(replace(_line(8, "kort"), received_at=second, channel=Channel.TEMPLATE))
    lines.append(_Odd(naive, frozenset({"x", "y"}), (fixed, second), text))
    lines.append(_Checked(3))
    lines.append(_Plain("ikke en dataclass"))
    first, summer, odd, checked, plain = list(lines)
    expected = _line(7, "", attachments=("a.pdf", "b.xlsx"))
    assert replace(first, content="", full_content="") == expected  # a text's handle is new each read
    assert first.text == first.full_text == LONG and isinstance(first.content, SpilledText)
    assert summer.received_at == second and summer.received_at.fold == 1
    assert summer.received_at.utcoffset() == timedelta(hours=1)  # the second 02:30, winter time
    assert summer.received_at.tzinfo is copenhagen and summer.channel is Channel.TEMPLATE
    assert odd.when == naive and odd.when.tzinfo is None and odd.tags == frozenset({"x", "y"})
    assert odd.dates == (fixed, second) and odd.dates[0].utcoffset() == fixed.utcoffset()
    assert odd.text.read() == LONG  # a text inside a pickled field still travels as its place
    assert checked == _Checked(3) and plain == _Plain("ikke en dataclass")


def test_a_short_tuple_shared_by_hand_is_kept_once(tmp_path) -> None:
    spill = TextSpill(tmp_path)
    lines = SpilledLines(spill)
    names = lines.share(("Borger 1", "Borger 2"))
    lines.extend(_line(n, "ens", campaign_parties=names) for n in range(1, 4))
    assert lines[0].campaign_parties is lines[2].campaign_parties is names
