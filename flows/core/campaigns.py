"""Campaign detection: many parties sending the same (or lightly edited) text.

Pure: no I/O. Linear in the number of items (performance.md §2.7): an exact-hash pass on
normalised text, then datasketch MinHash signatures (128 permutations, word 3-shingles) with
LSH banding for near-duplicate candidates, verified by the MinHash Jaccard estimate, joined
with union-find. All-pairs comparison would be quadratic and is never done.

The banding is done here with numpy (sort each band's keys, compare neighbours) rather than
with ``datasketch.MinHashLSH``: MinHashLSH keeps Python dicts of byte keys per band, measured
at about 6.5 KB per text (650 MB for 100k), which rules out 1M texts; a uint32 signature
matrix costs 512 bytes per text.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping

import numpy as np
import numpy.typing as npt

NUM_PERM = 128
SHINGLE = 3
MIN_WORDS = 8  # "Ingen bemærkninger" and friends are alike by nature, not a campaign
KEY_LEN = 12

_PUNCT = re.compile(r"[^\w\s]+")
_SPACE = re.compile(r"\s+")
_OPENING = re.compile(r"^(kære|hej|til|dear|hello|hi)\b")
_SIGNOFF = re.compile(
    r"^(mvh|med venlig hilsen|venlig hilsen|de bedste hilsner|bedste hilsner|hilsen|vh"
    r"|best regards|kind regards|regards)\b",
)
# "… til høringen. Mvh Ole Hansen" on one line: cut at the sign-off when only a name follows
_INLINE_SIGNOFF = re.compile(
    r"\b(mvh|med venlig hilsen|venlig hilsen|bedste hilsner|kind regards|best regards)\b"
)
MAX_NAME_WORDS = 5
# 21 bands of 6 rows: a pair with Jaccard 0.8 becomes a candidate with probability 0.998, one
# with 0.5 with 0.28; candidates are then verified against the threshold.
BANDS = 21
BAND_ROWS = 6
NEIGHBOURS = 3  # compare each signature with this many predecessors in a band's sorted run
VERIFY_CHUNK = 200_000


def normalise(text: str) -> str:
    """Casefolded, punctuation stripped, whitespace collapsed; greeting and sign-off lines dropped."""
    lines = []
    for line in unicodedata.normalize("NFKC", text).casefold().splitlines():
        body, signed_off = _cut_inline_signoff(line)
        plain = _SPACE.sub(" ", _PUNCT.sub(" ", body)).strip()
        if _is_courtesy(plain, _SIGNOFF):
            break  # the sign-off and the signature under it differ per sender by design
        if plain and not _is_courtesy(plain, _OPENING):
            lines.append(plain)
        if signed_off:
            break
    return " ".join(lines)


def _cut_inline_signoff(line: str) -> tuple[str, bool]:
    matches = list(_INLINE_SIGNOFF.finditer(line))
    match = matches[-1] if matches else None  # the last sign-off is the one a name may follow
    if match is None or match.start() == 0 or len(line[match.end() :].split()) > MAX_NAME_WORDS:
        return line, False
    return line[: match.start()], True


def _is_courtesy(line: str, pattern: re.Pattern[str]) -> bool:
    # only short lines: a body sentence that starts with "til" or "hilsen" must stay
    return len(line.split()) <= 4 and pattern.match(line) is not None


class _UnionFind:
    """Union-find over row numbers; the smaller row (the earlier id) becomes the root."""

    def __init__(self, size: int) -> None:
        self.parent = list(range(size))

    def find(self, row: int) -> int:
        root = row
        while root != self.parent[root]:
            root = self.parent[root]
        while row != root:  # path compression keeps later finds nearly O(1)
            self.parent[row], row = root, self.parent[row]
        return root

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def _shingles(words: list[str]) -> Iterable[bytes]:
    return {" ".join(words[i : i + SHINGLE]).encode() for i in range(len(words) - SHINGLE + 1)}


def group_campaigns(texts: Mapping[int, str], *, threshold: float = 0.8) -> dict[int, str]:
    """Map item id -> campaign key, for items in a group of two or more near-identical texts."""
    from datasketch import MinHash  # a heavy import, needed only when grouping runs

    ids = sorted(texts)
    uf = _UnionFind(len(ids))
    signatures = np.zeros((len(ids), NUM_PERM), dtype=np.uint32)
    eligible = np.zeros(len(ids), dtype=bool)
    first_row: dict[bytes, int] = {}
    for row, item in enumerate(ids):
        words = normalise(texts[item]).split()
        if len(words) < MIN_WORDS:
            continue
        eligible[row] = True
        digest = hashlib.sha1(" ".join(words).encode(), usedforsecurity=False).digest()
        if digest in first_row:  # exact duplicate: no signature needed
            uf.union(first_row[digest], row)
            continue
        first_row[digest] = row
        sketch = MinHash(num_perm=NUM_PERM)
        sketch.update_batch(list(_shingles(words)))
        signatures[row] = sketch.hashvalues  # datasketch's hash values fit in 32 bits
    representatives = np.fromiter(first_row.values(), dtype=np.int64, count=len(first_row))
    for a, b in _verified_pairs(signatures, np.sort(representatives), threshold):
        uf.union(int(a), int(b))
    return _keys(ids, texts, uf, eligible)


def _candidate_pairs(
    signatures: npt.NDArray[np.uint32], rows: npt.NDArray[np.int64]
) -> Iterator[tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]]:
    """Row pairs that share a band: neighbours in each band's sorted order with equal keys."""
    if len(rows) < 2:
        return
    mixer = np.random.default_rng(0x5EED).integers(1, 2**63, size=BAND_ROWS, dtype=np.uint64) | np.uint64(1)
    for band in range(BANDS):
        block = signatures[rows, band * BAND_ROWS : (band + 1) * BAND_ROWS].astype(np.uint64)
        keys = (block * mixer).sum(axis=1, dtype=np.uint64)  # wraps mod 2**64; collisions are verified
        order = np.argsort(keys, kind="stable")
        sorted_keys, sorted_rows = keys[order], rows[order]
        for gap in range(1, NEIGHBOURS + 1):
            same = sorted_keys[gap:] == sorted_keys[:-gap]
            yield sorted_rows[:-gap][same], sorted_rows[gap:][same]


def _verified_pairs(
    signatures: npt.NDArray[np.uint32], rows: npt.NDArray[np.int64], threshold: float
) -> Iterator[tuple[np.int64, np.int64]]:
    for left, right in _candidate_pairs(signatures, rows):
        for start in range(0, len(left), VERIFY_CHUNK):
            a, b = left[start : start + VERIFY_CHUNK], right[start : start + VERIFY_CHUNK]
            agree = np.count_nonzero(signatures[a] == signatures[b], axis=1) / NUM_PERM
            keep = agree >= threshold
            yield from zip(a[keep], b[keep], strict=True)


def _keys(
    ids: list[int], texts: Mapping[int, str], uf: _UnionFind, eligible: npt.NDArray[np.bool_]
) -> dict[int, str]:
    members: dict[int, list[int]] = {}
    for row in np.flatnonzero(eligible).tolist():
        members.setdefault(uf.find(row), []).append(row)
    result: dict[int, str] = {}
    for root, group in members.items():
        if len(group) >= 2:
            canonical = normalise(texts[ids[root]])  # root is the smallest row: the earliest id
            key = hashlib.sha1(canonical.encode(), usedforsecurity=False).hexdigest()[:KEY_LEN]
            result.update(dict.fromkeys((ids[row] for row in group), key))
    return result
