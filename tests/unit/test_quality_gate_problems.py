"""The quality gate's messages where the counts and the order matter: many problems, numbers
whose string order is not their numeric order, a number in no shown form, quotes out of order.
The gate keeps only what it reports (a national round has millions of remarks and quotes)."""

from __future__ import annotations

import dataclasses

import pytest

from flows.core.assembly import Assembly
from flows.core.danish import responses_phrase
from flows.core.quality import NoteFacts, Quotes, check_note, remarks_once
from tests.factories import make_round, remark, response


def _assembly(n: int = 12) -> Assembly:
    lines = [response(i, f"Part {i}", f"Svar nummer {i}.") for i in range(1, n + 1)]
    late = response(n + 1, "Sen part", "For sent.", late=True)
    silent = dataclasses.replace(response(n + 2, "Tavs part", "Ingen bemærkninger."), no_remarks=True)
    remarks = [remark(r, 1, text=f"Bemærkning {r.number}.") for r in lines]
    remarks += [remark(lines[1], 2, text="Anden bemærkning."), remark(late, 1), remark(silent, 1)]
    return Assembly(make_round(), lines[0].received_at, [], [*lines, late, silent], remarks, [])


def test_missing_remarks_are_counted_and_the_first_ten_named_in_the_assemblys_order() -> None:
    assert remarks_once(_assembly(), ["12.1"]) == [
        "12 bemærkninger mangler i notatet: nr. 1.1, 2.1, 3.1, 4.1, 5.1, 6.1, 7.1, 8.1, 9.1, 10.1 og 2 flere"
    ]


def test_repeated_and_uncounted_remarks_are_named_in_the_order_of_their_numbers_as_text() -> None:
    """A late response's remark, a silent one's, and numbers in no shown form are not counted."""
    shown = [m.number for m in _assembly().remarks[:13]]
    shown += ["2.1", "10.1", "10.1", "13.1", "14.1", "x", "x", "03.1", "3.01"]
    assert remarks_once(_assembly(), shown) == [
        "bemærkning nr. 10.1, 2.1, x står flere gange i notatet",
        "notatet citerer bemærkning nr. 03.1, 13.1, 14.1, 3.01, x, som ikke er talt med",
    ]


def _facts(assembly: Assembly, quotes: list[tuple[int, str]], covered: set[int]) -> NoteFacts:
    on_time = assembly.on_time
    return NoteFacts(
        count_sentence=responses_phrase(len(on_time)),
        counted=len(on_time),
        listed=tuple(dict.fromkeys(r.party for r in on_time)),
        quoted=Quotes(quotes),
        covered=frozenset(covered),
    )


@pytest.mark.parametrize("shuffled", [False, True], ids=["in number order", "out of number order"])
def test_altered_quotes_are_named_in_the_notes_order_and_a_remarks_text_is_a_true_quote(
    shuffled: bool,
) -> None:
    assembly = _assembly(3)
    if shuffled:  # the gate must not rely on the lines' order
        assembly.responses.reverse()
        assembly.remarks.reverse()
    quotes = [
        (3, "Ændret citat."),
        (1, "Svar nummer 1."),
        (2, "Anden bemærkning."),
        (1, "Forkert."),
        (2, "Svar nummer 2."),
    ]

    report = check_note(assembly, _facts(assembly, quotes, {1, 2, 3, 4, 5}), include_late=False)

    assert report.problems == ["citatet fra høringssvar nr. 3, 1 svarer ikke til det modtagne svar"]


def test_missing_responses_are_counted_and_the_first_ten_named() -> None:
    assembly = _assembly()

    report = check_note(assembly, _facts(assembly, [], {5}), include_late=True)

    names = ", ".join(f"nr. {n} (Part {n})" for n in [1, 2, 3, 4, 6, 7, 8, 9, 10, 11])
    assert report.problems == [f"13 høringssvar mangler i notatet: {names} og 3 flere"]
