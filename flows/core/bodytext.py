"""Pure text helpers for e-mail bodies: the answer without quotes, and "no remarks" detection.

The trimmed answer is always stored *beside* the full body, never instead of it
(shared/notes/intake-reliability.md §6 case 19), so every rule here errs on keeping text.
"""

from __future__ import annotations

import re

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

_SEPARATOR = re.compile(
    r"^\s*-{2,}\s*(original message|oprindelig meddelelse|original meddelelse|oprindelig besked|"
    r"oprindelig e-mail|ursprüngliche nachricht|ursprungligt meddelande|opprinnelig melding)\s*-{2,}\s*$",
    re.IGNORECASE,
)
_UNDERSCORES = re.compile(r"^\s*_{10,}\s*$")
_HEADER_FROM = re.compile(r"^\s*\**\s*(fra|from|von|från)\s*:\**\s*\S", re.IGNORECASE)
_HEADER_NEXT = re.compile(
    r"^\s*\**\s*(sendt|sent|dato|date|gesendet|skickat|til|to|emne|subject)\s*:", re.IGNORECASE
)
_WROTE_END = re.compile(r"\b(skrev|wrote|schrieb|skrev følgende)\b[^:\n]{0,80}:\s*$", re.IGNORECASE)
_WROTE_START = re.compile(r"^\s*(den|d\.|on|am|le|\d)", re.IGNORECASE)
_QUOTED = re.compile(r"^\s*>")
_SIG_DASHES = re.compile(r"^-- ?$")
_CLOSING = re.compile(
    r"^\s*(med\s+)?(venlig(st)?|venlige|bedste|mange|kærlig)\s+(hilsen|hilsner)\s*[,.!]?\s*$|"
    r"^\s*(mvh|vh|m\.v\.h\.?|hilsen|de bedste hilsner|kind regards|best regards|regards)\s*[,.!]?\s*$",
    re.IGNORECASE,
)
SIGNATURE_MAX_LINES = 12
SIGNATURE_MAX_LINE_CHARS = 100


def split_answer(text: str) -> str:
    """The sender's own words: no quoted reply, no reply header and history, no signature."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    cut = _reply_header(lines)
    if cut is not None:
        lines = _after_header(lines, cut)
    lines = [line for line in lines if not _QUOTED.match(line)]
    lines = _drop_signature(lines)
    answer = tidy_lines("\n".join(lines))
    return answer if answer.strip() else text


def _reply_header(lines: list[str]) -> int | None:
    """Index of the first line that starts the quoted history (Outlook, Gmail, Apple, Danish)."""
    for i, line in enumerate(lines):
        if _SEPARATOR.match(line):
            return i
        if _UNDERSCORES.match(line) and _outlook_block(lines, i + 1):
            return i
        if _HEADER_FROM.match(line) and _outlook_block(lines, i):
            return i
        if _wrote_line(lines, i):
            return i
    return None


def _outlook_block(lines: list[str], start: int) -> bool:
    """``Fra: …`` followed within a few lines by ``Sendt:``/``Dato:``/``Til:``/``Emne:``."""
    window = [line for line in lines[start : start + 6] if line.strip()]
    if not window or not _HEADER_FROM.match(window[0]):
        return False
    return any(_HEADER_NEXT.match(line) for line in window[1:4])


def _wrote_line(lines: list[str], i: int) -> bool:
    """``Den 3. okt. 2025 kl. 10.12 skrev Hans <h@x.dk>:`` — possibly wrapped over two lines."""
    line = lines[i]
    if len(line) > 300 or not _WROTE_START.match(line):
        return False
    joined = line if _WROTE_END.search(line) else f"{line} {lines[i + 1]}" if i + 1 < len(lines) else ""
    if not _WROTE_END.search(joined) or len(joined) > 400:
        return False
    return bool(re.search(r"\d|@", joined))


def _after_header(lines: list[str], cut: int) -> list[str]:
    """Cut at the reply header, unless the answer is written inline between quoted lines."""
    rest = lines[cut + 1 :]
    if _interleaved(rest):
        return lines[:cut] + rest  # quoted lines are dropped next; the inline answers stay
    return lines[:cut]


def _interleaved(lines: list[str]) -> bool:
    """True when own (non-quoted) text stands between two quoted blocks."""
    seen_quote = pending_text = False
    for line in lines:
        if _QUOTED.match(line):
            if pending_text:
                return True
            seen_quote = True
        elif line.strip() and seen_quote:
            pending_text = True
    return False


def _drop_signature(lines: list[str]) -> list[str]:
    """Only a short, plain tail after ``-- `` or a lone closing line is taken as a signature."""
    for i in range(len(lines) - 1, -1, -1):
        if _SIG_DASHES.match(lines[i]) or _CLOSING.match(lines[i]):
            tail = [line for line in lines[i + 1 :] if line.strip()]
            short = len(tail) <= SIGNATURE_MAX_LINES and all(
                len(line) <= SIGNATURE_MAX_LINE_CHARS for line in tail
            )
            if short and any(line.strip() for line in lines[:i]):
                return lines[:i]
            return lines
    return lines


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
        if i > 0 and (_CLOSING.match(line) or _SIG_DASHES.match(line)):
            return "\n".join(lines[:i])
    return "\n".join(lines)
