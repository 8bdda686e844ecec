"""What hoering calls the files it writes for a round: one place, so every reader finds them.

``assemble`` writes them under these names, the dashboard summary points at them, and anything
later (the public version) adds its own name here.
"""

from __future__ import annotations

from dataclasses import astuple, dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class RoundOutputs:
    """The paths of a round's outputs in one folder."""

    log: Path  # the Excel log staff work in
    note: Path  # the draft consultation note (Word)
    bundle: Path  # every response in one PDF
    public_note: Path  # the note with personal data redacted, for publication
    public_bundle: Path  # the responses' texts, redacted, for publication

    def all(self) -> tuple[Path, ...]:
        return astuple(self)


def output_paths(out_dir: Path, round_id: str) -> RoundOutputs:
    """``ROUND_ID-hoeringslog.xlsx``, ``-hoeringsnotat.docx``, ``-samlede-hoeringssvar.pdf`` and their ``-offentlig`` versions."""
    return RoundOutputs(
        log=out_dir / f"{round_id}-hoeringslog.xlsx",
        note=out_dir / f"{round_id}-hoeringsnotat.docx",
        bundle=out_dir / f"{round_id}-samlede-hoeringssvar.pdf",
        public_note=out_dir / f"{round_id}-hoeringsnotat-offentlig.docx",
        public_bundle=out_dir / f"{round_id}-samlede-hoeringssvar-offentlig.pdf",
    )
