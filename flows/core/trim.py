"""The answer a party wrote, without the quoted history, sign-off, signature or mobile footer.

Measured against labelled Danish and Nordic replies (``tests/fixtures/replies``) this beats both
quotequail and mail-parser-reply (see CHANGELOG and ``bench/trim_candidates.py``), so the
rules are our own: the libraries know English and German reply headers, but not "Den 15. jun.
2016 kl. 20.42 skrev …:", "Sendt fra min iPad" or a Danish signature with title and phone.

The trimmed answer is always stored *beside* the full body, never instead of it, so every rule
here errs on keeping text: a cut is made only where the line is unmistakable.
"""

from __future__ import annotations

import re

# --- where the quoted history begins -----------------------------------------------------------

_SEPARATOR = re.compile(
    r"^\s*-{2,}\s*(original message|oprindelig meddelelse|original meddelelse|oprindelig besked|"
    r"oprindelig e-mail|ursprüngliche nachricht|ursprungligt meddelande|opprinnelig melding|"
    r"alkuperäinen viesti|messaggio originale|message d'origine|mensaje original|"
    r"oorspronkelijk bericht)\s*-{2,}\s*$",
    re.IGNORECASE,
)
_UNDERSCORES = re.compile(r"^\s*_{10,}\s*$")
# The first line of an Outlook header block, in the languages Danish offices receive mail in
_HEADER_FROM = re.compile(r"^\s*\**\s*(fra|from|von|från|da|de|van|lähettäjä|frá)\s*:\**\s*\S", re.IGNORECASE)
_HEADER_NEXT = re.compile(
    r"^\s*\**\s*(sendt|sent|dato|date|datum|gesendet|skickat|til|till|to|an|a|à|aan|para|"
    r"emne|subject|betreff|ämne|oggetto|objet|onderwerp|asunto|aihe|inviato|envoyé|verzonden|"
    r"enviado|lähetetty|vastaanottaja|cc|kopi|kopia)\s*:",
    re.IGNORECASE,
)
# A date or subject line: one of these after "Fra:" is enough ("Til:", "A:" alone are not)
_HEADER_STRONG = re.compile(
    r"^\s*\**\s*(sendt|sent|dato|date|datum|gesendet|skickat|inviato|envoyé|verzonden|enviado|"
    r"lähetetty|emne|subject|betreff|ämne|oggetto|objet|onderwerp|asunto|aihe)\s*:",
    re.IGNORECASE,
)
_WROTE_END = re.compile(
    r"\b(skrev|wrote|schrieb|kirjoitti|geschreven|écrit|scritto|escribió|skrifaði)\b[^:\n]{0,80}:\s*$",
    re.IGNORECASE,
)
# "Sendt fra min iPhone" and its siblings: a line a phone writes, after which only quotes follow
_MOBILE_FOOTER = re.compile(
    r"^\s*("
    r"sendt fra (min|mit) [^\n]{1,40}|sent from my [^\n]{1,40}|skickat från min [^\n]{1,40}|"
    r"von meinem [^\n]{1,40} gesendet|inviato da [^\n]{1,40}|envoyé de mon [^\n]{1,40}|"
    r"enviado desde mi [^\n]{1,40}|verzonden met mijn [^\n]{1,40}|lähetetty [^\n]{1,30}sta|"
    r"sent frá mínum [^\n]{1,40}|sendt fra [^\n]{0,30}(mail|outlook|gmail|yahoo)[^\n]{0,40}|"
    r"(hent|få|get|download) outlook (til|for) [^\n]{1,60}"
    r")\s*$",
    re.IGNORECASE,
)
_QUOTED = re.compile(r"^\s*>")

# --- the sign-off, signature and disclaimer ----------------------------------------------------

_CLOSING_WORDS = (
    r"(med\s+)?(venlig(st)?|venlige|bedste|mange|kærlig(e)?|de\s+bedste)\s+(hilsen|hilsner)|"
    r"mvh|vh|kh|m\.?v\.?h|hilsen|hilsner|"
    r"(med\s+)?(vänlig(a)?|bästa)\s+hälsning(ar)?|hälsningar|vänligen|"
    r"på\s+\S+\s+vegne|på\s+vegne\s+af\s+\S+|på\s+forhånd\s+tak|tak|"
    r"(many\s+)?thanks|thank\s+you|"
    r"(med\s+)?vennlig(\s+hilsen)?|"
    r"(mit\s+)?(freundlichen|besten|herzlichen|viele|liebe)\s+grü(ß|ss)en?|"
    r"(kind|best|warm)(est)?\s+regards|regards|best|cheers|sincerely|yours sincerely|"
    r"cordiali saluti|distinti saluti|saluti|cordialement|bien à vous|saludos|un saludo|"
    r"met vriendelijke groet(en)?|ystävällisin terveisin|terveisin|kveðja|bestu kveðjur"
)
# A closing on its own line, possibly "Best regards / Venlig hilsen"
CLOSING = re.compile(
    rf"^\s*({_CLOSING_WORDS})\s*[,.!]*\s*(/\s*({_CLOSING_WORDS})\s*[,.!]*\s*)?$", re.IGNORECASE
)
# A closing followed by the name on the same line: "Mvh. Jens Hansen, formand", "Vh /Lone". Not
# the one-word closings that also begin ordinary lines ("Best Practice", "Tak Hans for …")
_NAMED_CLOSING_WORDS = (
    r"(med\s+)?(venlig(st)?|venlige|bedste|mange|kærlig(e)?|de\s+bedste)\s+(hilsen|hilsner)|"
    r"mvh|vh|kh|m\.?v\.?h|hilsen|hilsner|(med\s+)?(vänlig(a)?|bästa)\s+hälsning(ar)?|"
    r"(med\s+)?vennlig\s+hilsen|(mit\s+)?(freundlichen|besten|herzlichen|viele|liebe)\s+grü(ß|ss)en?|"
    r"(kind|best|warm)(est)?\s+regards|met vriendelijke groet(en)?|ystävällisin terveisin"
)
_CLOSING_WITH_NAME = re.compile(
    rf"^\s*(?i:{_NAMED_CLOSING_WORDS})\b\s*[,.!]*\s*/?\s*[A-ZÆØÅÄÖÜ][^\n.!?]{{0,100}}$"
)
_SIG_DASHES = re.compile(r"^-- ?$")
_DISCLAIMER = re.compile(
    r"fortrolig|confidential|privileged|vertraulich|konfidentiell|personoplysninger|"
    r"personal data|privatlivspolitik|privacy|persondata|tænk på miljøet|think before you print|"
    r"før du printer|before printing|if you have received|hvis du ikke er den rette modtager|"
    r"modtaget denne e-mail ved en fejl",
    re.IGNORECASE,
)
_PHONE = re.compile(r"(\+\d{2}\s*)?\b\d{2}\s?\d{2}\s?\d{2}\s?\d{2}\b")
_CONTACT = re.compile(
    r"^\s*(tlf|tel|telefon|mobil|mob|direkte|direct|phone|fax|e-?mail|mail|web|www|[mtef])"
    r"\s*[.:]|www\.|https?://|@|\|",
    re.IGNORECASE,
)
_NAME = re.compile(r"^\s*[A-ZÆØÅÄÖÜ][\w'’.-]+(\s+(v/|[A-ZÆØÅÄÖÜ][\w'’.-]+|af|von|van|de)){1,4}\s*$")
SIGNATURE_MAX_LINES = 12
SIGNATURE_MAX_LINE_CHARS = 100
SIGNATURE_BLOCK_MAX_LINES = 6


def trim_reply(text: str) -> str:
    """The sender's own words: no quoted reply, no reply header and history, no signature."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    cut = history_start(lines)
    if cut is not None:
        lines = _after_header(lines, cut)
    lines = [line for line in lines if not _QUOTED.match(line)]
    lines = _drop_disclaimer(_drop_blank_tail(lines))
    lines = _drop_signature(lines)
    answer = _tidy("\n".join(lines))
    return answer if answer.strip() else text


def history_start(lines: list[str]) -> int | None:
    """Index of the first line that starts the quoted history, or of a phone's footer."""
    for i, line in enumerate(lines):
        if _SEPARATOR.match(line) or _MOBILE_FOOTER.match(line):
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
    following = [line for line in window[1:5] if _HEADER_NEXT.match(line)]
    return len(following) >= 2 or any(_HEADER_STRONG.match(line) for line in following)


def _wrote_line(lines: list[str], i: int) -> bool:
    """``Den 3. okt. 2025 kl. 10.12 skrev Hans <h@x.dk>:`` — possibly wrapped over two lines."""
    line = lines[i]
    if len(line) > 300 or not line.strip():
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
    """True when own (non-quoted) text follows a quoted block, before any new header: answers
    written between quotes, or below the one passage the sender kept quoted."""
    seen_quote = False
    for i, line in enumerate(lines):
        if _QUOTED.match(line):
            seen_quote = True
        elif history_start(lines[i : i + 2]) == 0:
            return False
        elif line.strip() and seen_quote:
            return True
    return False


def _drop_blank_tail(lines: list[str]) -> list[str]:
    while lines and not lines[-1].strip():
        lines = lines[:-1]
    return lines


def _paragraphs(lines: list[str]) -> list[tuple[int, int]]:
    """(start, end) of each run of non-blank lines."""
    runs: list[tuple[int, int]] = []
    start: int | None = None
    for i, line in enumerate([*lines, ""]):
        if line.strip() and start is None:
            start = i
        elif not line.strip() and start is not None:
            runs.append((start, i))
            start = None
    return runs


def _drop_disclaimer(lines: list[str]) -> list[str]:
    """A trailing paragraph of legal or green boilerplate, when text stands before it."""
    runs = _paragraphs(lines)
    while len(runs) > 1 and _DISCLAIMER.search(" ".join(lines[runs[-1][0] : runs[-1][1]])):
        lines = _drop_blank_tail(lines[: runs[-1][0]])
        runs = runs[:-1]
    return lines


def _drop_signature(lines: list[str]) -> list[str]:
    """A short, plain tail after ``-- `` or a closing line, or a bare contact block, is cut."""
    for i in range(len(lines) - 1, -1, -1):
        line = lines[i]
        if _SIG_DASHES.match(line) or CLOSING.match(line) or _closing_with_name(line):
            tail = [t for t in lines[i + 1 :] if t.strip()]
            short = len(tail) <= SIGNATURE_MAX_LINES and all(len(t) <= SIGNATURE_MAX_LINE_CHARS for t in tail)
            if short and any(t.strip() for t in lines[:i]):
                return lines[:i]
            return lines
    return _drop_contact_block(lines)


def _closing_with_name(line: str) -> bool:
    """ "Mvh. Jens Hansen, formand": a closing word and a short name-like rest, no sentence."""
    if not _CLOSING_WITH_NAME.match(line) or len(line.split()) > 12:
        return False
    rest = line.split(None, 1)[1] if len(line.split()) > 1 else ""
    return not re.search(r"\b(til|fra|for|og|at|er|vi|jeg|the|to|from)\b", rest, re.IGNORECASE) or bool(
        _PHONE.search(rest)
    )


def _drop_contact_block(lines: list[str]) -> list[str]:
    """A last paragraph that is a name, then a title and a phone or web address: a signature."""
    runs = _paragraphs(lines)
    if len(runs) < 2:
        return lines
    start, end = runs[-1]
    block = lines[start:end]
    if len(block) < 2 or len(block) > SIGNATURE_BLOCK_MAX_LINES or not _NAME.match(block[0]):
        return lines
    if any(len(b) > SIGNATURE_MAX_LINE_CHARS or b.rstrip().endswith((".", "?", "!")) for b in block):
        return lines
    if not any(_CONTACT.search(b) or _PHONE.search(b) for b in block[1:]):
        return lines
    return _drop_blank_tail(lines[:start])


def _tidy(text: str) -> str:
    """Trailing spaces removed and runs of blank lines cut to one."""
    out: list[str] = []
    for line in (line.rstrip() for line in text.split("\n")):
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip("\n")
