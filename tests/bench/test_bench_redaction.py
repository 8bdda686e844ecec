"""The false-positive measurement of the public version's detectors (``bench.redaction_fp``):
the bench corpus holds no CPR or telephone number, so nothing in it may be taken, and of the
look-alike numbers only ten-digit order numbers that are valid dates are."""

from __future__ import annotations

from bench.redaction_fp import bench_corpus, look_alikes


def test_nothing_in_the_bench_corpus_is_taken_for_a_cpr_or_telephone_number() -> None:
    rate = bench_corpus(200)
    assert rate.messages >= 200
    assert (rate.cpr_finds, rate.phone_finds, rate.messages_with_a_find) == (0, 0, 0)


def test_only_order_numbers_that_are_dates_are_taken_among_the_look_alikes() -> None:
    rates = {kind: result["rate"] for kind, result in look_alikes(2_000).items()}
    order = rates.pop("ordrenummer, 10 cifre")
    assert 0 < order < 0.06  # about 1 in 30 random ten-digit numbers is a valid birth date
    assert set(rates.values()) == {0.0}, rates
