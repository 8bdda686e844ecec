"""Kill and rerun: SIGKILL ``hoering invite``, ``collect`` and ``assemble`` at random moments.

Each kill: start the command, wait a seeded random delay within the step's measured duration,
SIGKILL it, check that nothing it started still runs, rerun it to completion, and check that
everything came out exactly once:

* invite (a fresh round each time, so every kill interrupts real sending): one outbox row per
  party address, every row sent, and at the SMTP sink each Message-ID at least once; a second
  delivery only of a row flagged ``possible_duplicate`` (killed mid-SMTP: the one window SMTP
  leaves, re-sent with the same Message-ID);
* collect (a new slice of the Maildir delivered before each, so each kill interrupts new work):
  every delivered message stored once, one row per stored message, no attempt counted, none
  left unprocessed;
* assemble: the log and the note are there.

At the end all the mail is collected and the main round compared with a clean, kill-free run of
the same corpus: stored, counted, responses, remarks and receipts must be equal.

By hand (the 200-kill run; figures go in the changelog)::

    python -m tests.support.crash_campaign --kills 200 --database sqlite
    python -m tests.support.crash_campaign --kills 200 --database postgresql   # HOERING_TEST_PG_URL
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import random
import shutil
import signal
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from email import message_from_bytes
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from tests.support.cli_round import CliRound
from tests.support.smtpserver import SmtpTestServer

STEPS = ("invite", "collect", "assemble")
ORPHAN_GRACE_SECONDS = 15.0


@dataclass
class Kill:
    step: str
    delay_s: float
    hit_running: bool  # False when the command had already ended when the kill came


@dataclass
class CampaignReport:
    backend: str
    prefect: str
    seed: int
    messages: int
    kills: list[Kill] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    step_seconds: dict[str, float] = field(default_factory=dict)
    wall_s: float = 0.0

    def summary(self) -> dict[str, Any]:
        points = Counter(k.step for k in self.kills)
        return {
            "backend": self.backend,
            "prefect": self.prefect,
            "seed": self.seed,
            "messages": self.messages,
            "kills": len(self.kills),
            "kills_by_step": dict(points),
            "kills_while_running": sum(k.hit_running for k in self.kills),
            "clean_step_seconds": {k: round(v, 2) for k, v in self.step_seconds.items()},
            "failures": self.failures,
            "wall_s": round(self.wall_s, 1),
        }


class _Campaign:
    def __init__(self, work: Path, backend: str, kills: int, seed: int, messages: int, prefect: str) -> None:
        self.work, self.backend, self.total, self.seed, self.messages = work, backend, kills, seed, messages
        self.prefect = prefect
        self.rng = random.Random(seed)
        self.smtp = SmtpTestServer().start()
        env = {
            "HOERING_SMTP_URL": self.smtp.url,
            "HOERING_SEND_RATE_PER_MINUTE": "0",
            "HOERING_PARSE_WORKERS": "2",
            "HOERING_COLLECT_WAIT_SECONDS": "30",
        }
        self.env = env
        self.round = CliRound(work / "kills", backend, messages=messages, seed=seed, env=env, prefect=prefect)
        self.report = CampaignReport(backend, prefect, seed, messages)
        self.staged: list[Path] = []
        self.delivered = 0
        self.rounds = 0

    # ------------------------------------------------------------------ set-up
    def _stage_mail(self) -> None:
        new = self.round.corpus.maildir / "new"
        staging = self.work / "staging"
        staging.mkdir()
        for path in sorted(new.iterdir()):
            target = staging / path.name
            path.rename(target)
            self.staged.append(target)

    def _deliver(self, n: int) -> None:
        new = self.round.corpus.maildir / "new"
        for path in self.staged[self.delivered : self.delivered + n]:
            path.rename(new / path.name)
        self.delivered = min(len(self.staged), self.delivered + n)

    def _delivered_distinct(self) -> int:
        lines = self.round.corpus.truth.read_text(encoding="utf-8").splitlines()
        staged = {p.name for p in self.staged}
        delivered = {p.name for p in self.staged[: self.delivered]}
        truth = [json.loads(line) for line in lines]
        # Files the corpus put in cur/ were never staged: the first collect takes them.
        return len(
            {t["sha256"] for t in truth if (name := Path(t["file"]).name) in delivered or name not in staged}
        )

    def _new_round(self) -> str:
        """A copy of the round file under a new id and reply-to, opened: fresh invitations to send."""
        self.rounds += 1
        round_id = f"crash-{self.rounds:03d}"
        source = self.round.corpus.round_file.read_text(encoding="utf-8")
        text = source.replace(f'id = "{self.round.round_id}"', f'id = "{round_id}"', 1)
        text = text.replace("hoering-bench@kk.example", f"hoering-{round_id}@kk.example", 1)
        path = self.round.corpus.round_file.with_name(f"{round_id}.toml")
        path.write_text(text, encoding="utf-8")
        # Opened in this process (opening is not under test here): a command less per kill.
        from bench.stages import OPEN_NOW
        from flows.bootstrap import bootstrap
        from flows.services.opening import open_round
        from flows.settings import Settings

        settings = Settings(
            data_dir=self.round.data_dir,
            database_url=self.round.database_url,
            now=datetime.fromisoformat(OPEN_NOW),
        )
        app = bootstrap(settings)
        try:
            open_round(app, path)
        finally:
            app.db.dispose()
        return round_id

    # ------------------------------------------------------------------ running
    def _run(self, *args: str) -> float:
        started = time.perf_counter()
        result = self.round.hoering(*args, check=False)
        if result.returncode != 0:
            self._fail(f"hoering {' '.join(args)} exited {result.returncode}: {result.stderr.strip()[-400:]}")
        return time.perf_counter() - started

    def _fail(self, text: str) -> None:
        self.report.failures.append(text)
        print(f"FAIL: {text}", file=sys.stderr, flush=True)

    def _kill(self, step: str, *args: str) -> None:
        delay = self.rng.uniform(0.0, self.report.step_seconds[step] * 0.9)
        process = self.round.start(step, *args)
        time.sleep(delay)
        running = process.poll() is None
        if running:
            process.send_signal(signal.SIGKILL)
        process.communicate()
        self.report.kills.append(Kill(step, round(delay, 3), running))
        stop = time.monotonic() + ORPHAN_GRACE_SECONDS
        while (left := self.round.marked_processes()) and time.monotonic() < stop:
            time.sleep(0.1)
        if left:
            self._fail(f"{step} killed after {delay:.2f} s left processes running: {left}")
            for pid in left:  # our own test's processes, by pid
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)

    # ------------------------------------------------------------------ checks
    def _check_invite(self, round_id: str) -> None:
        from flows.adapters.db.tables import OutboxRow, PartyRow

        app = self.round._apps[0] if self.round._apps else self.round.app()
        with app.db.transaction() as session:
            parties = session.scalars(select(PartyRow).where(PartyRow.round_id == round_id, PartyRow.active))
            addresses = sum(len(p.emails) for p in parties)
            rows = session.execute(
                select(OutboxRow.message_id, OutboxRow.state, OutboxRow.possible_duplicate).where(
                    OutboxRow.round_id == round_id, OutboxRow.purpose == "invitation"
                )
            ).all()
        if len(rows) != addresses or any(r.state != "sent" for r in rows):
            self._fail(
                f"invite {round_id}: {len(rows)} rows for {addresses} addresses, states {Counter(r.state for r in rows)}"
            )
        self._check_deliveries({r.message_id: r.possible_duplicate for r in rows}, f"invite {round_id}")

    def _check_deliveries(self, rows: dict[str, bool], what: str) -> None:
        seen = Counter(_message_id(r.data) for r in self.smtp.received)
        for message_id, flagged in rows.items():
            times = seen.get(message_id, 0)
            if times == 0 or (times > 1 and not flagged):
                self._fail(f"{what}: {message_id} delivered {times} times (flagged: {flagged})")

    def _check_collect(self) -> None:
        from flows.adapters.db.tables import OutboxRow, RawMessageRow

        counts = self.round.counts()
        want = self._delivered_distinct()
        if (counts.stored, counts.responses, counts.attempts) != (want, want, 0):
            self._fail(
                f"collect: stored {counts.stored}, rows {counts.responses}, attempts {counts.attempts}; want {want}"
            )
        app = self.round._apps[0]
        with app.db.transaction() as session:
            left = session.scalar(
                select(func.count()).select_from(RawMessageRow).where(RawMessageRow.state == "stored")
            )
            receipts = session.execute(
                select(OutboxRow.message_id, OutboxRow.state, OutboxRow.possible_duplicate).where(
                    OutboxRow.purpose == "receipt"
                )
            ).all()
        if left:
            self._fail(f"collect: {left} stored messages left unprocessed")
        self._check_deliveries(
            {r.message_id: r.possible_duplicate for r in receipts if r.state == "sent"}, "receipt"
        )

    def _check_assemble(self) -> None:
        out = self.round.data_dir / "out" / self.round.round_id
        if not list(out.glob("*.xlsx")) or not list(out.glob("*.docx")):
            self._fail(f"assemble: no log or note in {out}")

    # ------------------------------------------------------------------ the campaign
    def run(self) -> CampaignReport:
        started = time.perf_counter()
        with self.round:
            self._stage_mail()
            self._run("open", str(self.round.corpus.round_file))
            plan = self._plan()
            slice_size = max(1, math.ceil(len(self.staged) / (plan["collect"] + 2)))
            # Clean runs first: each step's duration, the span its kills are spread over.
            self.report.step_seconds["invite"] = self._run("invite", self.round.round_id)
            self._deliver(slice_size)
            self.report.step_seconds["collect"] = self._run("collect", self.round.round_id)
            self.report.step_seconds["assemble"] = self._run("assemble", self.round.round_id)
            self._check_collect()
            order = [step for step in STEPS for _ in range(plan[step])]
            self.rng.shuffle(order)
            for n, step in enumerate(order, 1):
                if step == "invite":
                    round_id = self._new_round()
                    self._kill("invite", round_id)
                    self._run("invite", round_id)
                    self._check_invite(round_id)
                elif step == "collect":
                    self._deliver(slice_size)
                    self._kill("collect", self.round.round_id)
                    self._run("collect", self.round.round_id)
                    self._check_collect()
                else:
                    self._kill("assemble", self.round.round_id)
                    self._run("assemble", self.round.round_id)
                    self._check_assemble()
                kill = self.report.kills[-1]
                print(
                    f"kill {n}/{len(order)}: {kill.step} at {kill.delay_s:.2f} s"
                    f"{'' if kill.hit_running else ' (already ended)'}; failures so far {len(self.report.failures)}",
                    file=sys.stderr,
                    flush=True,
                )
            self._deliver(len(self.staged))
            self._run("collect", self.round.round_id)
            self._check_collect()
            self._compare_with_clean_run()
        self.smtp.stop()
        self.report.wall_s = time.perf_counter() - started
        return self.report

    def _plan(self) -> dict[str, int]:
        base, extra = divmod(self.total, len(STEPS))
        return {step: base + (1 if i < extra else 0) for i, step in enumerate(STEPS)}

    def _compare_with_clean_run(self) -> None:
        """The main round against the same corpus collected once, with no kill."""
        killed = self.round.counts()
        clean_round = CliRound(
            self.work / "clean",
            self.backend,
            messages=self.messages,
            seed=self.seed,
            env=self.env,
            prefect=self.prefect,
        )
        with clean_round:
            clean_round.hoering("open", str(clean_round.corpus.round_file))
            clean_round.hoering("invite", clean_round.round_id)
            clean_round.hoering("collect", clean_round.round_id)
            clean = clean_round.counts()
            receipts_clean = _receipts(clean_round)  # before its database is dropped
        for name in ("stored", "counted", "responses", "remarks"):
            if getattr(killed, name) != getattr(clean, name):
                self._fail(f"end: {name} {getattr(killed, name)} after kills, {getattr(clean, name)} without")
        receipts_killed = _receipts(self.round)
        if receipts_killed != receipts_clean:
            self._fail(f"end: {receipts_killed} receipts after kills, {receipts_clean} without")


def _receipts(rnd: CliRound) -> int:
    from flows.adapters.db.tables import OutboxRow

    app = rnd._apps[0] if rnd._apps else rnd.app()
    with app.db.transaction() as session:
        query = (
            select(func.count())
            .select_from(OutboxRow)
            .where(OutboxRow.purpose == "receipt", OutboxRow.state == "sent")
        )
        return int(session.scalar(query) or 0)


def _message_id(data: bytes) -> str:
    return str(message_from_bytes(data).get("Message-ID", "")).strip()


def run_campaign(
    work: Path, backend: str, kills: int, *, seed: int, messages: int = 80, prefect: str = "auto"
) -> CampaignReport:
    """Run ``kills`` kills on ``backend``; ``prefect``: "server", "ephemeral", or "auto"."""
    if prefect == "auto":
        prefect = "server" if os.environ.get("HOERING_TEST_PREFECT_API_URL") else "ephemeral"
    return _Campaign(work, backend, kills, seed, messages, prefect).run()


def check_campaign(work: Path, backend: str, *, kills: int) -> None:
    """The test command's crash test on one backend: ``kills`` kills, each rerun exact.

    The seed is random unless ``HOERING_KILL_SEED`` is set; every failure message carries it.
    """
    seed = int(os.environ.get("HOERING_KILL_SEED") or random.SystemRandom().randrange(100_000))
    report = run_campaign(work, backend, kills, seed=seed, messages=60)
    summary = report.summary()
    assert len(report.kills) == kills
    assert not report.failures, summary
    # Kills must mostly land while the command runs, or the test tests little.
    assert summary["kills_while_running"] >= kills // 3, summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=200)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--messages", type=int, default=80)
    parser.add_argument("--seed", type=int, default=int(datetime.now().timestamp()) % 100_000)
    parser.add_argument("--prefect", choices=["auto", "server", "ephemeral"], default="auto")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="hoering-crash-"))
    print(f"seed {args.seed}; working in {work}", file=sys.stderr, flush=True)
    try:
        report = run_campaign(
            work, args.database, args.kills, seed=args.seed, messages=args.messages, prefect=args.prefect
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(report.summary(), indent=2, ensure_ascii=False))
    sys.exit(1 if report.failures else 0)


if __name__ == "__main__":
    main()
