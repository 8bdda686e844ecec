"""parse_message against real-world corpora: imap_tools' messages with expected values, sisimai bounces."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pytest

from flows.adapters.mailparse import parse_message
from flows.adapters.mime_body import FORWARD_MARKER
from flows.core.bodytext import normalise_whitespace

CORPORA = Path(__file__).resolve().parents[2].parent / "shared" / "corpora"
IMAP_TOOLS = CORPORA / "email" / "imap_tools" / "tests"
SISIMAI = CORPORA / "bounces" / "sisimai"

# Expectations we do not meet on purpose, per file and field, with the reason.
KNOWN_DIFFERENCES: dict[str, dict[str, str]] = {
    "attachment_2_base64": {
        "text": "imap_tools reports a base64-encoded message/rfc822 part as raw base64 text; we decode it",
    },
    "error_emails/content_transfer_encoding_7-bit": {
        "text": "imap_tools keeps the C1 control \\x86; we read it as windows-1252 (†), per WHATWG",
    },
    "error_emails/content_transfer_encoding_plain": {
        "text": "imap_tools drops undecodable bytes; we decode them (no character is lost)",
    },
    "plain_emails/raw_email6": {"text": "imap_tools drops the é of 'Envoyé'; we keep it"},
    "error_emails/invalid_subject_characters": {
        "subject": "imap_tools drops ç/ã from the subject; we keep them"
    },
    "rfc2822/example14": {
        "subject": "RFC 2047 keeps the space between plain text and an encoded word; imap_tools removes it",
    },
    "error_emails/missing_content_disposition": {
        "attachments": "a nameless image without disposition is kept by us (nothing is dropped), not by imap_tools",
    },
    "text_with_content_id": {
        "attachments": "imap_tools treats a text/plain part with Content-ID as an attachment"
    },
    "mime_emails/raw_email11": {"from": "'xxxxx@xxxxx' has no dot in the domain: not a valid sender for us"},
    "plain_emails/mix_caps_content_type": {"from": "'Big Bug bb@bug.com' is not an RFC 5322 address"},
    "rfc6532/utf8_headers": {
        "from": "flows.core.addresses.normalise_address rejects a non-ASCII (RFC 6532) local part",
    },
    # Bounces: our body is the human-readable DSN part only; imap_tools also appends the returned
    # message's text and lists the returned message as an attachment.
    "mime_emails/raw_email_with_mimepart_without_content_type": {"text": "DSN", "attachments": "DSN"},
    "multipart_report_emails/multi_address_bounce1": {"text": "DSN", "attachments": "DSN"},
    "multipart_report_emails/multi_address_bounce2": {"text": "DSN", "attachments": "DSN"},
    "multipart_report_emails/multipart_report_multiple_status": {
        "text": "DSN whose human text sits inside message/delivery-status",
        "attachments": "DSN",
    },
}

_FORWARD_BLOCK = re.compile(re.escape(FORWARD_MARKER) + r"\n(?:(?:Fra|Dato|Emne): [^\n]*\n)*")


def corpus(path: Path) -> Path:
    if not path.is_dir():
        pytest.skip("../shared/corpora is absent: the real-world corpus is not checked out beside the repo")
    return path


def imap_tools_messages() -> list[Path]:
    root = IMAP_TOOLS / "messages"
    return sorted(root.rglob("*.eml")) if root.is_dir() else []


def expected(eml: Path) -> dict[str, Any]:
    """The DATA dict of imap_tools' expectation file, read with ast (it imports imap_tools)."""
    rel = eml.relative_to(IMAP_TOOLS / "messages").with_suffix(".py")
    tree = ast.parse((IMAP_TOOLS / "messages_data" / rel).read_text(encoding="utf-8"))
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.targets[0], ast.Name)
            and node.targets[0].id == "DATA"
        ):
            assert isinstance(node.value, ast.Call)
            return _data_fields(node.value)
    raise AssertionError(f"no DATA in {rel}")


def _data_fields(call: ast.Call) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for keyword in call.keywords:
        if keyword.arg in ("subject", "from_", "text", "html"):
            out[keyword.arg] = ast.literal_eval(keyword.value)
        elif keyword.arg == "attachments":
            assert isinstance(keyword.value, ast.List)
            out["attachments"] = [_filename(element) for element in keyword.value.elts]
    return out


def _filename(element: ast.expr) -> str:
    assert isinstance(element, ast.Call)
    for keyword in element.keywords:
        if keyword.arg == "filename":
            return str(ast.literal_eval(keyword.value))
    return ""


def key(eml: Path) -> str:
    return eml.relative_to(IMAP_TOOLS / "messages").with_suffix("").as_posix()


@pytest.mark.parametrize("eml", imap_tools_messages(), ids=key)
def test_imap_tools_message(eml: Path) -> None:
    """Each imap_tools message parses, and subject, sender, text and attachment names match."""
    corpus(IMAP_TOOLS)
    data = expected(eml)
    skip = KNOWN_DIFFERENCES.get(key(eml), {})
    parsed = parse_message(eml.read_bytes())
    assert not any(p.startswith("Beskeden kunne ikke læses") for p in parsed.problems), parsed.problems
    if "subject" not in skip:
        assert normalise_whitespace(parsed.subject) == normalise_whitespace(data["subject"])
    if "from" not in skip:
        assert (parsed.from_address or "") == data["from_"].lower()
    if "text" not in skip and data["text"]:
        ours = _FORWARD_BLOCK.sub("", parsed.body_text)
        assert normalise_whitespace(ours) == normalise_whitespace(data["text"])
    if "text" not in skip and not data["text"] and data["html"]:
        assert parsed.body_text.strip() or not _visible(data["html"])
    if "attachments" not in skip:
        names = [a.display_name for a in parsed.attachments]
        assert len(names) == len(data["attachments"])
        assert {n for n in data["attachments"] if n} <= set(names)


def _visible(html: str) -> bool:
    return bool(re.sub(r"<[^>]*>|&nbsp;|\s", "", re.sub(r"(?is)<(style|script|head).*?</\1>", "", html)))


def test_imap_tools_corpus_present_and_parsed() -> None:
    """The whole imap_tools corpus is there and parses (attachment inspection included)."""
    files = imap_tools_messages()
    if not files:
        corpus(IMAP_TOOLS / "messages")
    parsed = [parse_message(f.read_bytes()) for f in files]
    assert len(parsed) == len(files) > 0


def test_known_differences_are_real_files() -> None:
    """Every file named in KNOWN_DIFFERENCES exists, so the list cannot silently rot."""
    corpus(IMAP_TOOLS)
    names = {key(f) for f in imap_tools_messages()}
    assert set(KNOWN_DIFFERENCES) <= names


def test_sisimai_bounces() -> None:
    """Every sisimai bounce parses without an exception escaping."""
    root = corpus(SISIMAI)
    files = sorted(f for f in root.rglob("*") if f.is_file() and f.name != "LICENSE")
    assert files
    reports = 0
    for path in files:
        parsed = parse_message(path.read_bytes())
        assert not any(p.startswith("Beskeden kunne ikke læses") for p in parsed.problems), path.name
        reports += bool(parsed.delivery_reports)
    assert reports > len(files) // 4  # most of the set are RFC 3464 DSNs
