"""services.overlap on fakes: a failing fetch or a failing batch ends the call with its error,
after the batches already taken, and leaves no fetcher thread behind."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from flows.bootstrap import App
from flows.services import collecting, overlap
from tests.support.fakes import FakeUnitOfWork
from tests.unit.services.conftest import batch, mail


class FetchBroke(Exception):
    pass


def fetcher_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "hoering-fetch"]


def test_a_fetch_that_fails_is_raised_after_the_stored_batch_was_processed(
    app: App, uow: FakeUnitOfWork, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_fetch(
        app: App, on_stored: Callable[[list[int]], None] | None = None
    ) -> collecting.FetchReport:
        collecting.store_batch(
            app, batch(*(mail(f"p{n}@x.example", "svar", message_id=f"{n}@x") for n in range(3)))
        )
        assert on_stored is not None
        on_stored(list(uow.responses.raws))
        raise FetchBroke("the server went away")

    monkeypatch.setattr(collecting, "fetch", broken_fetch)
    handed: list[list[int]] = []
    with pytest.raises(FetchBroke):
        overlap.fetch_and_process(app, handed.append, 2)
    assert handed == [[1, 2]]  # a full batch was taken before the error arrived
    assert not fetcher_threads()


def test_a_batch_that_fails_stops_the_fetcher(app: App, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []

    def endless_fetch(
        app: App, on_stored: Callable[[list[int]], None] | None = None
    ) -> collecting.FetchReport:
        assert on_stored is not None
        for n in range(1_000_000):  # stops only when the consumer gives up
            calls.append(n)
            on_stored([n * 2 + 1, n * 2 + 2])
        return collecting.FetchReport()

    def failing(ids: list[int]) -> None:
        raise RuntimeError("poison")

    monkeypatch.setattr(collecting, "fetch", endless_fetch)
    with pytest.raises(RuntimeError, match="poison"):
        overlap.fetch_and_process(app, failing, 2, ahead=1)
    assert not fetcher_threads()
    assert len(calls) < 10  # the bounded queue held the fetcher back, and it stopped
