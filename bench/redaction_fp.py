"""False positives of the CPR and telephone detectors, measured on texts that hold none.

The generated bench corpus (``bench.corpus``) writes Danish responses with dates, times,
amounts, section numbers, reference numbers and message ids, but no CPR number and no Danish
telephone number: every find there is a false positive. The public e-mail corpora under
``/work/shared/corpora`` (when present) are counted too, for CPR numbers only: they are foreign
mail, where ten-digit numbers that happen to be dates do occur (order and tracking numbers).

    python -m bench.redaction_fp [N_MESSAGES]

prints one JSON object: messages, the numbers that looked like candidates (digit runs of the
right length), finds, and the rate per message and per candidate.
"""

from __future__ import annotations

import json
import random
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.corpus import generate
from flows.adapters.mailparse import parse_message
from flows.core.cpr import CPR_SHAPE, find_cpr
from flows.core.redaction import PHONE, Own, find_phones

CORPORA = Path("/work/shared/corpora")
_BENCH_OWN = Own.of_round(["hoering-bench@kk.example"], ["Forvaltningen"])


@dataclass
class Rate:
    source: str
    messages: int = 0
    cpr_candidates: int = 0  # ten digits, as DDMMYY-SSSS in any of its forms
    cpr_finds: int = 0
    phone_candidates: int = 0  # eight digits in any grouping
    phone_finds: int = 0
    messages_with_a_find: int = 0

    def add(self, text: str, *, phones: bool = True) -> None:
        self.messages += 1
        cprs = find_cpr(text)
        self.cpr_candidates += sum(1 for _ in CPR_SHAPE.finditer(text))
        self.cpr_finds += len(cprs)
        found = len(cprs)
        if phones:
            self.phone_candidates += sum(1 for _ in PHONE.finditer(text))
            numbers = find_phones(text, _BENCH_OWN)
            self.phone_finds += len(numbers)
            found += len(numbers)
        self.messages_with_a_find += found > 0

    def summary(self) -> dict[str, object]:
        out: dict[str, object] = asdict(self)
        out["finds_per_message"] = round((self.cpr_finds + self.phone_finds) / max(self.messages, 1), 5)
        out["cpr_finds_per_candidate"] = round(self.cpr_finds / max(self.cpr_candidates, 1), 5)
        out["phone_finds_per_candidate"] = round(self.phone_finds / max(self.phone_candidates, 1), 5)
        return out


def texts_of(files: Iterable[Path]) -> Iterator[str]:
    """Subject, body and attachment texts of each message file, as the product parses them."""
    for path in files:
        parsed = parse_message(path.read_bytes())
        parts = [parsed.subject, parsed.body_text, *(a.text for a in parsed.attachments if a.text)]
        yield "\n".join(p for p in parts if p)


def bench_corpus(n: int) -> Rate:
    rate = Rate("bench corpus")
    with tempfile.TemporaryDirectory() as tmp:
        info = generate(n, Path(tmp) / "corpus", seed=7, parties=20)
        for text in texts_of(_files(info.maildir)):
            rate.add(text)
    return rate


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def public_corpora(root: Path = CORPORA) -> Rate | None:
    files = [p for p in _files(root) if p.suffix.lower() == ".eml"] if root.is_dir() else []
    if not files:
        return None
    rate = Rate(f"{root} (*.eml)")
    for text in texts_of(files):
        rate.add(text, phones=False)  # foreign mail: Danish telephone rules do not apply
    return rate


def look_alikes(n: int, seed: int = 7) -> dict[str, dict[str, float]]:
    """Share of each kind of look-alike number that the detectors take (``n`` of each, seeded).

    Random ten-digit order numbers are the one kind that cannot be refused by rule: about one in
    30 is a valid date with a valid century, and may be a CPR number issued without the check.
    """
    rng = random.Random(seed)
    kinds: dict[str, tuple[Callable[[], str], Callable[[str], int]]] = {
        "ordrenummer, 10 cifre": (lambda: f"Ordre {rng.randrange(10**9, 10**10)}", _cprs),
        "telefon +45 (10 cifre med 45)": (lambda: f"+45{rng.randrange(2 * 10**7, 10**8)}", _cprs),
        "beløb med kr.": (lambda: f"{rng.randrange(10**9, 10**10)} kr.", _cprs),
        "beløb med punktum": (lambda: f"{rng.randrange(10**6, 10**8):,}".replace(",", ".") + " kr", _phones),
        "dato dd-mm-åååå": (
            lambda: f"{rng.randrange(1, 29):02}-{rng.randrange(1, 13):02}-20{rng.randrange(10, 40)}",
            _phones,
        ),
        "CVR-nummer": (lambda: f"CVR {rng.randrange(10**7, 10**8)}", _phones),
        "sagsnummer 8 cifre": (lambda: f"Sag nr. {rng.randrange(2 * 10**7, 10**8)}", _phones),
        "tidsstempel i id": (lambda: f"{rng.randrange(10**9, 2 * 10**9)}.{rng.randrange(10**12)}", _cprs),
    }
    out = {}
    for name, (make, detect) in kinds.items():
        taken = sum(detect(make()) > 0 for _ in range(n))
        out[name] = {"samples": n, "taken": taken, "rate": round(taken / n, 5)}
    return out


def _cprs(text: str) -> int:
    return len(find_cpr(text))


def _phones(text: str) -> int:
    return len(find_phones(text, _BENCH_OWN))


def main(argv: list[str]) -> int:
    n = int(argv[1]) if len(argv) > 1 else 2000
    results: list[object] = [bench_corpus(n).summary(), {"look_alikes": look_alikes(10_000)}]
    public = public_corpora()
    if public is not None:
        results.append(public.summary())
    sys.stdout.write(json.dumps(results, ensure_ascii=False, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
