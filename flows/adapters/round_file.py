"""Read and validate a round file (TOML) and its party list (inline, CSV or Excel).

Every problem is collected and reported together, each naming the field, the CSV line or the
sheet row, so a case worker can fix the file in one go. Nothing here writes anything.

A round file can only reach files in its own folder: documents and the party list must resolve
inside it (no "..", no absolute path, no symlink that leads out), and documents must be regular
files of the kinds a draft is (.pdf, .docx, .odt, .xlsx) whose bytes match their name. The
documents are attached to every invitation sent to outside parties; without this, a round file
could mail any file the server can read, another round's database of responses included.
"""

from __future__ import annotations

import difflib
import re
import stat
import tomllib
from datetime import date, datetime
from pathlib import Path
from typing import Any

from flows.adapters.party_list import party_specs, read_party_file
from flows.core.addresses import AddressError, normalise_address
from flows.core.errors import RoundFileError
from flows.core.model import DEFAULT_RETENTION, LatePolicy, NoteLayout, PartySpec, RoundSpec

ROUND_ID = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,78}[a-z0-9])?$")
OFFSET = re.compile(r"^\d+[dh]$")
KLE_NUMBER = re.compile(r"^\d{2}\.\d{2}\.\d{2}$")
KLE_FACET = re.compile(r"^[A-Z]\d{2}$")
DURATION = re.compile(
    r"^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$"
)
MAX_PROBLEMS = 25
REQUIRED_TEXT = ("title", "subject", "administration", "consulted_body", "reply_to")
ROUND_KEYS = (
    *("id", "title", "subject", "administration", "consulted_body", "opens", "deadline"),
    *("reply_to", "contact", "documents", "reminders", "late_policy", "note_layout"),
    *("kle", "facet", "retention", "parties"),
)
PARTY_KEYS = ("name", "email", "domains", "person")
# Keys a Danish case worker may well write: suggested even though difflib finds them far apart.
DANISH_KEYS = {
    "titel": "title",
    "emne": "subject",
    "forvaltning": "administration",
    "frist": "deadline",
    "høringsfrist": "deadline",
    "dokumenter": "documents",
    "påmindelser": "reminders",
    "parter": "parties",
    "høringsparter": "parties",
    "navn": "name",
    "domæner": "domains",
}
DOCUMENT_SUFFIXES = (".pdf", ".docx", ".odt", ".xlsx")


def load_round_file(path: Path) -> RoundSpec:
    """The validated round, or RoundFileError listing every problem."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise RoundFileError(str(path), [f"kan ikke læses: {exc.strerror}"]) from exc
    try:
        data = tomllib.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise RoundFileError(str(path), ["filen er ikke UTF-8"]) from exc
    except tomllib.TOMLDecodeError as exc:
        raise RoundFileError(str(path), [f"ugyldig TOML: {exc}"]) from exc
    problems: list[str] = []
    spec = _validate(data, path.parent.resolve(), problems)
    if problems or spec is None:
        # A list of 50,000 bad rows is still one readable line: the first problems, then a count.
        more = len(problems) - MAX_PROBLEMS
        shown = problems[:MAX_PROBLEMS] + ([f"… og {more} problemer mere"] if more > 0 else [])
        raise RoundFileError(str(path), shown)
    return spec


def _validate(data: dict[str, Any], base: Path, problems: list[str]) -> RoundSpec | None:
    _unknown_keys(data, ROUND_KEYS, "", problems)
    round_id = data.get("id")
    if round_id is None:
        problems.append("feltet 'id' mangler")
    elif not isinstance(round_id, str) or not ROUND_ID.match(round_id):
        problems.append(f"feltet 'id' er ugyldigt ({round_id!r}): kun a-z, 0-9 og '-'")
    texts = {name: _text(data, name, problems) for name in REQUIRED_TEXT}
    reply_to = _address(texts["reply_to"], "reply_to", problems) if texts["reply_to"] else None
    contact = data.get("contact")
    if contact is not None:
        contact = _address(str(contact), "contact", problems)
    opens = _datetime(data, "opens", problems)
    deadline = _datetime(data, "deadline", problems)
    if opens and deadline and deadline <= opens:
        problems.append("feltet 'deadline' skal ligge efter 'opens'")
    documents = _documents(data.get("documents", []), base, problems)
    reminders = _reminders(data.get("reminders", []), problems)
    late_policy = _late_policy(data.get("late_policy", "flag"), problems)
    note_layout = _note_layout(data.get("note_layout", NoteLayout.BY_PARTY.value), problems)
    kle = _coded(data, "kle", KLE_NUMBER, '"00.01.00"', problems)
    facet = _coded(data, "facet", KLE_FACET, '"G01"', problems)
    retention = _retention(data.get("retention", DEFAULT_RETENTION), problems)
    parties = _parties(data.get("parties"), base, problems)
    if problems or not isinstance(round_id, str) or not opens or not deadline or not reply_to:
        return None
    return RoundSpec(
        id=round_id,
        title=texts["title"] or "",
        subject=texts["subject"] or "",
        administration=texts["administration"] or "",
        consulted_body=texts["consulted_body"] or "",
        opens=opens,
        deadline=deadline,
        reply_to=reply_to,
        documents=documents,
        reminders=reminders,
        late_policy=late_policy,
        parties=parties,
        contact=contact,
        source_dir=str(base),
        note_layout=note_layout,
        kle=kle,
        facet=facet,
        retention=retention,
    )


def _unknown_keys(table: dict[str, Any], known: tuple[str, ...], where: str, problems: list[str]) -> None:
    """Refuse keys the round file does not have: a misspelt key would otherwise do nothing."""
    for key in table:
        if key in known:
            continue
        guess = DANISH_KEYS.get(key.casefold())
        if guess is None or guess not in known:
            close = difflib.get_close_matches(key.casefold(), known, n=1, cutoff=0.6)
            guess = close[0] if close else None
        hint = f" – mente du {guess!r}?" if guess else f" (kendte felter: {', '.join(known)})"
        problems.append(f"{where}ukendt felt {key!r}{hint}")


def _text(data: dict[str, Any], name: str, problems: list[str]) -> str | None:
    value = data.get(name)
    if value is None:
        problems.append(f"feltet '{name}' mangler")
        return None
    if not isinstance(value, str) or not value.strip():
        problems.append(f"feltet '{name}' skal være en tekst")
        return None
    if any(ch in value for ch in "\r\n\x00"):
        problems.append(f"feltet '{name}' må ikke indeholde linjeskift")
        return None
    return value.strip()


def _address(value: str, name: str, problems: list[str]) -> str | None:
    try:
        return normalise_address(value)
    except AddressError:
        problems.append(f"feltet '{name}' er ikke en gyldig e-mailadresse ({value!r})")
        return None


def _datetime(data: dict[str, Any], name: str, problems: list[str]) -> datetime | None:
    value = data.get(name)
    if value is None:
        problems.append(f"feltet '{name}' mangler")
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            problems.append(f"feltet '{name}' er ikke et tidspunkt ({value!r})")
            return None
    if isinstance(value, date) and not isinstance(value, datetime):
        problems.append(f"feltet '{name}' skal være dato og klokkeslæt med UTC-offset")
        return None
    if not isinstance(value, datetime):
        problems.append(f"feltet '{name}' er ikke et tidspunkt")
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        problems.append(f"feltet '{name}' mangler UTC-offset (fx {value.isoformat()}+02:00)")
        return None
    return value


# --------------------------------------------------------------------------- files of the round


def contained_file(base: Path, entry: str, field: str, problems: list[str]) -> Path | None:
    """``entry`` resolved inside ``base`` as an existing regular file, or None with the problem.

    Resolving follows every symlink on the way, so a link (or a linked folder) that leads out of
    the round's folder ends outside it and is refused like "../" or an absolute path.
    """
    if not entry.strip() or "\x00" in entry:
        problems.append(f"{field}: tomt eller ugyldigt filnavn {entry!r}")
        return None
    if Path(entry).is_absolute():
        problems.append(f"{field}: {entry!r} er en absolut sti; kun filer i rundefilens mappe kan bruges")
        return None
    try:
        target = (base / entry).resolve()
    except (OSError, RuntimeError):  # a symlink loop, a path too long
        problems.append(f"{field}: filen kan ikke læses: {entry!r}")
        return None
    if not target.is_relative_to(base):
        problems.append(f"{field}: {entry!r} ligger uden for rundefilens mappe og kan ikke bruges")
        return None
    try:
        mode = target.stat().st_mode
    except FileNotFoundError:
        problems.append(f"{field}: filen findes ikke: {entry!r}")
        return None
    except OSError:
        problems.append(f"{field}: filen kan ikke læses: {entry!r}")
        return None
    if not stat.S_ISREG(mode):
        problems.append(f"{field}: {entry!r} er ikke en almindelig fil")
        return None
    return target


def _documents(value: Any, base: Path, problems: list[str]) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.append("feltet 'documents' skal være en liste af filnavne")
        return ()
    found: list[str] = []
    for name in value:
        path = contained_file(base, name, "documents", problems)
        if path is None:
            continue
        # Both the name written and the file it leads to: a link "udkast.pdf" to a database is not a PDF.
        if Path(name).suffix.lower() not in DOCUMENT_SUFFIXES or path.suffix.lower() not in DOCUMENT_SUFFIXES:
            problems.append(f"documents: {name!r} er ikke et dokument af typen .pdf, .docx, .odt eller .xlsx")
        elif not _content_matches(path):
            problems.append(
                f"documents: indholdet af {name!r} passer ikke til filtypen {path.suffix.lower()}"
            )
        else:
            found.append(str(path))
    return tuple(found)


def _content_matches(path: Path) -> bool:
    """A PDF starts with "%PDF" (within its first KB); .docx, .odt and .xlsx are ZIP files."""
    try:
        with path.open("rb") as handle:
            head = handle.read(1024)
    except OSError:
        return False
    if path.suffix.lower() == ".pdf":
        return b"%PDF" in head
    return head.startswith(b"PK\x03\x04")


# --------------------------------------------------------------------------- other fields


def _reminders(value: Any, problems: list[str]) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.append('feltet \'reminders\' skal være en liste som ["3d", "1d"]')
        return ()
    bad = [v for v in value if not OFFSET.match(v)]
    if bad:
        problems.append(f'feltet \'reminders\' har ugyldige værdier {bad}: brug fx "3d" eller "12h"')
    return tuple(dict.fromkeys(v for v in value if OFFSET.match(v)))


def _late_policy(value: Any, problems: list[str]) -> LatePolicy:
    try:
        return LatePolicy(value)
    except ValueError:
        problems.append(f'feltet \'late_policy\' skal være "flag" eller "exclude" ({value!r})')
        return LatePolicy.FLAG


def _note_layout(value: Any, problems: list[str]) -> NoteLayout:
    try:
        return NoteLayout(value)
    except ValueError:
        problems.append(f'feltet \'note_layout\' skal være "by_party" eller "by_section" ({value!r})')
        return NoteLayout.BY_PARTY


def _coded(
    data: dict[str, Any], name: str, form: re.Pattern[str], example: str, problems: list[str]
) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    text = value.strip().upper() if isinstance(value, str) else None
    if text is None or not form.match(text):
        problems.append(f"feltet '{name}' har ikke den rette form ({value!r}): skriv fx {example}")
        return None
    return text


def _retention(value: Any, problems: list[str]) -> str:
    """An ISO 8601 duration longer than zero, such as "P5Y", "P18M" or "P1Y6M"."""
    text = value.strip().upper() if isinstance(value, str) else ""
    found = DURATION.match(text)
    if found is None or not any(found.groups()) or not any(int(g) for g in found.groups() if g):
        problems.append(f"feltet 'retention' skal være en ISO 8601-varighed over nul, fx \"P5Y\" ({value!r})")
        return DEFAULT_RETENTION
    return text


# --------------------------------------------------------------------------- parties


def _parties(value: Any, base: Path, problems: list[str]) -> tuple[PartySpec, ...]:
    if value is None:
        problems.append("feltet 'parties' mangler")
        return ()
    if isinstance(value, str):
        path = contained_file(base, value, "parties", problems)
        if path is None:
            return ()
        rows = read_party_file(path, value, problems)
    elif isinstance(value, list) and all(isinstance(v, dict) for v in value):
        rows = [(f"parties[{i}]", entry) for i, entry in enumerate(value)]
        for where, entry in rows:
            _unknown_keys(entry, PARTY_KEYS, f"{where}: ", problems)
    else:
        problems.append("feltet 'parties' skal være en liste eller navnet på en CSV- eller Excel-fil")
        return ()
    if not rows and not problems:
        problems.append("høringen har ingen høringsparter")
    return party_specs(rows, problems)
