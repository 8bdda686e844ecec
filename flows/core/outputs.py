"""What hoering calls the files it writes for a round: one place, so every reader finds them.

``assemble`` writes them under these names, the dashboard summary points at them, and anything
later (the public version) adds its own name here.

The combined PDF of a round with more counted responses than one volume holds is written in
volumes instead, ``…-samlede-hoeringssvar-del-01.pdf``, ``-del-02`` …, each a PDF of its own, so
that only one volume is ever held in memory (fpdf2 keeps a document's pages until it is saved).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import astuple, dataclass
from pathlib import Path
from typing import TypeVar

# Counted responses per volume of the combined PDF. fpdf2 holds about 10 KB per response until a
# volume is saved; 5,000 keep one volume's peak near 50 MB however large the round (measured
# 51.8 MB, bench.output_memory's bundle stage; CHANGELOG), and a national round ~70 volumes.
BUNDLE_VOLUME = 5_000
P = TypeVar("P", str, Path)


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


def volume_count(counted: int, per_volume: int = BUNDLE_VOLUME) -> int:
    """How many volumes a bundle of ``counted`` responses fills (one, when it is a single file)."""
    if per_volume < 1:
        msg = "a volume holds at least one response"
        raise ValueError(msg)
    return max(1, -(-counted // per_volume))


def volume_path(bundle: Path, part: int, parts: int) -> Path:
    """``…-samlede-hoeringssvar-del-02.pdf``: part ``part`` of ``parts`` of ``bundle``.

    The number has at least two digits, more when there are 100 volumes or more, so that the
    names sort in order.
    """
    width = max(2, len(str(parts)))
    return bundle.with_name(f"{bundle.stem}-del-{part:0{width}d}{bundle.suffix}")


def bundle_paths(bundle: Path, counted: int, per_volume: int = BUNDLE_VOLUME) -> tuple[Path, ...]:
    """The files a bundle of ``counted`` responses is written to: ``bundle`` itself up to one
    volume, else its volumes in order."""
    parts = volume_count(counted, per_volume)
    if parts == 1:
        return (bundle,)
    return tuple(volume_path(bundle, part, parts) for part in range(1, parts + 1))


def bundle_labels(label: str, paths: Sequence[P]) -> dict[str, P]:
    """``label`` for the one PDF; ``label, del 2 af 7`` for each volume of a larger round."""
    if len(paths) == 1:
        return {label: paths[0]}
    return {f"{label}, del {part} af {len(paths)}": path for part, path in enumerate(paths, start=1)}


def volume_number(bundle: Path, candidate: Path) -> int | None:
    """The part number when ``candidate`` is a volume of ``bundle`` (of any assemble); else None.

    ``…-samlede-hoeringssvar-del-03.pdf`` is volume 3 of ``…-samlede-hoeringssvar.pdf``; the public
    bundle's volumes (``…-offentlig-del-03.pdf``) are not, nor is the bundle itself.
    """
    prefix, suffix = f"{bundle.stem}-del-", bundle.suffix
    name = candidate.name
    if candidate.parent != bundle.parent or not (name.startswith(prefix) and name.endswith(suffix)):
        return None
    digits = name[len(prefix) : len(name) - len(suffix)]
    return int(digits) if digits.isdigit() and digits.isascii() else None
