"""Sender trust: which ``Authentication-Results`` headers we believe, and what they say.

Pure: reads header names and values in file order, nothing else.

**What is believed.** Only a header named exactly ``Authentication-Results`` counts
(``ARC-Authentication-Results``, Microsoft's ``Authentication-Results-Original`` and the like
record what *other* servers found and are never believed). Of those, the topmost whose
authserv-id is ours anchors the verdict, wherever it stands relative to ``Received:`` —
Postfix milters (OpenDKIM, OpenDMARC) and Gmail write it just below their own ``Received:``,
rspamd under Exim above it, Microsoft 365 among its internal hops. Ours is the topmost because
a receiving server prepends its headers while a sender can only add headers below the ones it
hands over; a forged header that claims our id therefore stands below ours and is ignored.

**Split headers.** Several filters of one server each write their own header (OpenDKIM one
for dkim, OpenDMARC one for dmarc). The believed set is the anchor plus every further header
with our id that follows it before any ``Received:`` header or any ``Authentication-Results``
header of another (or no) authserv-id: headers of one hop, written by our server, standing
together above anything the sender wrote. For each method the topmost header of the set that
reports it decides, so a header a sender plants right below ours cannot overrule a method our
server reported. (A sender that talks SMTP straight to our server writes no ``Received:`` of
its own, so a header it planted for a method our server does *not* report would join the set:
the server must remove incoming headers that claim its authserv-id, as RFC 8601 §5 requires,
and must always write one of its own — if it wrote none, a planted one would be the topmost.
The operators' guide says so. No further check against the ``Received:`` headers is made:
where a server puts its header varies too much — Exim can append it at the very end of the
header block — for position to tell ours from a planted one when ours is missing.)

**Microsoft 365** writes its header without any authserv-id
(``spf=pass (sender IP is …) smtp.mailfrom=…; dkim=pass … header.d=…;dmarc=pass action=none
header.from=…;compauth=pass reason=100``), sometimes with bare domain names as clauses of their
own. ``HOERING_AUTHSERV_ID=exchange-online`` selects that form: ours is then the topmost header
whose first clause is a ``method=result``.

**Parsing** follows the RFC 8601 grammar: comments (nested, with quoted pairs) and folding
white space are skipped, quoted strings are values, the authserv-id may carry a version, a
clause may be ``none``, a method may carry ``/version``; a method is only ever read at the
start of a ``;`` clause, so a property value (``smtp.mailfrom=dkim=pass@evil.test``, which
the sender chooses) can never pass for a result. ``authres`` (PyPI) was weighed: it is strict,
refuses Microsoft's id-less form outright and was last released in 2019, so this small
tolerant parser is kept instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

EXCHANGE_ONLINE = "exchange-online"
AR_HEADER = "authentication-results"
_SPECIALS = frozenset(';=./@"(')
_DIGITS = re.compile(r"\d+")
# keys that appear without a ptype: RFC 8601's reasonspec, and Microsoft's action=
_BARE_KEYS = frozenset({"reason", "action"})


class Trust(StrEnum):
    """The verdict on a sender: ``fail`` is unverified, ``pass`` authenticated the From domain."""

    PASS = "pass"  # noqa: S105 (a verdict, not a password)
    FAIL = "fail"
    NONE = "none"


@dataclass(frozen=True)
class Result:
    """One ``method=result`` with its properties (``header.d``, ``smtp.mailfrom``, ``reason``…)."""

    method: str
    result: str
    props: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Header:
    """One parsed ``Authentication-Results`` value; ``authserv_id`` is None in Microsoft's form."""

    authserv_id: str | None
    results: tuple[Result, ...]


# ---------------------------------------------------------------------------------------------
# tokens


def _tokens(value: str) -> list[tuple[str, str]]:
    """(kind, text): kind is "w" (word), "q" (quoted string) or the special character itself."""
    found: list[tuple[str, str]] = []
    i, n = 0, len(value)
    while i < n:
        char = value[i]
        if char.isspace():
            i += 1
        elif char == "(":
            i = _skip_comment(value, i)
        elif char == '"':
            text, i = _quoted(value, i)
            found.append(("q", text))
        elif char in _SPECIALS:
            found.append((char, char))
            i += 1
        else:
            start = i
            while i < n and not value[i].isspace() and value[i] not in _SPECIALS:
                i += 1
            found.append(("w", value[start:i]))
    return found


def _skip_comment(value: str, i: int) -> int:
    depth = 0
    while i < len(value):
        char = value[i]
        if char == "\\":
            i += 2
            continue
        depth += (char == "(") - (char == ")")
        i += 1
        if depth == 0:
            break
    return i


def _quoted(value: str, i: int) -> tuple[str, int]:
    chars: list[str] = []
    i += 1
    while i < len(value) and value[i] != '"':
        if value[i] == "\\" and i + 1 < len(value):
            i += 1
        chars.append(value[i])
        i += 1
    return "".join(chars), i + 1


def _clauses(tokens: list[tuple[str, str]]) -> list[list[tuple[str, str]]]:
    clauses: list[list[tuple[str, str]]] = [[]]
    for token in tokens:
        if token[0] == ";":
            clauses.append([])
        else:
            clauses[-1].append(token)
    return clauses


# ---------------------------------------------------------------------------------------------
# parsing


def parse(value: str) -> Header:
    """An ``Authentication-Results`` value, tolerant of what real servers write."""
    clauses = _clauses(_tokens(value))
    first = clauses[0]
    results: list[Result] = []
    if _method_at(first):
        authserv_id = None  # Microsoft's form: the first clause is already a result
        rest = clauses
    else:
        authserv_id = _authserv_id(first)
        rest = clauses[1:]
    for clause in rest:
        result = _result(clause)
        if result is not None:
            results.append(result)
        elif results and _key_at(clause, 0):
            # Microsoft sometimes puts a result's properties in a clause of their own
            results[-1].props.update(_props(clause, 0))
        # anything else (``none``, a bare domain clause) carries no result
    return Header(authserv_id, tuple(results))


def _authserv_id(clause: list[tuple[str, str]]) -> str:
    if not clause:
        return ""
    if clause[0][0] == "q":
        return clause[0][1].strip().lower()
    parts: list[str] = []
    for kind, text in clause:
        if kind == "w" and parts and parts[-1] != ".":
            break  # a word after a word: the version (``mx.example.com 1``)
        if kind not in ("w", ".", "@"):
            break
        parts.append(text)
    return "".join(parts).lower()


def _method_at(clause: list[tuple[str, str]]) -> bool:
    """methodspec: method [ "/" version ] "=" result."""
    kinds = [kind for kind, _ in clause[:5]]
    if kinds[:1] != ["w"]:
        return False
    if kinds[1:3] == ["/", "w"]:
        return kinds[3:5] == ["=", "w"]
    return kinds[1:3] == ["=", "w"]


def _result(clause: list[tuple[str, str]]) -> Result | None:
    if not _method_at(clause):
        return None
    method = clause[0][1].lower()
    at = 4 if clause[1][0] == "/" else 2
    result = clause[at][1].lower()
    return Result(method, result, _props(clause, at + 1))


def _key_at(clause: list[tuple[str, str]], i: int) -> int:
    """Length of a property key starting at ``i`` (``ptype.property=`` or ``reason=``), else 0."""
    kinds = [kind for kind, _ in clause[i : i + 4]]
    if kinds == ["w", ".", "w", "="]:
        return 3
    if kinds[:2] == ["w", "="] and clause[i][1].lower() in _BARE_KEYS:
        return 1
    return 0


def _props(clause: list[tuple[str, str]], i: int) -> dict[str, str]:
    props: dict[str, str] = {}
    while i < len(clause):
        width = _key_at(clause, i)
        if not width:
            i += 1  # stray token between properties
            continue
        key = "".join(text for _, text in clause[i : i + width]).lower()
        i += width + 1
        start = i
        while i < len(clause) and not _key_at(clause, i):
            i += 1
        props.setdefault(key, "".join(text for _, text in clause[start:i]))
    return props


# ---------------------------------------------------------------------------------------------
# which headers are believed


def believed(ordered: Iterable[tuple[str, str]], authserv_id: str) -> list[Header]:
    """Our contiguous set of headers (see the module text), topmost first; [] when there is none.

    ``ordered`` is every header as (lower-cased name, value) in file order; only
    ``authentication-results`` and ``received`` are looked at.
    """
    ours = authserv_id.strip().lower()
    found: list[Header] = []
    for name, value in ordered:
        if name == "received":
            if found:
                break
            continue
        if name != AR_HEADER:
            continue
        header = parse(value)
        if _is_ours(header, ours):
            found.append(header)
        elif found:
            break
    return found


def _is_ours(header: Header, ours: str) -> bool:
    if ours == EXCHANGE_ONLINE:
        return header.authserv_id is None
    return header.authserv_id == ours


# ---------------------------------------------------------------------------------------------
# the verdict


def verdict(headers: list[Header], from_address: str | None, authserv_id: str) -> Trust:
    """``fail``: dmarc=fail, spf=fail without an aligned dkim=pass, or (Microsoft) compauth=fail.

    ``pass`` means the From domain itself was authenticated: dmarc=pass (or Microsoft's
    compauth=pass), or a dkim=pass / spf=pass for the From domain. A pass for some other domain
    says nothing about who wrote the message, so it is not enough for a receipt.
    """
    decided = _per_method(headers)
    domain = (from_address or "").rpartition("@")[2].lower()
    dkim_pass = [r for r in decided.get("dkim", []) if r.result == "pass"]
    rescued = any(
        _aligned(r.props.get("header.d") or _at(r.props.get("header.i")), domain, True) for r in dkim_pass
    )
    if _any(decided, "dmarc", "fail") or (_any(decided, "spf", "fail") and not rescued):
        return Trust.FAIL
    if authserv_id.strip().lower() == EXCHANGE_ONLINE and _any(decided, "compauth", "fail"):
        return Trust.FAIL
    if _from_mismatch(decided, domain):
        return Trust.NONE  # the server judged another From than the one we read
    if _any(decided, "dmarc", "pass") or _any(decided, "dmarc", "bestguesspass"):
        return Trust.PASS
    if authserv_id.strip().lower() == EXCHANGE_ONLINE and _any(decided, "compauth", "pass"):
        return Trust.PASS
    if any(
        _aligned(r.props.get("header.d") or _at(r.props.get("header.i")), domain, False) for r in dkim_pass
    ):
        return Trust.PASS
    spf_pass = [r for r in decided.get("spf", []) if r.result == "pass"]
    if any(_aligned(_at(r.props.get("smtp.mailfrom")), domain, False) for r in spf_pass):
        return Trust.PASS
    return Trust.NONE


def _per_method(headers: list[Header]) -> dict[str, list[Result]]:
    """For each method, the results of the topmost header that reports it."""
    decided: dict[str, list[Result]] = {}
    for header in headers:
        here: dict[str, list[Result]] = {}
        for result in header.results:
            here.setdefault(result.method, []).append(result)
        for method, results in here.items():
            decided.setdefault(method, results)
    return decided


def _any(decided: dict[str, list[Result]], method: str, result: str) -> bool:
    return any(r.result == result for r in decided.get(method, []))


def _at(value: str | None) -> str:
    """The domain of ``local@domain``, ``@domain`` or a bare domain."""
    return (value or "").rpartition("@")[2]


def _aligned(claimed: str, domain: str, unknown: bool) -> bool:
    """Relaxed alignment without a public-suffix list: equal, or one a subdomain of the other.

    ``unknown`` is the answer when the server named no domain at all.
    """
    claimed = claimed.strip().strip(".").lower()
    if not claimed or not domain:
        return unknown
    return claimed == domain or domain.endswith("." + claimed) or claimed.endswith("." + domain)


def _from_mismatch(decided: dict[str, list[Result]], domain: str) -> bool:
    named = {
        r.props["header.from"].strip().lower() for r in decided.get("dmarc", []) if r.props.get("header.from")
    }
    return bool(named) and bool(domain) and domain not in named
