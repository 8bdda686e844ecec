"""Read and validate a round file (TOML) and its party list (inline or CSV).

Every problem is collected and reported together, each naming the field or the CSV line, so a
case worker can fix the file in one go. Nothing here writes anything.
"""

from __future__ import annotations

import csv
import io
import re
import tomllib
from collections.abc import Iterable
from datetime import date, datetime
from pathlib import Path
from typing import Any

from flows.core.addresses import AddressError, normalise_address, normalise_domain
from flows.core.errors import RoundFileError
from flows.core.model import LatePolicy, PartySpec, RoundSpec

ROUND_ID = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,78}[a-z0-9])?$")
OFFSET = re.compile(r"^\d+[dh]$")
REQUIRED_TEXT = ("title", "subject", "administration", "consulted_body", "reply_to")
MAX_CSV_BYTES = 5 * 1024 * 1024


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
        raise RoundFileError(str(path), problems)
    return spec


def _validate(data: dict[str, Any], base: Path, problems: list[str]) -> RoundSpec | None:
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
    )


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


def _documents(value: Any, base: Path, problems: list[str]) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.append("feltet 'documents' skal være en liste af filnavne")
        return ()
    found: list[str] = []
    for name in value:
        path = (base / name).resolve()
        if not path.is_file():
            problems.append(f"dokumentet i 'documents' findes ikke: {name}")
        else:
            found.append(str(path))
    return tuple(found)


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


def _parties(value: Any, base: Path, problems: list[str]) -> tuple[PartySpec, ...]:
    if value is None:
        problems.append("feltet 'parties' mangler")
        return ()
    if isinstance(value, str):
        rows = _csv_rows(base / value, value, problems)
    elif isinstance(value, list) and all(isinstance(v, dict) for v in value):
        rows = [(f"parties[{i}]", entry) for i, entry in enumerate(value)]
    else:
        problems.append("feltet 'parties' skal være en liste eller navnet på en CSV-fil")
        return ()
    if not rows and not problems:
        problems.append("høringen har ingen høringsparter")
    return _party_specs(rows, problems)


def _party_specs(rows: Iterable[tuple[str, dict[str, Any]]], problems: list[str]) -> tuple[PartySpec, ...]:
    parties: list[PartySpec] = []
    owner: dict[str, str] = {}
    names: dict[str, str] = {}
    for where, entry in rows:
        name = str(entry.get("name") or "").strip()
        if not name:
            problems.append(f"{where}: 'name' mangler")
            continue
        if name.casefold() in names:
            problems.append(f"{where}: høringsparten {name!r} står to gange ({names[name.casefold()]})")
            continue
        names[name.casefold()] = where
        emails = _split(entry.get("email"))
        domains = _split(entry.get("domains"))
        if not emails and not domains:
            problems.append(f"{where}: 'email' mangler for {name!r}")
        good: list[str] = []
        for raw in emails:
            try:
                address = normalise_address(raw)
            except AddressError:
                problems.append(f"{where}: ugyldig e-mailadresse {raw!r} for {name!r}")
                continue
            if address in owner:
                problems.append(f"{where}: adressen {address} står både ved {owner[address]!r} og {name!r}")
                continue
            owner[address] = name
            good.append(address)
        good_domains: list[str] = []
        for raw in domains:
            try:
                domain = normalise_domain(raw.lstrip("@"))
            except ValueError:
                problems.append(f"{where}: ugyldigt domæne {raw!r} for {name!r}")
                continue
            key = "@" + domain
            if key in owner:
                problems.append(f"{where}: domænet {domain} står både ved {owner[key]!r} og {name!r}")
                continue
            owner[key] = name
            good_domains.append(domain)
        parties.append(PartySpec(name=name, emails=tuple(good), domains=tuple(good_domains)))
    return tuple(parties)


def _split(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    return [part.strip() for part in re.split(r"[;,\s]+", str(value)) if part.strip()]


def _csv_rows(path: Path, label: str, problems: list[str]) -> list[tuple[str, dict[str, Any]]]:
    try:
        if path.stat().st_size > MAX_CSV_BYTES:
            problems.append(f"{label}: partslisten er for stor (over 5 MB)")
            return []
        raw = path.read_bytes()
    except OSError:
        problems.append(f"partslisten {label} findes ikke eller kan ikke læses")
        return []
    text = _decode_csv(raw)
    if text is None:
        problems.append(f"{label}: kan ikke læses som tekst (hverken UTF-8 eller Windows-1252)")
        return []
    if "\x00" in text:
        problems.append(f"{label}: er ikke en CSV-fil (indeholder binære data)")
        return []
    first = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first.count)
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    if "name" not in header or "email" not in header:
        problems.append(f"{label} linje 1: kolonnerne 'name' og 'email' skal være der (fandt {header})")
        return []
    reader.fieldnames = header
    rows: list[tuple[str, dict[str, Any]]] = []
    try:
        for row in reader:
            if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
                continue
            if None in row:
                problems.append(f"{label} linje {reader.line_num}: for mange felter")
                continue
            rows.append((f"{label} linje {reader.line_num}", row))
    except csv.Error as exc:
        problems.append(f"{label} linje {reader.line_num}: {exc}")
    return rows


def _decode_csv(raw: bytes) -> str | None:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None
