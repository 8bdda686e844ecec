"""Nothing left running: a SIGKILLed collect leaves no process behind, and a worker killed while
it writes its result does not hang the parse pool."""

from __future__ import annotations

import os
import random
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from flows.adapters import parse_pool
from flows.adapters.parse_pool import StoredMessage, parse_all
from flows.core.message import ParsedMessage
from tests.support.cli_round import CliRound

WRITE = 1  # x86-64 write(2)
HANG_GUARD_SECONDS = 180  # far beyond a healthy parse of this batch: only a hang gets here


def _wait_for(condition: object, timeout: float = 120.0) -> bool:
    stop = time.monotonic() + timeout
    while time.monotonic() < stop:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.05)
    return False


@pytest.mark.timeout(900)
@pytest.mark.parametrize("moment", ["server up", "workers busy"])
def test_a_sigkilled_collect_leaves_no_process_and_a_rerun_is_exact(tmp_path: Path, moment: str) -> None:
    """Before: Prefect's temporary server and the parse workers lived on under pid 1."""
    env = {"HOERING_PARSE_WORKERS": "2", "HOERING_INGEST_BATCH": "400"}
    with CliRound(tmp_path, messages=400, env=env) as rnd:
        rnd.hoering("open", str(rnd.corpus.round_file))
        run = rnd.start("collect", rnd.round_id)
        least = 2 if moment == "server up" else 4  # the command, its server (and 2 workers)
        reached = _wait_for(lambda: len(rnd.marked_processes()) >= least or run.poll() is not None)
        assert reached and run.poll() is None, "the collect ended before the moment to kill it"
        started = set(rnd.marked_processes())
        run.send_signal(signal.SIGKILL)
        run.communicate()
        gone = _wait_for(lambda: not rnd.marked_processes(), timeout=15)
        assert gone, f"left running after the kill: {rnd.marked_processes()} (of {sorted(started)})"

        rerun = rnd.hoering("collect", rnd.round_id)
        assert rerun.returncode == 0
        counts = rnd.counts()
        assert (counts.stored, counts.responses, counts.attempts) == (rnd.distinct, rnd.distinct, 0)
        assert not rnd.marked_processes()


def _big_messages(folder: Path, n: int) -> list[StoredMessage]:
    """Messages whose parsed results are megabytes, so writing one back takes a while."""
    folder.mkdir(parents=True)
    rng = random.Random(7)
    items = []
    for i in range(n):
        words = " ".join(
            rng.choice(["høring", "svar", "lokalplan", "æble", "grøn", "sti"]) for _ in range(200_000)
        )
        body = f"From: a{i}@example.invalid\nTo: b@example.invalid\nMessage-ID: <m{i}@x>\n"
        body += f"Subject: svar {i}\nContent-Type: text/plain; charset=utf-8\n\n{words}\n"
        path = folder / f"m{i}.eml"
        path.write_bytes(body.encode())
        items.append(StoredMessage(str(path), "maildir", path.name))
    return items


def _syscall(pid: int) -> list[str]:
    try:
        return (Path(f"/proc/{pid}/syscall")).read_text().split()
    except OSError:
        return []


def _stopped(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] in {"T", "t"}
    except OSError:
        return True


def _kill_one_mid_write(stop: threading.Event, killed: list[int]) -> None:
    """Freeze workers one at a time; kill the first caught inside a large write(2)."""
    while not stop.is_set() and not killed:
        pool = parse_pool._pools.get(2)
        processes = list(getattr(pool, "_processes", {}).values()) if pool else []
        for process in processes:
            pid = process.pid
            if pid is None or process.exitcode is not None:
                continue
            os.kill(pid, signal.SIGSTOP)
            _wait_for(lambda pid=pid: _stopped(pid), timeout=2)
            call = _syscall(pid)
            if len(call) > 3 and call[0] == str(WRITE) and int(call[3], 16) > 1 << 20:
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
                return
            os.kill(pid, signal.SIGCONT)
        time.sleep(0.002)


def _parse_in_thread(items: list[StoredMessage]) -> tuple[threading.Thread, list[ParsedMessage | Exception]]:
    results: list[ParsedMessage | Exception] = []

    def parse() -> None:
        results.extend(parse_all(items, 64 * 1024 * 1024, workers=2))

    thread = threading.Thread(target=parse, daemon=True)
    thread.start()
    return thread, results


@pytest.fixture
def fresh_pools() -> Iterator[None]:
    parse_pool._forget(2)
    yield
    parse_pool._forget(2)


@pytest.mark.skipif(os.uname().machine != "x86_64", reason="reads x86-64 syscall numbers from /proc")
def test_a_worker_killed_while_writing_its_result_does_not_hang_the_pool(
    tmp_path: Path, fresh_pools: None
) -> None:
    """Before: half a result in the pipe, the pool's manager waiting for the rest forever."""
    items = _big_messages(tmp_path / "mail", 64)
    stop, killed = threading.Event(), list[int]()
    killer = threading.Thread(target=_kill_one_mid_write, args=(stop, killed), daemon=True)
    thread, results = _parse_in_thread(items)
    killer.start()
    thread.join(HANG_GUARD_SECONDS)
    stop.set()
    killer.join()
    assert killed, "no worker was caught writing a result (the batch finished first)"
    assert not thread.is_alive(), "the parse pool hung after a worker died mid-result"
    # The pool's manager thread must end too: the interpreter joins it at exit.
    for manager in [t for t in threading.enumerate() if type(t).__name__ == "_ExecutorManagerThread"]:
        manager.join(HANG_GUARD_SECONDS)
        assert not manager.is_alive(), "the pool's manager thread still waits for the rest of a result"
    assert [r.message_id for r in results if isinstance(r, ParsedMessage)] == [f"m{i}@x" for i in range(64)]


def test_workers_killed_at_random_moments_lose_no_message(tmp_path: Path, fresh_pools: None) -> None:
    """Seeded random kills of a worker during a batch: every message still parsed, in order."""
    items = _big_messages(tmp_path / "mail", 64)
    rng = random.Random(int(os.environ.get("HOERING_KILL_SEED", "17")))
    for attempt in range(3):
        delay = rng.uniform(0.2, 3.0)
        thread, results = _parse_in_thread(items)
        time.sleep(delay)
        pool = parse_pool._pools.get(2)
        victims = [p for p in getattr(pool, "_processes", {}).values() if p.exitcode is None] if pool else []
        if victims:
            os.kill(rng.choice(victims).pid, signal.SIGKILL)
        thread.join(HANG_GUARD_SECONDS)
        assert not thread.is_alive(), f"hung after a kill at {delay:.2f} s (attempt {attempt})"
        assert [r.message_id for r in results if isinstance(r, ParsedMessage)] == [
            f"m{i}@x" for i in range(64)
        ]
