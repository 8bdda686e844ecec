"""The ``App`` a unit test builds: fakes in, no database anywhere."""

from __future__ import annotations

import pytest

from flows.bootstrap import NoDatabaseError
from tests.support.fakes import FakeUnitOfWork
from tests.unit.services.conftest import World


def test_an_app_built_from_fakes_has_no_database_and_gives_the_fakes(world: World) -> None:
    """So a service that still opened a session itself would fail here instead of passing quietly."""
    with pytest.raises(NoDatabaseError):
        _ = world.app.db

    assert isinstance(world.app.uow(), FakeUnitOfWork)
    assert world.app.mailer() is world.mailer
    assert world.app.now() == world.clock.at
