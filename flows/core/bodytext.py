"""Pure text helpers for e-mail bodies: the answer without quotes, and "no remarks" detection.

The trimmed answer is always stored *beside* the full body, never instead of it
(shared/notes/intake-reliability.md §6 case 19), so every rule here errs on keeping text.
"""

from __future__ import annotations

import re

from flows.core.trim import CLOSING as _CLOSING
from flows.core.trim import trim_reply

# --- control characters -----------------------------------------------------------------------

# C1 controls in decoded text almost always mean windows-1252 bytes read as latin-1
_C1_TO_CP1252 = {
    c: bytes([c]).decode("cp1252") for c in range(0x80, 0xA0) if c not in (0x81, 0x8D, 0x8F, 0x90, 0x9D)
}
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_C1 = re.compile(r"[\x80-\x9f]")


def strip_controls(text: str) -> str:
    """Newlines unified to LF, C1 read as cp1252, other controls (and a leading BOM) removed."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if text.startswith("\ufeff"):
        text = text[1:]
    if _C1.search(text):  # translate() with a dict is slow, and C1 is rare
        text = text.translate(_C1_TO_CP1252)
    return _CONTROLS.sub("", text)


def normalise_whitespace(text: str) -> str:
    """All runs of whitespace collapsed to one space, ends stripped (for comparisons)."""
    return " ".join(text.split())


def tidy_lines(text: str) -> str:
    """Trailing spaces removed and runs of blank lines cut to one."""
    lines = [line.rstrip() for line in text.split("\n")]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip("\n")


# --- split_answer ------------------------------------------------------------------------------

split_answer = trim_reply  # the one definition lives in flows.core.trim


# --- is_no_remarks -----------------------------------------------------------------------------

_NO_REMARKS = re.compile(
    r"\b(?:ingen|ikke(?:\s+(?:nogen|har|haft))*)\s+"
    r"(?:(?:yderligere|særlige|væsentlige|videre|større|nye|egentlige|konkrete)\s+)?"
    r"(?:bemærkning(?:er)?|kommentar(?:er)?|indvending(?:er)?|indsigelse(?:r)?|tilføjelse(?:r)?)\b"
    r"|\b(?:intet|ikke\s+noget|ingenting)\s+(?:yderligere\s+)?(?:at\s+)?"
    r"(?:bemærke|tilføje|kommentere|indvende|udsætte)\b"
    r"|\bno\s+(?:further\s+)?(?:comments?|remarks?|objections?)\b",
    re.IGNORECASE,
)
_CONTRAST = {"men", "dog", "bortset", "undtagen", "imidlertid", "however", "but", "except", "blot",
             "bare", "alene", "kun", "følgende"}  # fmt: skip
_GREETING = re.compile(r"^\s*(hej|kære|goddag|god dag|til|dear|hello|hi)\b[^\n]{0,80}$", re.IGNORECASE)
_FILLER = {
    "vi", "jeg", "har", "havde", "hermed", "herved", "til", "i", "om", "på", "af", "fra", "for", "med",
    "og", "at", "det", "den", "de", "dette", "denne", "disse", "sagen", "forslaget", "udkastet",
    "strategien", "planen", "materialet", "dokumentet", "vores", "side", "os", "mig", "tak",
    "muligheden", "afgive", "svar", "svare", "som", "så", "derfor", "er", "der", "en", "et",
    "yderligere", "nogen", "ingen", "ikke", "noget", "intet", "bemærkninger", "bemærkning",
    "kommentarer", "kommentar", "hilsen", "venlig", "venlige", "mvh", "vh", "kan", "oplyse",
    "meddele", "vil", "gerne", "hej", "kære", "fremsendte", "tilsendte", "modtagne", "we", "have",
    "no", "comments", "remarks", "the", "to", "on", "thank", "you", "sendt", "anledning",
}  # fmt: skip
NO_REMARKS_MAX_WORDS = 40
NO_REMARKS_MAX_OTHER_WORDS = 8
_WORD = re.compile(r"[^\W\d_]+|\d+", re.UNICODE)


# Every match of _NO_REMARKS holds one of these stems; split_answer only drops lines, so a text
# without any of them cannot match, and the (costly) split is skipped.
_NO_REMARKS_STEMS = re.compile(
    r"bemærk|komment|indvend|indsigelse|tilføj|udsætte|comment|remark|objection", re.IGNORECASE
)


def is_no_remarks(text: str) -> bool:
    """True for a short answer that only says "no remarks" (greeting and signature allowed)."""
    if not _NO_REMARKS_STEMS.search(text):
        return False
    body = _without_greeting_and_closing(split_answer(text))
    if not _NO_REMARKS.search(body):
        return False
    words = [w.lower() for w in _WORD.findall(body)]
    if len(words) > NO_REMARKS_MAX_WORDS or _CONTRAST.intersection(words):
        return False
    other = [w for w in words if w not in _FILLER and not w.startswith("høring")]
    return len(other) <= NO_REMARKS_MAX_OTHER_WORDS


def _without_greeting_and_closing(text: str) -> str:
    lines = [line for line in text.split("\n") if line.strip()]
    if lines and _GREETING.match(lines[0]) and len(lines) > 1:
        lines = lines[1:]
    for i, line in enumerate(lines):
        if i > 0 and (_CLOSING.match(line) or line.rstrip() in ("--", "-- ")):
            return "\n".join(lines[:i])
    return "\n".join(lines)
