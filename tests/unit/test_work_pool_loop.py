"""The collect's loop over batch runs on a work pool, with Prefect's client and run_deployment
replaced: what it does when no worker ever takes a run (the real pool is tested end to end in
tests/e2e/test_work_pool.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any
from uuid import uuid4

import pytest
from prefect.client.schemas.objects import StateType, WorkerStatus

from flows import work_pool


class FakeClient:
    """Runs stay Scheduled since an hour ago; the pool's workers are as the test says."""

    def __init__(self, workers: list[WorkerStatus]) -> None:
        self.workers = workers
        self.states: dict[Any, Any] = {}
        self.set: list[tuple[Any, str]] = []

    def __enter__(self) -> FakeClient:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def read_deployment_by_name(self, name: str) -> Any:
        return SimpleNamespace(work_pool_name="pulje")

    def read_flow_run(self, run_id: Any) -> Any:
        state = SimpleNamespace(type=StateType.SCHEDULED, timestamp=datetime.now(UTC) - timedelta(hours=1))
        return SimpleNamespace(name=f"batch-{run_id}", state=state)

    def read_workers_for_work_pool(self, pool: str) -> list[Any]:
        return [SimpleNamespace(status=s) for s in self.workers]

    def set_flow_run_state(self, run_id: Any, state: Any, force: bool = False) -> None:
        self.set.append((run_id, state.type.value))


@pytest.fixture
def pool(monkeypatch: pytest.MonkeyPatch) -> Any:
    settings = SimpleNamespace(work_pool="pulje", work_pool_runs=2, batch_run_timeout=60)
    monkeypatch.setattr(work_pool, "get_app", lambda now: SimpleNamespace(settings=settings))
    monkeypatch.setattr(work_pool, "POLL_SECONDS", 0)
    monkeypatch.setattr(work_pool, "_outcome", lambda ids, now: {"processed": len(ids)})
    import prefect.deployments

    monkeypatch.setattr(prefect.deployments, "run_deployment", lambda *a, **k: SimpleNamespace(id=uuid4()))
    return monkeypatch


def _run(pool: Any, client: FakeClient) -> tuple[list[Any], list[str]]:
    import prefect.client.orchestration

    pool.setattr(prefect.client.orchestration, "get_client", lambda sync_client: client)
    return work_pool.run_on_pool("r", [[1, 2], [3]], None)


def test_a_pool_without_any_worker_fails_each_batch_with_the_reason(pool: Any) -> None:
    client = FakeClient(workers=[WorkerStatus.OFFLINE])

    done, failed = _run(pool, client)

    assert done == []
    assert len(failed) == 2
    assert all("ingen worker henter fra puljen pulje" in reason for reason in failed)
    assert [state for _, state in client.set] == ["CANCELLED", "CANCELLED"]  # not left waiting for ever


def test_a_run_waiting_while_a_worker_is_online_is_left_to_wait(pool: Any) -> None:
    """All workers busy is not an error: the loop keeps waiting (stopped here after a few polls)."""
    client = FakeClient(workers=[WorkerStatus.ONLINE])
    polls = {"n": 0}
    original = client.read_flow_run

    def read_flow_run(run_id: Any) -> Any:
        polls["n"] += 1
        if polls["n"] > 6:
            raise TimeoutError("stop")
        return original(run_id)

    client.read_flow_run = read_flow_run  # type: ignore[method-assign]

    with pytest.raises(TimeoutError):
        _run(pool, client)
    assert client.set == []
